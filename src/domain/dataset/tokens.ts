import type { TokenEncodingName } from './models';

/**
 * Counts the tokens of a text in one encoding. The implementation (src/dataset/tokenizer.ts) wraps
 * the tokenizer package; this interface keeps the rules below free of it.
 */
export interface TokenCounter {
  readonly encoding: TokenEncodingName;
  count(text: string): number;
}

/** The reference notebook's formula constants (simplified from OpenAI's "How to count tokens"). */
export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
export const TOKENS_FOR_REPLY_PRIMING = 3;
/** An image part counts as a low-detail image (85 tokens on gpt-4o): a floor, since high detail costs more. */
export const TOKENS_PER_IMAGE_PART = 85;

export interface ExampleTokenCount {
  /** Every message, tools and functions, with the formula's per-message overhead. */
  total: number;
  /** Tokens of assistant messages: content plus tool_calls and function_call. */
  assistant: number;
}

// Metadata that is not text the model reads.
const UNCOUNTED_MESSAGE_KEYS = new Set(['weight']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Tokens of a content array: text parts by their text, image parts at a fixed estimate. */
function contentPartsTokens(parts: readonly unknown[], counter: TokenCounter): number {
  let tokens = 0;
  for (const part of parts) {
    if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') tokens += counter.count(part.text);
    else if (isRecord(part) && part.type === 'image_url') tokens += TOKENS_PER_IMAGE_PART;
    else tokens += counter.count(JSON.stringify(part) ?? '');
  }
  return tokens;
}

/** Tokens of one message field's value: strings as they are, structures (tool calls) as compact JSON. */
export function fieldValueTokens(key: string, value: unknown, counter: TokenCounter): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return counter.count(value);
  if (key === 'content' && Array.isArray(value)) return contentPartsTokens(value, counter);
  return counter.count(JSON.stringify(value) ?? '');
}

/**
 * The reference's estimate of an example's tokens: per message 3 + the tokens of every field value
 * (role included) + 1 for a name; plus 3 to prime the reply. Beyond the reference: top-level tools
 * and functions count as their compact JSON once per example, weight counts nothing.
 */
export function countExampleTokens(example: Record<string, unknown>, counter: TokenCounter): ExampleTokenCount {
  let total = TOKENS_FOR_REPLY_PRIMING;
  let assistant = 0;
  if (example.tools !== undefined && example.tools !== null) total += counter.count(JSON.stringify(example.tools));
  if (example.functions !== undefined && example.functions !== null) total += counter.count(JSON.stringify(example.functions));
  const messages = example.messages;
  if (!Array.isArray(messages)) return { total, assistant };
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE;
    if (!isRecord(message)) continue;
    const isAssistant = message.role === 'assistant';
    for (const key in message) {
      if (UNCOUNTED_MESSAGE_KEYS.has(key)) continue;
      const tokens = fieldValueTokens(key, message[key], counter);
      total += tokens;
      if (key === 'name') total += TOKENS_PER_NAME;
      if (isAssistant && (key === 'content' || key === 'tool_calls' || key === 'function_call')) assistant += tokens;
    }
  }
  return { total, assistant };
}
