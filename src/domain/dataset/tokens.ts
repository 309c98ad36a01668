import type { TokenEncodingName } from './models';

/**
 * Counts the tokens of a text in one encoding. The implementation (src/dataset/tokenizer.ts) wraps
 * the tokenizer package; this interface keeps the rules below free of it.
 */
export interface TokenCounter {
  readonly encoding: TokenEncodingName;
  /**
   * The text's tokens. With a budget, counting may stop once the count passes it: the result is then
   * a partial count above the budget (the text has at least that many tokens).
   */
  count(text: string, budget?: number): number;
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

/** One term of an example's token estimate: a text to count, or a fixed number of tokens. */
export interface TokenItem {
  text: string | null;
  fixed: number;
  /** Counted among the assistant tokens too. */
  assistant: boolean;
}

/** The items of one message field's value: strings as they are, structures (tool calls) as compact JSON. */
function fieldValueItems(key: string, value: unknown, assistant: boolean, out: TokenItem[]): void {
  if (value === null || value === undefined) return;
  if (typeof value === 'string') {
    out.push({ text: value, fixed: 0, assistant });
  } else if (key === 'content' && Array.isArray(value)) {
    // Content parts: text parts by their text, image parts at a fixed estimate, anything else as JSON.
    for (const part of value as unknown[]) {
      if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') out.push({ text: part.text, fixed: 0, assistant });
      else if (isRecord(part) && part.type === 'image_url') out.push({ text: null, fixed: TOKENS_PER_IMAGE_PART, assistant });
      else out.push({ text: JSON.stringify(part) ?? '', fixed: 0, assistant });
    }
  } else {
    out.push({ text: JSON.stringify(value) ?? '', fixed: 0, assistant });
  }
}

/**
 * The reference's estimate of an example's tokens as terms: per message 3 + the tokens of every field
 * value (role included) + 1 for a name; plus 3 to prime the reply (not an item). Beyond the reference:
 * top-level tools and functions count as their compact JSON once per example, weight counts nothing.
 */
export function exampleTokenItems(example: Record<string, unknown>): TokenItem[] {
  const items: TokenItem[] = [];
  if (example.tools !== undefined && example.tools !== null) items.push({ text: JSON.stringify(example.tools), fixed: 0, assistant: false });
  if (example.functions !== undefined && example.functions !== null) items.push({ text: JSON.stringify(example.functions), fixed: 0, assistant: false });
  const messages = example.messages;
  if (!Array.isArray(messages)) return items;
  for (const message of messages) {
    items.push({ text: null, fixed: TOKENS_PER_MESSAGE, assistant: false });
    if (!isRecord(message)) continue;
    const isAssistant = message.role === 'assistant';
    for (const key in message) {
      if (UNCOUNTED_MESSAGE_KEYS.has(key)) continue;
      fieldValueItems(key, message[key], isAssistant && (key === 'content' || key === 'tool_calls' || key === 'function_call'), items);
      if (key === 'name') items.push({ text: null, fixed: TOKENS_PER_NAME, assistant: false });
    }
  }
  return items;
}

/**
 * Adds up an example's token items, each text counted against what is left of `limit`. Once the total
 * passes the limit counting stops (the example is over whatever the rest holds), so the cost of an
 * oversized example is bounded by the limit, not by its length; its total is then a lower bound.
 */
export function sumTokenItems(items: readonly TokenItem[], count: (text: string, budget: number) => number, limit = Infinity): ExampleTokenCount {
  let total = TOKENS_FOR_REPLY_PRIMING;
  let assistant = 0;
  for (const item of items) {
    const tokens = item.fixed + (item.text === null ? 0 : count(item.text, limit - total));
    total += tokens;
    if (item.assistant) assistant += tokens;
    if (total > limit) break;
  }
  return { total, assistant };
}

/** An example's tokens (see exampleTokenItems); with a limit, counting stops once the total passes it. */
export function countExampleTokens(example: Record<string, unknown>, counter: TokenCounter, limit = Infinity): ExampleTokenCount {
  return sumTokenItems(exampleTokenItems(example), (text, budget) => counter.count(text, budget), limit);
}
