import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Every run keeps its files in one folder named by its workflow id. */
export function runDir(artifactsDir: string, runId: string): string {
  if (!/^[A-Za-z0-9._:-]+$/.test(runId) || runId === '.' || runId === '..') throw new Error(`Run id ${JSON.stringify(runId)} has characters unsafe for a folder name`);
  return path.join(artifactsDir, runId);
}

/** Writes through a temp file and a rename, so a killed worker never leaves half a file behind. Owner-only: runs hold dataset facts. */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, file);
}
