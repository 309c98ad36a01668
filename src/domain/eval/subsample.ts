import { createSeededRandom } from '../random';

/**
 * Which of `total` examples to evaluate when at most `maxExamples` are wanted: a seeded partial
 * Fisher–Yates draw, returned in ascending order so the eval set keeps the source order. The same
 * (total, maxExamples, seed) always gives the same indices.
 */
export function selectSubsample(total: number, maxExamples: number | undefined, seed: number): number[] {
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`total must be a non-negative integer, got ${total}`);
  if (maxExamples === undefined || maxExamples >= total) return Array.from({ length: total }, (_, i) => i);
  if (!Number.isInteger(maxExamples) || maxExamples < 0) {
    throw new RangeError(`maxExamples must be a non-negative integer, got ${maxExamples}`);
  }
  const random = createSeededRandom(seed, 'eval-subsample');
  const pool = Array.from({ length: total }, (_, i) => i);
  for (let i = 0; i < maxExamples; i++) {
    const j = i + Math.floor(random() * (total - i));
    const tmp = pool[i] as number;
    pool[i] = pool[j] as number;
    pool[j] = tmp;
  }
  return pool.slice(0, maxExamples).sort((a, b) => a - b);
}

/** Splits [0, examples) into consecutive batches of at most batchSize. */
export function planBatches(examples: number, batchSize: number): Array<{ index: number; start: number; end: number }> {
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const batches: Array<{ index: number; start: number; end: number }> = [];
  for (let start = 0, index = 0; start < examples; start += batchSize, index++) {
    batches.push({ index, start, end: Math.min(examples, start + batchSize) });
  }
  return batches;
}
