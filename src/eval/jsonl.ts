import { jsonNestingExceeds, MAX_JSON_DEPTH } from '../dataset/json-depth';
import { MAX_LINE_BYTES, readLineBatches } from '../dataset/line-reader';
import type { ByteSource } from '../store/types';

/** Why a line yielded no value: not JSON, longer than the reader keeps, or nested too deep to handle. */
export type JsonlLineProblem = 'invalid_json' | 'line_too_long' | 'nesting_too_deep';

export type JsonlLine =
  | { lineNumber: number; value: unknown; error: null; problem: null }
  | { lineNumber: number; value: null; error: string; problem: JsonlLineProblem };

/**
 * Streams a JSONL file or store object line by line (1-based line numbers) through the bounded line
 * reader, skipping blank lines; never loads it whole, and a huge or deeply nested line is a reported
 * problem, not a crash.
 */
export async function* readJsonl(file: string | ByteSource): AsyncGenerator<JsonlLine> {
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
