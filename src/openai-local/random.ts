// Deterministic randomness: every "random" choice in the backend comes from here, never Math.random.

/** 32-bit FNV-1a hash of a string, for stable per-key decisions. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche so nearby keys ("step:1", "step:2") land far apart.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in [0, 1) derived from the given key parts. */
export function hash01(...parts: (string | number)[]): number {
  return hash32(parts.join('\u0000')) / 0x1_0000_0000;
}

/** mulberry32: a tiny seeded PRNG, good enough for simulation noise and fault draws. */
export function createPrng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/** Gaussian-ish noise in about [-1, 1] from a key (sum of uniforms, deterministic). */
export function noise(...parts: (string | number)[]): number {
  const a = hash01(...parts, 'a');
  const b = hash01(...parts, 'b');
  const c = hash01(...parts, 'c');
  return (a + b + c - 1.5) / 1.5;
}
