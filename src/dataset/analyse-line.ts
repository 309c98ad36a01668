import { hash } from 'node:crypto';
import {
  analyseExample,
  blankLineAnalysis,
  checkLineExample,
  exampleTokenItems,
  finishExampleAnalysis,
  tokenCountingLimit,
  TOKENS_FOR_REPLY_PRIMING,
  unreadableLineAnalysis,
  type ExampleTokenCount,
  type LineAnalysis,
  type ModelFacts,
  type UnreadableLineCode,
} from '../domain/dataset';
import { jsonNestingExceeds, MAX_JSON_DEPTH, stringEnd } from './json-depth';
import { MAX_LINE_BYTES, type RawLine } from './line-reader';
import type { EventLoopPacer } from './pacer';
import type { PacedTokenCounter } from './tokenizer';

export interface LineContext {
  facts: ModelFacts;
  counter: PacedTokenCounter;
  allowTruncation: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Space, tab, CR, vertical tab, form feed: a line of only these is blank. */
export function isBlankLine(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0b && b !== 0x0c) return false;
  }
  return true;
}

/** The bytes as text, or null when they are not valid UTF-8. */
export function decodeUtf8Line(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** JSON.parse's complaint reduced to a column: its message would quote the line. */
export function invalidJsonMessage(err: unknown): string {
  const position = err instanceof Error ? /position (\d+)/.exec(err.message) : null;
  return position ? `the line is not valid JSON (at column ${Number(position[1]) + 1})` : 'the line is not valid JSON';
}

const QUOTE = 0x22;

function isJsonWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}


/**
 * The example as split files carry it and as duplicates are recognised: the line's JSON with the
 * whitespace outside strings removed. Strings, numbers and key order stay byte for byte (a
 * JSON.parse/stringify round trip would rewrite 1.0, big integers and escapes); UTF-8 continuation
 * bytes are never ASCII, so a byte scan is safe. Returns the same buffer when already compact.
 * Only for lines that parsed as JSON.
 */
export function compactJsonLine(bytes: Buffer): Buffer {
  let out: Buffer | null = null;
  let written = 0;
  let copiedUpTo = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b === QUOTE) {
      i = Math.min(stringEnd(bytes, i), bytes.length - 1);
    } else if (isJsonWhitespace(b)) {
      out ??= Buffer.allocUnsafe(bytes.length);
      written += bytes.copy(out, written, copiedUpTo, i);
      let next = i + 1;
      while (next < bytes.length && isJsonWhitespace(bytes[next] as number)) next++;
      copiedUpTo = next;
      i = next - 1;
    }
  }
  if (out === null) return bytes;
  written += bytes.copy(out, written, copiedUpTo, bytes.length);
  return out.subarray(0, written);
}

/** The first 128 bits of sha256(compact line) as four words: identity for duplicates and the split. */
export function contentHashWords(compact: Buffer): [number, number, number, number] {
  // One-shot hash: no Hash object per example.
  const digest = hash('sha256', compact, 'buffer');
  return [digest.readUInt32BE(0), digest.readUInt32BE(4), digest.readUInt32BE(8), digest.readUInt32BE(12)];
}

export type ParsedLine =
  | { kind: 'blank' }
  | { kind: 'unreadable'; code: UnreadableLineCode; message: string }
  | { kind: 'value'; value: unknown };

/** Reads one raw line as far as a JSON value. */
export function parseRawLine(raw: RawLine): ParsedLine {
  if (raw.bytes === null) return { kind: 'unreadable', code: 'line_too_long', message: `the line has ${raw.length} bytes, over the ${MAX_LINE_BYTES}-byte limit` };
  if (isBlankLine(raw.bytes)) return { kind: 'blank' };
  const text = decodeUtf8Line(raw.bytes);
  if (text === null) return { kind: 'unreadable', code: 'invalid_utf8', message: 'the line is not valid UTF-8' };
  if (jsonNestingExceeds(raw.bytes)) return { kind: 'unreadable', code: 'nesting_too_deep', message: `the line nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep` };
  try {
    return { kind: 'value', value: JSON.parse(text) as unknown };
  } catch (err) {
    return { kind: 'unreadable', code: 'invalid_json', message: invalidJsonMessage(err) };
  }
}

function withHash(analysis: LineAnalysis, value: unknown, raw: RawLine): LineAnalysis {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && raw.bytes !== null) {
    analysis.hash = contentHashWords(compactJsonLine(raw.bytes));
  }
  return analysis;
}

/** Everything validation learns from one line, in one synchronous step (for lines of ordinary length). */
export function analyseLine(raw: RawLine, context: LineContext): LineAnalysis {
  const parsed = parseRawLine(raw);
  if (parsed.kind === 'blank') return blankLineAnalysis(raw.line);
  if (parsed.kind === 'unreadable') return unreadableLineAnalysis(raw.line, parsed.code, parsed.message);
  return withHash(analyseExample(parsed.value, raw.line, context.facts, context.counter, context.allowTruncation), parsed.value, raw);
}

/** Lines longer than this are analysed by analyseLongLine, which gives the event loop turns while counting. */
export const PACED_LINE_BYTES = 64 * 1024;

/** The same terms and stop as countExampleTokens, with long texts counted in paced pieces. */
async function countExampleTokensPaced(example: Record<string, unknown>, context: LineContext, pacer: EventLoopPacer): Promise<ExampleTokenCount> {
  const limit = tokenCountingLimit(context.facts);
  let total = TOKENS_FOR_REPLY_PRIMING;
  let assistant = 0;
  for (const item of exampleTokenItems(example)) {
    const tokens = item.fixed + (item.text === null ? 0 : await context.counter.countPaced(item.text, limit - total, pacer));
    total += tokens;
    if (item.assistant) assistant += tokens;
    if (total > limit) break;
  }
  return { total, assistant };
}

/** analyseLine for a long line: the same result, but token counting never holds the event loop for long. */
export async function analyseLongLine(raw: RawLine, context: LineContext, pacer: EventLoopPacer): Promise<LineAnalysis> {
  const parsed = parseRawLine(raw);
  if (parsed.kind === 'blank') return blankLineAnalysis(raw.line);
  if (parsed.kind === 'unreadable') return unreadableLineAnalysis(raw.line, parsed.code, parsed.message);
  const checked = checkLineExample(parsed.value, raw.line);
  if (checked.example === null) return checked.analysis;
  if (pacer.due()) await pacer.pause();
  const tokens = await countExampleTokensPaced(checked.example, context, pacer);
  return withHash(finishExampleAnalysis({ ...checked, example: checked.example }, tokens, context.facts, context.allowTruncation), parsed.value, raw);
}
