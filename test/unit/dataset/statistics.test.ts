import { describe, expect, it } from 'vitest';
import { distributionOf, medianSorted, quantileSorted } from '../../../src/domain/dataset';

describe('percentiles follow numpy default (linear) quantiles', () => {
  it('interpolates between neighbours at (n-1)q for hand-computed cases', () => {
    // [1,2,3,4]: (n-1)q = 0.3 -> 1 + 0.3*1 = 1.3; 2.7 -> 4 - 1*(1-0.7) = 3.7
    expect(quantileSorted([1, 2, 3, 4], 0.1)).toBeCloseTo(1.3, 12);
    expect(quantileSorted([1, 2, 3, 4], 0.9)).toBeCloseTo(3.7, 12);
    // [10, 20]: 0.1 -> 11, 0.9 -> 19
    expect(quantileSorted([10, 20], 0.1)).toBe(11);
    expect(quantileSorted([10, 20], 0.9)).toBe(19);
    expect(quantileSorted([7], 0.9)).toBe(7);
  });

  it('reproduces the reference notebook output bit for bit (np.quantile float artefacts included)', () => {
    // The notebook prints these for its toy dataset: messages [2,2,3,3,9], tokens [26,28,45,111,8032], assistant [4,9,10,28,8000].
    expect(distributionOf([2, 9, 3, 2, 3])).toEqual({ min: 2, max: 9, mean: 3.8, median: 3, p10: 2, p90: 6.6000000000000005 });
    expect(distributionOf([26, 28, 45, 111, 8032])).toEqual({ min: 26, max: 8032, mean: 1648.4, median: 45, p10: 26.8, p90: 4863.6 });
    expect(distributionOf([4, 9, 10, 28, 8000])).toEqual({ min: 4, max: 8000, mean: 1610.2, median: 10, p10: 6, p90: 4811.200000000001 });
  });

  it('takes the mean of the two middle values as the median of an even count', () => {
    expect(medianSorted([1, 2, 4, 10])).toBe(3);
    expect(medianSorted([5])).toBe(5);
  });

  it('gives zeros for no values and sorts unsorted input', () => {
    expect(distributionOf([])).toEqual({ min: 0, max: 0, mean: 0, median: 0, p10: 0, p90: 0 });
    expect(distributionOf(Float64Array.from([3, 1, 2]))).toMatchObject({ min: 1, max: 3, median: 2 });
  });

  it('refuses an empty list or a quantile outside [0, 1]', () => {
    expect(() => quantileSorted([], 0.5)).toThrow(RangeError);
    expect(() => quantileSorted([1], 1.5)).toThrow(RangeError);
  });
});
