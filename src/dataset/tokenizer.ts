import type { TokenCounter, TokenEncodingName } from '../domain/dataset';
import type { EventLoopPacer } from './pacer';

// Special-token text such as "<|endoftext|>" in a dataset is ordinary text to count, not an error
// (tiktoken's default would throw); an empty disallowed set with nothing allowed does exactly that.
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

type CountTokens = (text: string, options: typeof AS_PLAIN_TEXT) => number;

async function loadCounter(encoding: TokenEncodingName): Promise<CountTokens> {
  // Imported on demand: each encoding's rank table costs ~60 MB and ~300 ms to load.
  switch (encoding) {
    case 'o200k_base':
      return (await import('gpt-tokenizer/encoding/o200k_base')).countTokens;
    case 'cl100k_base':
      return (await import('gpt-tokenizer/encoding/cl100k_base')).countTokens;
  }
}

/**
 * Longer texts are counted in pieces of at most this many characters. BPE cost grows with the square
 * of a pre-token's length (a 32 KB run without spaces took 3.7 s whole); a piece bounds it.
 */
export const MAX_PIECE_CHARS = 1024;

const WHITESPACE = /\s/;
const WORD_CHAR = /[\p{L}\p{N}]/u;
// Not whitespace, letter, digit or combining mark, and not the apostrophe that starts a contraction.
const PUNCTUATION = /[^\s\p{L}\p{N}\p{M}']/u;

function isSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdfff;
}

/**
 * True when both encodings' pre-tokenizers always start a pre-token at `i`, so counting the text in
 * two pieces cut there gives exactly the whole text's count: before a space that follows a
 * non-space, or before punctuation that follows a letter or digit (no split pattern spans either).
 */
function isExactCut(text: string, i: number): boolean {
  const prev = text.charCodeAt(i - 1);
  const next = text.charCodeAt(i);
  if (isSurrogate(prev) || isSurrogate(next)) return false;
  if (next === 0x20) return !WHITESPACE.test(text[i - 1] as string);
  return WORD_CHAR.test(text[i - 1] as string) && PUNCTUATION.test(text[i] as string);
}

/** Where the piece starting at `start` ends: the last exact cut within reach, else a hard cut (approximate count). */
function pieceEnd(text: string, start: number): number {
  const limit = start + MAX_PIECE_CHARS;
  if (limit >= text.length) return text.length;
  for (let i = limit; i > start; i--) if (isExactCut(text, i)) return i;
  // No exact cut: this run has no pre-token boundary we can prove, so the count may differ by a token or two.
  const last = text.charCodeAt(limit - 1);
  return last >= 0xd800 && last <= 0xdbff ? limit - 1 : limit;
}

/** A TokenCounter that can also count a long text while giving the event loop its turns. */
export interface PacedTokenCounter extends TokenCounter {
  countPaced(text: string, budget: number, pacer: EventLoopPacer): Promise<number>;
}

const loaded = new Map<TokenEncodingName, Promise<CountTokens>>();

/**
 * A TokenCounter backed by gpt-tokenizer (pure JS BPE, the same ranks as tiktoken). Texts up to
 * MAX_PIECE_CHARS are counted whole; longer ones piece by piece, stopping once past the budget.
 */
export async function createTokenCounter(encoding: TokenEncodingName): Promise<PacedTokenCounter> {
  let pending = loaded.get(encoding);
  if (!pending) {
    pending = loadCounter(encoding);
    loaded.set(encoding, pending);
  }
  const countTokens = await pending;
  const count = (text: string, budget = Infinity): number => {
    if (text.length <= MAX_PIECE_CHARS) return text.length === 0 ? 0 : countTokens(text, AS_PLAIN_TEXT);
    let total = 0;
    for (let start = 0; start < text.length && total <= budget; ) {
      const end = pieceEnd(text, start);
      total += countTokens(text.slice(start, end), AS_PLAIN_TEXT);
      start = end;
    }
    return total;
  };
  const countPaced = async (text: string, budget: number, pacer: EventLoopPacer): Promise<number> => {
    if (text.length <= MAX_PIECE_CHARS) return count(text, budget);
    let total = 0;
    for (let start = 0; start < text.length && total <= budget; ) {
      const end = pieceEnd(text, start);
      total += countTokens(text.slice(start, end), AS_PLAIN_TEXT);
      start = end;
      if (pacer.due()) await pacer.pause();
    }
    return total;
  };
  return { encoding, count, countPaced };
}
