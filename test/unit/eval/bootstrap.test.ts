import { describe, expect, it } from 'vitest';
import { pairedBootstrapCi, quantileSorted } from '../../../src/domain/eval/bootstrap';
import { createSeededRandom } from '../../../src/domain/random';

function scores(n: number, seed: number, shift = 0, noise = 0.3): number[] {
  const random = createSeededRandom(seed, 'fixture');
  return Array.from({ length: n }, () => Math.min(1, Math.max(0, 0.5 + shift + (random() - 0.5) * 2 * noise)));
}

describe('paired bootstrap CI', () => {
  it('is reproducible for a seed and changes with the seed', () => {
    const base = scores(80, 1);
    const cand = scores(80, 2, 0.05);
    const a = pairedBootstrapCi(cand, base, { seed: 42 });
    const b = pairedBootstrapCi(cand, base, { seed: 42 });
    const c = pairedBootstrapCi(cand, base, { seed: 43 });
    expect(a).toEqual(b);
    expect(a.ci).not.toEqual(c.ci);
    expect(a.iterations).toBe(2000);
    expect(a.meanDiff).toBeCloseTo(cand.reduce((s, v, i) => s + v - (base[i] as number), 0) / 80, 12);
  });

  it('excludes zero for a clear improvement', () => {
    const base = scores(100, 7);
    const cand = base.map((v, i) => Math.min(1, v + 0.15 + ((i % 5) - 2) * 0.02));
    const { ci, meanDiff } = pairedBootstrapCi(cand, base, { seed: 1 });
    expect(meanDiff).toBeGreaterThan(0.1);
    expect(ci[0]).toBeGreaterThan(0);
    expect(ci[0]).toBeLessThanOrEqual(meanDiff);
    expect(ci[1]).toBeGreaterThanOrEqual(meanDiff);
  });

  it('includes zero when the two models differ only by noise', () => {
    const base = scores(100, 11);
    const cand = scores(100, 12);
    const { ci } = pairedBootstrapCi(cand, base, { seed: 1 });
    expect(ci[0]).toBeLessThan(0);
    expect(ci[1]).toBeGreaterThan(0);
  });

  it('gives a zero difference and a [0, 0] interval without pairs, and refuses unpaired input', () => {
    expect(pairedBootstrapCi([], [], { seed: 1 })).toEqual({ n: 0, meanDiff: 0, ci: [0, 0], iterations: 2000 });
    expect(() => pairedBootstrapCi([1], [], { seed: 1 })).toThrow(RangeError);
  });

  it('interpolates percentiles between order statistics', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0)).toBe(1);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
  });
});
