// Builds the two client packages: each into ONE ES2015 module (the shared sdk/core compiled into
// it by esbuild, no runtime dependency) plus declarations from tsc (which type-checks the sources
// against the mini-program's and the browser's types). Prints each bundle's size.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = `${root}node_modules/typescript/bin/tsc`;
const quiet = process.argv.includes('--quiet');

for (const name of ['miniprogram', 'h5']) {
  const dir = `${root}sdk/${name}`;
  rmSync(`${dir}/dist`, { recursive: true, force: true });
  await build({
    entryPoints: [`${dir}/src/index.ts`],
    outfile: `${dir}/dist/index.js`,
    bundle: true,
    format: 'esm',
    target: 'es2015',
    platform: 'neutral',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  execFileSync(process.execPath, [tsc, '-p', `${dir}/tsconfig.json`], { stdio: 'inherit' });
  writeFileSync(`${dir}/dist/index.d.ts`, `export * from './types/${name}/src/index.js';\n`);
  const code = readFileSync(`${dir}/dist/index.js`);
  if (!quiet) {
    const kib = (n) => `${(n / 1024).toFixed(2)} KiB`;
    console.error(
      `sdk/${name}/dist/index.js: ${kib(code.length)} minified, ${kib(gzipSync(code).length)} gzip`,
    );
  }
}
