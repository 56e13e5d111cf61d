/**
 * Seeded randomness. Results must be reproducible from a seed on every machine (k-means restarts, null
 * references, planted data sets, randomised tests), so the generator is a small integer PRNG
 * (mulberry32) rather than `Math.random`.
 */

/** Uniform numbers in [0, 1). */
export type RandomSource = () => number;

/** Check that a seed is an integer that fits the 32-bit generator state after wrapping. */
export function assertSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${seed}`);
}

/** mulberry32: 32 bits of state, full period 2^32, passes the usual statistical batteries well enough here. */
export function createRandom(seed: number): RandomSource {
  assertSeed(seed);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seed for an independent sub-stream (one per null-reference data set, say), mixed with a
 * murmur3-style finaliser so that neighbouring seeds and stream numbers give unrelated streams.
 */
export function deriveSeed(seed: number, stream: number): number {
  assertSeed(seed);
  return fmix32((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul((stream + 1) >>> 0, 0x85ebca77)) >>> 0);
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
export function fmix32(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A standard normal draw (Box-Muller; the second value is discarded to keep the source stateless). */
export function normal(random: RandomSource): number {
  // 1 - u lies in (0, 1], so the logarithm is finite.
  const radius = Math.sqrt(-2 * Math.log(1 - random()));
  return radius * Math.cos(2 * Math.PI * random());
}
