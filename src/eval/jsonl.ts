import { createReadStream } from 'node:fs';
import { open, stat, truncate } from 'node:fs/promises';
import { createInterface } from 'node:readline';

export type JsonlLine = { lineNumber: number; value: unknown; error: null } | { lineNumber: number; value: null; error: string };

/** Streams a JSONL file line by line (1-based line numbers), skipping blank lines; never loads it whole. */
export async function* readJsonl(file: string): AsyncGenerator<JsonlLine> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      if (line.trim().length === 0) continue;
      try {
        yield { lineNumber, value: JSON.parse(line) as unknown, error: null };
      } catch (err) {
        yield { lineNumber, value: null, error: err instanceof Error ? err.message : String(err) };
      }
    }
  } finally {
    lines.close();
  }
}

export async function fileExists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Cuts a trailing partial line (a write interrupted by a killed worker) so appends start on a fresh
 * line. Returns the number of bytes dropped. Reads only the file's tail.
 */
export async function dropTrailingPartialLine(file: string): Promise<number> {
  if (!(await fileExists(file))) return 0;
  const handle = await open(file, 'r');
  let keep = 0;
  let size = 0;
  try {
    size = (await handle.stat()).size;
    if (size === 0) return 0;
    const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
    let position = size;
    for (;;) {
      const length = Math.min(chunk.length, position);
      position -= length;
      await handle.read(chunk, 0, length, position);
      const newline = chunk.subarray(0, length).lastIndexOf(0x0a);
      if (newline >= 0) {
        keep = position + newline + 1;
        break;
      }
      if (position === 0) break;
    }
  } finally {
    await handle.close();
  }
  if (keep === size) return 0;
  await truncate(file, keep);
  return size - keep;
}
