/**
 * The train/validation split rule: every distinct example (a group of identical copies) gets a rank
 * from a keyed hash of (seed, content hash); groups are taken in rank order into the validation side
 * until it holds round(n × validRatio) examples. Integer arithmetic only, so the same input and seed
 * give the same split on every machine, and copies of one example never straddle the split.
 */

import { fmix32 } from '../random';

export const DEFAULT_VALID_RATIO = 0.2;

/** What assignSplit needs to know of the groups (ExampleGroupIndex provides it). */
export interface ExampleGroups {
  readonly groupCount: number;
  sizeOf(id: number): number;
  hashWordsOf(id: number): ArrayLike<number>;
}

export interface SplitAssignment {
  /** Per group id: 0 train, 1 validation. */
  sides: Uint8Array;
  examples: number;
  /** round(examples × validRatio): what the validation side should hold. */
  targetValidExamples: number;
  validExamples: number;
  trainExamples: number;
  /** Groups of two or more copies, each kept whole on one side. */
  duplicateGroupsKeptTogether: number;
}

export const SPLIT_TRAIN = 0;
export const SPLIT_VALID = 1;

/** Throws a RangeError naming the bad option. */
export function checkSplitOptions(seed: number, validRatio: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  if (!(validRatio > 0 && validRatio < 1)) throw new RangeError(`validRatio must be between 0 and 1 (exclusive), got ${validRatio}`);
}

/** Examples the validation side gets out of n. */
export function validExampleTarget(examples: number, validRatio: number): number {
  return Math.round(examples * validRatio);
}

function rotl32(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/** murmur3's 32-bit body over words. */
function murmurWords(seed: number, words: readonly number[]): number {
  let h = seed >>> 0;
  for (const word of words) {
    let k = Math.imul(word >>> 0, 0xcc9e2d51);
    k = rotl32(k, 15);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = rotl32(h, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return fmix32(h ^ (words.length * 4));
}

/** A 64-bit rank (two 32-bit halves) keyed by the seed: a different seed reorders every group. */
export function splitRankKey(seed: number, hashWords: ArrayLike<number>): [number, number] {
  const seedLow = seed >>> 0;
  const seedHigh = Math.floor(seed / 0x1_0000_0000) >>> 0;
  const w = [seedHigh, hashWords[0] ?? 0, hashWords[1] ?? 0, hashWords[2] ?? 0, hashWords[3] ?? 0];
  return [murmurWords(seedLow, w), murmurWords(seedLow ^ 0x9e3779b9, w.reverse())];
}

/**
 * Assigns each group to a side. Groups are visited in rank order (ties broken by the hash words)
 * and go to validation while they fit under the target, so the target is met exactly unless large
 * duplicate groups make it impossible (then validation gets the most that fits).
 */
export function assignSplit(groups: ExampleGroups, seed: number, validRatio: number): SplitAssignment {
  checkSplitOptions(seed, validRatio);
  const count = groups.groupCount;
  const rankHigh = new Uint32Array(count);
  const rankLow = new Uint32Array(count);
  const words = new Uint32Array(count * 4);
  let examples = 0;
  let duplicateGroupsKeptTogether = 0;
  for (let id = 0; id < count; id++) {
    const hash = groups.hashWordsOf(id);
    for (let k = 0; k < 4; k++) words[id * 4 + k] = hash[k] ?? 0;
    const [high, low] = splitRankKey(seed, hash);
    rankHigh[id] = high;
    rankLow[id] = low;
    const size = groups.sizeOf(id);
    examples += size;
    if (size > 1) duplicateGroupsKeptTogether++;
  }
  const order = new Uint32Array(count);
  for (let id = 0; id < count; id++) order[id] = id;
  order.sort((a, b) => {
    const byHigh = (rankHigh[a] as number) - (rankHigh[b] as number);
    if (byHigh !== 0) return byHigh;
    const byLow = (rankLow[a] as number) - (rankLow[b] as number);
    if (byLow !== 0) return byLow;
    for (let k = 0; k < 4; k++) {
      const byWord = (words[a * 4 + k] as number) - (words[b * 4 + k] as number);
      if (byWord !== 0) return byWord;
    }
    return a - b;
  });

  const targetValidExamples = validExampleTarget(examples, validRatio);
  const sides = new Uint8Array(count);
  let validExamples = 0;
  for (let i = 0; i < count && validExamples < targetValidExamples; i++) {
    const id = order[i] as number;
    const size = groups.sizeOf(id);
    if (validExamples + size <= targetValidExamples) {
      sides[id] = SPLIT_VALID;
      validExamples += size;
    }
  }
  return { sides, examples, targetValidExamples, validExamples, trainExamples: examples - validExamples, duplicateGroupsKeptTogether };
}
