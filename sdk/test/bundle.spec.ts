/**
 * What the mini-program's "build npm" step and old base libraries need of the built packages
 * (`npm run build:sdk`, which `npm test` runs first): one self-contained ES2015 module each.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { parse } from 'acorn';

const bundle = (name: string) => readFileSync(new URL(`../${name}/dist/index.js`, import.meta.url), 'utf8');

describe.each(['miniprogram', 'h5'])('the built %s package', (name) => {
  const code = bundle(name);

  it('is one ES2015 module that imports nothing', () => {
    // acorn refuses anything newer than its ecmaVersion: async functions, ?., ??, object spread…
    const program = parse(code, { ecmaVersion: 2015, sourceType: 'module' });
    expect(program.body.filter((node) => node.type === 'ImportDeclaration')).toEqual([]);
    expect(code).not.toMatch(/\brequire\(/);
  });

  it('stays under 8 KiB minified', () => {
    expect(code.length).toBeLessThan(8 * 1024);
    expect(gzipSync(code).length).toBeLessThan(4 * 1024);
  });
});

it('the mini-program package names its entry and its types for the build npm step', () => {
  const manifest = JSON.parse(readFileSync(new URL('../miniprogram/package.json', import.meta.url), 'utf8'));
  expect(manifest).toMatchObject({ main: 'dist/index.js', miniprogram: 'dist', types: 'dist/index.d.ts' });
  expect(manifest.dependencies).toBeUndefined();
  const types = readFileSync(new URL('../miniprogram/dist/index.d.ts', import.meta.url), 'utf8');
  expect(types).toContain('./types/miniprogram/src/index.js');
});
