/**
 * k-means as the PURE authors run it: scikit-learn's `KMeans(n_clusters=k, n_init=10, random_state=seed)`
 * (k-means++ seeding, Lloyd, tol 1e-4, max_iter 300, best of 10 restarts). The random stream is our own
 * seeded PRNG, not numpy's, so partitions match scikit-learn's in quality (inertia), not draw for draw.
 */

import { assertSeed, createRandom } from '../random.js';
import { canonicalOrder } from './labels.js';
import { type GramClustering, kmeansOnGram, type LloydSettings } from './lloyd.js';
import {
  type CenteredPoints,
  centerPoints,
  type GramSpace,
  gramOf,
  type PointsInput,
  type RowMatrix,
  toRowMatrix,
} from './points.js';

export interface KMeansOptions {
  /** Seed of the random stream (default 0, the authors' random_state). */
  readonly seed?: number;
  /** Restarts (default 10). */
  readonly nInit?: number;
  /** Lloyd iterations per restart (default 300). */
  readonly maxIter?: number;
  /** Relative tolerance on the centre shift (default 1e-4, scikit-learn's). */
  readonly tol?: number;
}

export interface KMeansResult {
  /** Cluster of each point, numbered by first appearance in point order. */
  readonly labels: Int32Array;
  /** k x d, row-major, in the same numbering; a cluster no point ended in comes last. */
  readonly centroids: Float64Array;
  /** Sum of squared distances of the points to their centroids, computed from the coordinates. */
  readonly inertia: number;
  /** Lloyd iterations of the winning restart. */
  readonly iterations: number;
}

/** Points validated, centred and reduced to their Gram matrix once, for several k-means runs. */
export interface PreparedPoints {
  readonly matrix: RowMatrix;
  readonly centered: CenteredPoints;
  readonly space: GramSpace;
}

export function preparePoints(points: PointsInput): PreparedPoints {
  const matrix = toRowMatrix(points);
  const centered = centerPoints(matrix);
  return { matrix, centered, space: gramOf(centered) };
}

/** Options with defaults applied, validated so a bad configuration fails before any work. */
export function lloydSettings(options: KMeansOptions): LloydSettings & { readonly seed: number } {
  const { seed = 0, nInit = 10, maxIter = 300, tol = 1e-4 } = options;
  assertSeed(seed);
  if (!Number.isInteger(nInit) || nInit < 1)
    throw new Error(`nInit must be a positive integer, got ${nInit}`);
  if (!Number.isInteger(maxIter) || maxIter < 1)
    throw new Error(`maxIter must be a positive integer, got ${maxIter}`);
  if (!(Number.isFinite(tol) && tol >= 0)) throw new Error(`tol must be a finite number >= 0, got ${tol}`);
  return { seed, nInit, maxIter, tol };
}

export function assertClusterCount(clusterCount: number, pointCount: number): void {
  if (!Number.isInteger(clusterCount) || clusterCount < 1) {
    throw new Error(`the number of clusters must be a positive integer, got ${clusterCount}`);
  }
  if (pointCount < clusterCount) {
    throw new Error(
      `k-means with ${clusterCount} clusters needs at least ${clusterCount} points, got ${pointCount}`,
    );
  }
}

/** k-means on n points (rows); deterministic for a given seed. */
export function kmeans(points: PointsInput, clusterCount: number, options: KMeansOptions = {}): KMeansResult {
  const settings = lloydSettings(options);
  const prepared = preparePoints(points);
  return kmeansPrepared(prepared, clusterCount, settings);
}

/** k-means on prepared points (shares the Gram matrix between cluster counts). */
export function kmeansPrepared(
  prepared: PreparedPoints,
  clusterCount: number,
  options: KMeansOptions = {},
): KMeansResult {
  const settings = lloydSettings(options);
  assertClusterCount(clusterCount, prepared.space.size);
  const clustering = kmeansOnGram(prepared.space, clusterCount, settings, createRandom(settings.seed));
  return finishClustering(prepared.centered, clustering, clusterCount);
}

/**
 * Centroids in input coordinates, the inertia recomputed from the coordinates (as scikit-learn's
 * `_inertia_dense`, exact where the Gram form loses digits), and canonical cluster numbers.
 */
export function finishClustering(
  points: CenteredPoints,
  clustering: GramClustering,
  clusterCount: number,
): KMeansResult {
  const { rows: n, cols: d, centered, mean } = points;
  const centres = new Float64Array(clusterCount * d);
  const sizes = new Int32Array(clusterCount);
  for (let i = 0; i < n; i++) {
    const c = clustering.cells[i]!;
    sizes[c]!++;
    const target = c * d;
    const source = i * d;
    for (let f = 0; f < d; f++) centres[target + f]! += centered[source + f]!;
  }
  for (let c = 0; c < clusterCount; c++) {
    const scale = sizes[c]! > 0 ? 1 / sizes[c]! : 0;
    for (let f = 0; f < d; f++) centres[c * d + f]! *= scale;
  }
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const centre = clustering.labels[i]! * d;
    const source = i * d;
    for (let f = 0; f < d; f++) {
      const diff = centered[source + f]! - centres[centre + f]!;
      inertia += diff * diff;
    }
  }
  const { labels, order } = canonicalOrder(clustering.labels, clusterCount);
  const centroids = new Float64Array(clusterCount * d);
  for (let c = 0; c < clusterCount; c++) {
    const from = order[c]! * d;
    for (let f = 0; f < d; f++) centroids[c * d + f] = centres[from + f]! + mean[f]!;
  }
  return { labels, centroids, inertia, iterations: clustering.iterations };
}
