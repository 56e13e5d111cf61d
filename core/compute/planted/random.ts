import { createRandom, normal } from '../random.js';

/**
 * The project's seeded PRNG (core/random.ts) with the draws the planted data set needs: every image and
 * nuisance value follows from the seed, so a seed names one exact data set on every machine.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number;
  /** An integer in [low, high] (both included). */
  integer(low: number, high: number): number;
  /** Standard normal (Box-Muller). */
  gaussian(): number;
}

export function seededRandom(seed: number): Random {
  const next = createRandom(seed);
  return {
    next,
    uniform: (low, high) => low + (high - low) * next(),
    integer: (low, high) => low + Math.floor(next() * (high - low + 1)),
    gaussian: () => normal(next),
  };
}
