#!/usr/bin/env node
/**
 * `npm run build`: compiles src/ to dist/ with the TypeScript compiler (tsconfig.build.json), then writes
 * the workflow bundle the worker loads (dist/workflow-bundle.js) and dist/.build-stamp, which
 * bin/tuneflow.mjs compares with src/ to never run a stale build.
 *
 * The sources import each other without extensions (moduleResolution "Bundler", as tsx, vitest and the
 * workflow bundler read them); Node's ESM loader needs full paths, so the emit rewrites every relative
 * specifier to the file it resolves to (`./x` → `./x.js` or `./x/index.js`), in .js and .d.ts alike.
 */
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist');

/** `./x` as Node must see it from `fromFile`, or the specifier unchanged when it is not relative. */
function nodeSpecifier(spec, fromFile) {
  if (!spec.startsWith('./') && !spec.startsWith('../')) return spec;
  if (/\.(js|mjs|cjs|json)$/.test(spec)) return spec;
  const target = path.resolve(path.dirname(fromFile), spec);
  if (existsSync(`${target}.ts`)) return `${spec}.js`;
  if (existsSync(path.join(target, 'index.ts'))) return `${spec}/index.js`;
  throw new Error(`${path.relative(ROOT, fromFile)}: cannot resolve import ${JSON.stringify(spec)}`);
}

function rewriteSpecifiers(context) {
  const f = context.factory;
  return (sourceFile) => {
    const fromFile = sourceFile.fileName;
    const literal = (node) => f.createStringLiteral(nodeSpecifier(node.text, fromFile));
    const visit = (node) => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        return f.updateImportDeclaration(node, node.modifiers, node.importClause, literal(node.moduleSpecifier), node.attributes);
      }
      if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        return f.updateExportDeclaration(node, node.modifiers, node.isTypeOnly, node.exportClause, literal(node.moduleSpecifier), node.attributes);
      }
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
        return f.updateCallExpression(node, node.expression, node.typeArguments, [literal(node.arguments[0]), ...node.arguments.slice(1)]);
      }
      if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        const arg = f.updateLiteralTypeNode(node.argument, literal(node.argument.literal));
        return f.updateImportTypeNode(node, arg, node.attributes, node.qualifier, node.typeArguments, node.isTypeOf);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitNode(sourceFile, visit);
  };
}

function compile() {
  const configPath = path.join(ROOT, 'tsconfig.build.json');
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) throw new Error(ts.formatDiagnostic(read.error, formatHost));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT, undefined, configPath);
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, projectReferences: parsed.projectReferences });
  const before = ts.getPreEmitDiagnostics(program);
  if (before.length > 0) return before;
  const emitted = program.emit(undefined, undefined, undefined, false, { after: [rewriteSpecifiers], afterDeclarations: [rewriteSpecifiers] });
  return emitted.diagnostics;
}

const formatHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' };

const started = performance.now();
await rm(DIST, { recursive: true, force: true });
const diagnostics = compile();
if (diagnostics.length > 0) {
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost));
  process.exit(1);
}
// The compiled worker bundles the compiled workflows, with the same options it would use at start.
const { writeWorkflowBundle } = await import(pathToFileURL(path.join(DIST, 'worker.js')).href);
const bundle = await writeWorkflowBundle();
await writeFile(path.join(DIST, '.build-stamp'), `${new Date().toISOString()}\n`);
process.stderr.write(`tuneflow: built dist/ and ${path.relative(ROOT, bundle)} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
