#!/usr/bin/env node
// Runs the compiled CLI (dist/, made by `npm run build`). In a checkout whose dist/ is missing or older
// than src/, it runs the TypeScript sources through tsx (a dev dependency) instead, so an edit is never
// shadowed by a stale build, whoever starts the command: a person, a test or a benchmark.
import { existsSync, readdirSync, statSync } from 'node:fs';

// Files the project writes (artifacts, reports, backend state, the Temporal database) are the owner's alone.
process.umask(0o077);

const stamp = new URL('../dist/.build-stamp', import.meta.url);
const sources = new URL('../src/', import.meta.url);

/** True when any file under `dir` changed after `since` (ms). */
function changedSince(dir, since) {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs > since) return true;
  }
  return false;
}

/** An installed package has no src/; a checkout runs dist/ only when it was built after the last edit. */
function runCompiled() {
  if (!existsSync(sources)) return true;
  return existsSync(stamp) && !changedSince(sources, statSync(stamp).mtimeMs);
}

let main;
if (runCompiled()) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
await main(process.argv);
