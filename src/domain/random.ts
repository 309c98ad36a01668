/**
 * Seeded pseudo-random numbers for everything tuneflow draws at random (splits, subsamples, bootstrap
 * resamples): the same seed gives the same draws on every machine, so a run can be reproduced and a
 * workflow can replay. Pure: no I/O, no Math.random.
 */

/** A source of uniform numbers in [0, 1). */
export type RandomSource = () => number;

/** 32-bit FNV-1a followed by murmur3's finaliser, so similar strings land far apart. */
export function hashStringToSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** murmur3's 32-bit avalanche step. */
export function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Folds a numeric or string seed (and optional labels naming the use) into one 32-bit seed. */
export function deriveSeed(seed: number | string, ...labels: string[]): number {
  const base = typeof seed === 'number' ? `${seed}` : `s:${seed}`;
  return hashStringToSeed([base, ...labels].join('\u0000'));
}

/**
 * mulberry32: tiny, fast and good enough for resampling and shuffling (it passes gjrand's
 * small-state tests); not for cryptography.
 */
export function mulberry32(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded generator; string labels give independent streams from one user seed. */
export function createSeededRandom(seed: number | string, ...labels: string[]): RandomSource {
  return mulberry32(deriveSeed(seed, ...labels));
}

/** Uniform integer in [0, n). */
export function randomInt(random: RandomSource, n: number): number {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`randomInt needs a positive integer bound, got ${n}`);
  return Math.floor(random() * n);
}

/** Fisher–Yates shuffle of a copy. */
export function seededShuffle<T>(items: readonly T[], random: RandomSource): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}
