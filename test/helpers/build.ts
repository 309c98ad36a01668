import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** True when dist/ was built after the last edit under src/ (the rule bin/tuneflow.mjs runs dist/ by). */
function distIsFresh(): boolean {
  const stamp = path.join(ROOT, 'dist/.build-stamp');
  if (!existsSync(stamp)) return false;
  const builtAt = statSync(stamp).mtimeMs;
  return !readdirSync(path.join(ROOT, 'src'), { withFileTypes: true, recursive: true }).some(
    (e) => e.isFile() && statSync(path.join(e.parentPath, e.name)).mtimeMs > builtAt,
  );
}

/** Runs `npm run build` unless dist/ is already a build of the sources as they are. */
export async function ensureBuilt(): Promise<void> {
  if (distIsFresh()) return;
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, maxBuffer: 16 << 20 }, (err, _out, stderr) => (err ? reject(new Error(`npm run build failed:\n${stderr}`)) : resolve()));
  });
}
