/** Synthetic point sets for the clustering tests, from the tests' own PRNG (not the code under test's). */
import { seededRandom } from '../../support/random.js';

export interface LabelledPoints {
  readonly rows: number[][];
  readonly truth: number[];
}

/** Standard normal draws (Box-Muller). */
export function normalSource(seed: number): () => number {
  const random = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * `clusters` isotropic Gaussian blobs (unit variance) of `size` points each in `dims` dimensions, centred
 * at +-separation on the axes (cluster c on axis c mod dims, negative from the second round on), so
 * any two centres are at least separation * sqrt(2) apart. Points are interleaved so no cluster is
 * contiguous in point order.
 */
export function gaussianBlobs(
  seed: number,
  clusters: number,
  size: number,
  dims: number,
  separation: number,
): LabelledPoints {
  if (clusters > 2 * dims)
    throw new Error(`${clusters} blobs need at least ${Math.ceil(clusters / 2)} dimensions`);
  const normal = normalSource(seed);
  const rows: number[][] = [];
  const truth: number[] = [];
  for (let i = 0; i < clusters * size; i++) {
    const cluster = i % clusters;
    const row = Array.from({ length: dims }, () => normal());
    row[cluster % dims]! += separation * (cluster < dims ? 1 : -1);
    rows.push(row);
    truth.push(cluster);
  }
  return { rows, truth };
}

/** Uniform points in the unit cube. */
export function uniformPoints(seed: number, count: number, dims: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Array.from({ length: dims }, () => random()));
}

export function squaredDistance(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let f = 0; f < a.length; f++) sum += (a[f]! - b[f]!) ** 2;
  return sum;
}
