import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertRunKey } from './store/keys';

/**
 * A run's folder: `<artifacts>/<workflow id>/<first run id>` (the run key, see runArtifactsKey), or
 * `<artifacts>/<workflow id>` for runs before 0.2. Every segment must be a plain name, so no key can
 * reach outside the artifacts folder.
 */
export function runDir(artifactsDir: string, runKey: string): string {
  return path.join(artifactsDir, ...assertRunKey(runKey).split('/'));
}

/** Writes through a temp file and a rename, so a killed worker never leaves half a file behind. Owner-only: runs hold dataset facts. */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, file);
}
