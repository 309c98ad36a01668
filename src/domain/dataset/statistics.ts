/** Summary of one per-example quantity, with the reference notebook's figures. */
export interface Distribution {
  min: number;
  max: number;
  mean: number;
  median: number;
  p10: number;
  p90: number;
}

export const EMPTY_DISTRIBUTION: Distribution = { min: 0, max: 0, mean: 0, median: 0, p10: 0, p90: 0 };

/**
 * numpy's default quantile (method "linear": virtual index (n-1)q, then numpy's _lerp, which takes
 * b - (b-a)(1-t) when t >= 0.5), so figures equal the reference's np.quantile to the last bit.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantile of an empty list');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1], got ${q}`);
  const virtualIndex = (n - 1) * q;
  const lower = Math.floor(virtualIndex);
  const upper = Math.min(lower + 1, n - 1);
  const t = virtualIndex - lower;
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** numpy's median: the middle value, or the mean of the two middle values. */
export function medianSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('median of an empty list');
  const mid = n >> 1;
  if (n % 2 === 1) return sorted[mid] as number;
  return ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** min, max, mean, median, p10, p90 of the values; all zeros for no values. */
export function distributionOf(values: ArrayLike<number>): Distribution {
  const n = values.length;
  if (n === 0) return { ...EMPTY_DISTRIBUTION };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] as number;
  return {
    min: sorted[0] as number,
    max: sorted[n - 1] as number,
    mean: sum / n,
    median: medianSorted(sorted),
    p10: quantileSorted(sorted, 0.1),
    p90: quantileSorted(sorted, 0.9),
  };
}
