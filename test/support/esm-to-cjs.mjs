// Jest transformer: compiles an ESM-only dependency that a CommonJS dependency require()s down to
// CommonJS (jest on Node < 24.9 cannot require() ESM: "Must use import to load ES Module").
// Only for stateless leaf packages such as content-disposition (required by @fastify/static): a
// second copy of a package with identity (classes used as DI tokens, e.g. @nestjs/*) would break.
import ts from 'typescript';

export default {
  process(sourceText, sourcePath) {
    const { outputText, sourceMapText } = ts.transpileModule(sourceText, {
      fileName: sourcePath,
      compilerOptions: {
        allowJs: true,
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        sourceMap: true,
        inlineSources: true,
      },
    });
    return { code: outputText, map: sourceMapText };
  },
};
