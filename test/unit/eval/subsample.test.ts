import { describe, expect, it } from 'vitest';
import { planBatches, selectSubsample } from '../../../src/domain/eval/subsample';
import { createSeededRandom, hashStringToSeed, seededShuffle } from '../../../src/domain/random';

describe('deterministic subsampling', () => {
  it('returns the same sorted, distinct indices for the same seed', () => {
    const a = selectSubsample(1000, 50, 42);
    expect(a).toEqual(selectSubsample(1000, 50, 42));
    expect(a).toHaveLength(50);
    expect(new Set(a).size).toBe(50);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(a.every((i) => i >= 0 && i < 1000)).toBe(true);
    expect(selectSubsample(1000, 50, 43)).not.toEqual(a);
  });

  it('keeps everything when maxExamples is absent or not smaller than the set', () => {
    expect(selectSubsample(5, undefined, 1)).toEqual([0, 1, 2, 3, 4]);
    expect(selectSubsample(5, 9, 1)).toEqual([0, 1, 2, 3, 4]);
  });

  it('cuts examples into consecutive batches', () => {
    expect(planBatches(25, 10)).toEqual([
      { index: 0, start: 0, end: 10 },
      { index: 1, start: 10, end: 20 },
      { index: 2, start: 20, end: 25 },
    ]);
    expect(planBatches(0, 10)).toEqual([]);
  });
});

describe('seeded PRNG', () => {
  it('repeats its stream for a seed, stays in [0, 1), and separates labelled streams', () => {
    const a = createSeededRandom(7);
    const b = createSeededRandom(7);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(createSeededRandom(7, 'one')()).not.toBe(createSeededRandom(7, 'two')());
    expect(hashStringToSeed('abc')).toBe(hashStringToSeed('abc'));
    expect(seededShuffle([1, 2, 3, 4, 5], createSeededRandom(1)).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});
