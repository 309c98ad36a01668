/**
 * Answer scores against a reference. Pure: no I/O.
 *
 * Normalisation follows the SQuAD evaluation script (lowercase, drop punctuation, drop the articles
 * a/an/the, collapse whitespace), extended to Unicode punctuation and symbols and NFKC-folded so that
 * full-width and composed characters compare equal.
 */

const ARTICLES = new Set(['a', 'an', 'the']);
/** Unicode punctuation and symbols; SQuAD removes ASCII `string.punctuation`, which is both. */
const PUNCTUATION = /[\p{P}\p{S}]/gu;

/** The normalised tokens of an answer. Articles are dropped per token so non-ASCII words are safe. */
export function answerTokens(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(PUNCTUATION, '')
    .split(/\s+/u)
    .filter((token) => token.length > 0 && !ARTICLES.has(token));
}

/** SQuAD-style normalised answer text. */
export function normalizeAnswer(text: string): string {
  return answerTokens(text).join(' ');
}

/** 1 when the answers are equal after normalisation, else 0. */
export function exactMatch(prediction: string, reference: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(reference) ? 1 : 0;
}

/**
 * Token-level F1 over the multiset of normalised tokens (a repeated token counts as often as it
 * appears in both). Two empty answers agree (1); one empty answer scores 0.
 */
export function tokenF1(prediction: string, reference: string): number {
  const predicted = answerTokens(prediction);
  const expected = answerTokens(reference);
  if (predicted.length === 0 || expected.length === 0) return predicted.length === expected.length ? 1 : 0;
  const remaining = new Map<string, number>();
  for (const token of expected) remaining.set(token, (remaining.get(token) ?? 0) + 1);
  let common = 0;
  for (const token of predicted) {
    const left = remaining.get(token) ?? 0;
    if (left > 0) {
      common++;
      remaining.set(token, left - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / predicted.length;
  const recall = common / expected.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Length of the longest common subsequence of two token lists, in O(n·m) time and O(min) memory. */
export function longestCommonSubsequence(a: readonly string[], b: readonly string[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  if (short.length === 0) return 0;
  let previous = new Array<number>(short.length + 1).fill(0);
  let current = new Array<number>(short.length + 1).fill(0);
  for (let i = 1; i <= long.length; i++) {
    const token = long[i - 1];
    for (let j = 1; j <= short.length; j++) {
      current[j] =
        token === short[j - 1] ? (previous[j - 1] as number) + 1 : Math.max(previous[j] as number, current[j - 1] as number);
    }
    [previous, current] = [current, previous];
  }
  return previous[short.length] as number;
}

/**
 * ROUGE-L F-measure (β = 1) over normalised tokens: LCS/len(prediction) is precision,
 * LCS/len(reference) is recall.
 */
export function rougeL(prediction: string, reference: string): number {
  const predicted = answerTokens(prediction);
  const expected = answerTokens(reference);
  if (predicted.length === 0 || expected.length === 0) return predicted.length === expected.length ? 1 : 0;
  const lcs = longestCommonSubsequence(predicted, expected);
  if (lcs === 0) return 0;
  const precision = lcs / predicted.length;
  const recall = lcs / expected.length;
  return (2 * precision * recall) / (precision + recall);
}

export interface AnswerScores {
  exactMatch: number;
  tokenF1: number;
  rougeL: number;
}

/** All reference-based scores of one answer. */
export function scoreAnswer(prediction: string, reference: string): AnswerScores {
  return {
    exactMatch: exactMatch(prediction, reference),
    tokenF1: tokenF1(prediction, reference),
    rougeL: rougeL(prediction, reference),
  };
}
