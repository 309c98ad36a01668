import type { TokenCounter, TokenEncodingName } from '../domain/dataset';

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

const loaded = new Map<TokenEncodingName, Promise<CountTokens>>();

/** A TokenCounter backed by gpt-tokenizer (pure JS BPE, the same ranks as tiktoken). */
export async function createTokenCounter(encoding: TokenEncodingName): Promise<TokenCounter> {
  let pending = loaded.get(encoding);
  if (!pending) {
    pending = loadCounter(encoding);
    loaded.set(encoding, pending);
  }
  const countTokens = await pending;
  return { encoding, count: (text) => (text.length === 0 ? 0 : countTokens(text, AS_PLAIN_TEXT)) };
}
