// Deterministic randomness: every "random" choice in the backend comes from here, never Math.random.
import { hashStringToSeed, mulberry32 } from '../domain/random';

/** 32-bit FNV-1a with an avalanche, so nearby keys ("step:1", "step:2") land far apart. */
export const hash32 = hashStringToSeed;

/** A number in [0, 1) derived from the given key parts. */
export function hash01(...parts: (string | number)[]): number {
  return hash32(parts.join('\u0000')) / 0x1_0000_0000;
}

/** mulberry32: a tiny seeded PRNG, good enough for simulation noise and fault draws. */
export const createPrng = mulberry32;

/** Gaussian-ish noise in about [-1, 1] from a key (sum of uniforms, deterministic). */
export function noise(...parts: (string | number)[]): number {
  const a = hash01(...parts, 'a');
  const b = hash01(...parts, 'b');
  const c = hash01(...parts, 'c');
  return (a + b + c - 1.5) / 1.5;
}
