// Checks a fine-tuning JSONL file the way the provider does, streaming it line by line.
import { jsonNestingExceeds, MAX_JSON_DEPTH } from '../dataset/json-depth';
import { MAX_LINE_BYTES, readLineBatches } from '../dataset/line-reader';
import type { Example, JobError } from './types';

export const MIN_TRAINING_EXAMPLES = 10;
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

export interface DatasetSummary {
  /** Number of examples in the file. */
  count: number;
  /** The first examples, up to `keep` and MAX_KEPT_CHARS (what the answer simulation retrieves from), not all of a huge file. */
  examples: Example[];
  /** Approximate tokens over all examples (see approxTokens). */
  tokens: number;
}

/** Examples kept for answering: enough for any realistic support dataset, bounded for memory. */
export const MAX_KEPT_EXAMPLES = 50_000;
/** Characters kept per example: the prompt's end (its latest question) and the reply's start. */
export const MAX_KEPT_PROMPT_CHARS = 1_000;
export const MAX_KEPT_REPLY_CHARS = 2_000;
/** Characters kept over all examples: the answer index costs memory per token, so the bound is in text, not only in count. */
export const MAX_KEPT_CHARS = 24_000_000;

export type DatasetCheck = { ok: true; summary: DatasetSummary } | { ok: false; error: JobError };

/**
 * Approximate token count: ~4 characters per token (OpenAI's rule of thumb for English) plus per-message
 * overhead as in OpenAI's token-counting cookbook. Used for trained_tokens and chat `usage`.
 */
export function approxTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function messagesTokens(messages: { content: string }[]): number {
  return messages.reduce((sum, m) => sum + 3 + approxTokens(m.content), 3);
}

/** Text of a message content that may be a string or an array of content parts. */
export function contentText(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return null;
  if (Array.isArray(content)) {
    const parts = content
      .map((p: unknown) => (p && typeof p === 'object' && 'text' in p && typeof p.text === 'string' ? p.text : ''))
      .filter((t) => t.length > 0);
    return parts.join('\n');
  }
  return null;
}

export async function checkDataset(path: string, param: 'training_file' | 'validation_file', keep = MAX_KEPT_EXAMPLES): Promise<DatasetCheck> {
  const which = param === 'training_file' ? 'training' : 'validation';
  const fail = (detail: string): DatasetCheck => ({
    ok: false,
    error: {
      code: param === 'training_file' ? 'invalid_training_file' : 'invalid_validation_file',
      message: `The job failed due to an invalid ${which} file. ${detail}`,
      param,
    },
  });

  const examples: Example[] = [];
  let count = 0;
  let tokens = 0;
  let keptChars = 0;
  // The bounded reader: a line of hundreds of MB is a finding, never a string the process cannot hold.
  for await (const batch of readLineBatches(path)) {
    for (const raw of batch) {
      const lineNo = raw.line;
      if (raw.bytes === null) {
        return fail(`Invalid file format. Line ${lineNo} is ${raw.length} bytes long, over the ${MAX_LINE_BYTES}-byte limit for one example.`);
      }
      const line = raw.bytes.toString('utf8').trim();
      if (line === '') continue;
      if (jsonNestingExceeds(raw.bytes)) {
        return fail(`Invalid file format. Line ${lineNo} nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`);
      }
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return fail(`Invalid file format. Line ${lineNo} is not valid JSON. Expected JSONL format, where every line is a valid JSON dictionary.`);
      }
      const checked = checkExample(value, lineNo);
      if (typeof checked === 'string') return fail(checked);
      count++;
      if (examples.length < keep && keptChars < MAX_KEPT_CHARS) {
        examples.push(checked.example);
        keptChars += checked.example.prompt.length + checked.example.reply.length;
      }
      tokens += checked.tokens;
    }
  }
  if (param === 'training_file' && count < MIN_TRAINING_EXAMPLES) {
    return fail(`Training file has ${count} example(s), but must have at least ${MIN_TRAINING_EXAMPLES} examples.`);
  }
  if (count === 0) return fail('The file contains no examples.');
  return { ok: true, summary: { count, examples, tokens } };
}

function checkExample(value: unknown, lineNo: number): string | { example: Example; tokens: number } {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return `Invalid file format. Line ${lineNo} is not a dictionary.`;
  }
  const messages = (value as { messages?: unknown }).messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    return `Invalid file format. Line ${lineNo}, key "messages": must be a non-empty array of messages.`;
  }
  const texts: { role: string; content: string }[] = [];
  for (const [i, m] of messages.entries()) {
    const where = `Line ${lineNo}, message ${i + 1}`;
    if (!m || typeof m !== 'object') return `Invalid file format. ${where}: each message must be an object.`;
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !ROLES.has(role)) {
      return `Invalid file format. ${where}: each message must have a 'role' of system, user, assistant, tool or function.`;
    }
    const text = contentText(content);
    const hasToolCalls = 'tool_calls' in m || 'function_call' in m;
    if (text === null && !(role === 'assistant' && hasToolCalls)) {
      return `Invalid file format. ${where}: each message must have a 'content'.`;
    }
    texts.push({ role, content: text ?? '' });
  }
  let lastAssistant = -1;
  texts.forEach((t, i) => {
    if (t.role === 'assistant') lastAssistant = i;
  });
  if (lastAssistant < 0) return `Invalid file format. Line ${lineNo}: examples must have at least one assistant message.`;
  const prompt = texts
    .slice(0, lastAssistant)
    .filter((t) => t.role !== 'assistant')
    .map((t) => t.content)
    .join('\n');
  const reply = texts[lastAssistant]?.content ?? '';
  return { example: { prompt: prompt.slice(-MAX_KEPT_PROMPT_CHARS), reply: reply.slice(0, MAX_KEPT_REPLY_CHARS) }, tokens: messagesTokens(texts) };
}
