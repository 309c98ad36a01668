import { createSeededRandom } from '../random';

export const DEFAULT_BOOTSTRAP_ITERATIONS = 2000;

export interface PairedBootstrapOptions {
  seed: number | string;
  iterations?: number;
  /** Two-sided confidence level; 0.95 gives the 2.5th and 97.5th percentiles. */
  confidence?: number;
}

export interface PairedBootstrapResult {
  /** Number of paired examples. */
  n: number;
  /** Mean of candidate[i] − base[i]. */
  meanDiff: number;
  ci: [number, number];
  iterations: number;
}

/** Linear interpolation between order statistics (Hyndman–Fan type 7, numpy's default). */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, p));
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const lo = sorted[lower] as number;
  const hi = sorted[upper] as number;
  return lo + (hi - lo) * (position - lower);
}

function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * Percentile-method paired bootstrap CI of the mean difference candidate − base. Resampling the
 * per-example differences (not each model separately) keeps the pairing, which removes the
 * between-example variance both models share. Deterministic for a seed. With no pairs it returns a
 * zero difference and a [0, 0] interval, which never counts as beating the base.
 */
export function pairedBootstrapCi(
  candidate: readonly number[],
  base: readonly number[],
  options: PairedBootstrapOptions,
): PairedBootstrapResult {
  if (candidate.length !== base.length) {
    throw new RangeError(`paired bootstrap needs equal lengths, got ${candidate.length} and ${base.length}`);
  }
  const iterations = options.iterations ?? DEFAULT_BOOTSTRAP_ITERATIONS;
  const confidence = options.confidence ?? 0.95;
  const n = candidate.length;
  const diffs = candidate.map((c, i) => c - (base[i] as number));
  const meanDiff = mean(diffs);
  if (n === 0) return { n, meanDiff: 0, ci: [0, 0], iterations };
  const random = createSeededRandom(options.seed, 'paired-bootstrap');
  const means = new Float64Array(iterations);
  for (let b = 0; b < iterations; b++) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += diffs[Math.floor(random() * n)] as number;
    means[b] = sum / n;
  }
  means.sort();
  const sorted = Array.from(means);
  const alpha = 1 - confidence;
  return { n, meanDiff, ci: [quantileSorted(sorted, alpha / 2), quantileSorted(sorted, 1 - alpha / 2)], iterations };
}
