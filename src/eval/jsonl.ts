import { open, stat, truncate } from 'node:fs/promises';
import { jsonNestingExceeds, MAX_JSON_DEPTH } from '../dataset/json-depth';
import { MAX_LINE_BYTES, readLineBatches } from '../dataset/line-reader';

/** Why a line yielded no value: not JSON, longer than the reader keeps, or nested too deep to handle. */
export type JsonlLineProblem = 'invalid_json' | 'line_too_long' | 'nesting_too_deep';

export type JsonlLine =
  | { lineNumber: number; value: unknown; error: null; problem: null }
  | { lineNumber: number; value: null; error: string; problem: JsonlLineProblem };

/**
 * Streams a JSONL file line by line (1-based line numbers) through the bounded line reader, skipping
 * blank lines; never loads it whole, and a huge or deeply nested line is a reported problem, not a crash.
 */
export async function* readJsonl(file: string): AsyncGenerator<JsonlLine> {
  for await (const batch of readLineBatches(file)) {
    for (const raw of batch) {
      const lineNumber = raw.line;
      if (raw.bytes === null) {
        yield { lineNumber, value: null, error: `line ${lineNumber} has ${raw.length} bytes, over the ${MAX_LINE_BYTES}-byte limit`, problem: 'line_too_long' };
        continue;
      }
      const text = raw.bytes.toString('utf8');
      if (text.trim().length === 0) continue;
      if (jsonNestingExceeds(raw.bytes)) {
        yield { lineNumber, value: null, error: `line ${lineNumber} nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`, problem: 'nesting_too_deep' };
        continue;
      }
      try {
        yield { lineNumber, value: JSON.parse(text) as unknown, error: null, problem: null };
      } catch (err) {
        yield { lineNumber, value: null, error: err instanceof Error ? err.message : String(err), problem: 'invalid_json' };
      }
    }
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
