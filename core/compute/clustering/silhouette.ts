/**
 * The silhouette (Rousseeuw 1987) with scikit-learn's semantics: Euclidean distances; for point i with
 * a = mean distance to the other members of its cluster and b = the least mean distance to another
 * cluster, s_i = (b - a) / max(a, b); s_i = 0 for a point alone in its cluster (and where a = b = 0);
 * the score is the mean of s_i. Defined for 2 <= number of clusters <= n - 1.
 */
import { denseLabels, type Labels } from './labels.js';
import { type PointsInput, pairwiseDistances, toRowMatrix } from './points.js';

/** Mean silhouette coefficient of a labelled point set. */
export function silhouetteScore(points: PointsInput, labels: Labels): number {
  const matrix = toRowMatrix(points);
  if (labels.length !== matrix.rows) throw new Error(`${labels.length} labels for ${matrix.rows} points`);
  return silhouetteFromDistances(pairwiseDistances(matrix), labels);
}

/** Mean silhouette coefficient from a precomputed n x n distance matrix. */
export function silhouetteFromDistances(distances: Float64Array, labels: Labels): number {
  const samples = silhouetteSamplesFromDistances(distances, labels);
  let sum = 0;
  for (const value of samples) sum += value;
  return sum / samples.length;
}

/** Silhouette coefficient of every point from a precomputed n x n distance matrix. */
export function silhouetteSamplesFromDistances(distances: Float64Array, labels: Labels): Float64Array {
  const n = labels.length;
  if (distances.length !== n * n)
    throw new Error(`distance matrix has ${distances.length} entries for ${n} points`);
  const { ids, count } = denseLabels(labels);
  if (count < 2 || count > n - 1) {
    throw new Error(`the silhouette needs 2 to n - 1 = ${n - 1} clusters, got ${count}`);
  }
  const sizes = new Int32Array(count);
  for (let i = 0; i < n; i++) sizes[ids[i]!]!++;
  const sums = new Float64Array(count);
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    const row = i * n;
    for (let j = 0; j < n; j++) sums[ids[j]!]! += distances[row + j]!;
    const own = ids[i]!;
    if (sizes[own] === 1) continue; // a singleton's coefficient is 0
    const within = sums[own]! / (sizes[own]! - 1);
    let between = Number.POSITIVE_INFINITY;
    for (let c = 0; c < count; c++) {
      if (c !== own) between = Math.min(between, sums[c]! / sizes[c]!);
    }
    const scale = Math.max(within, between);
    samples[i] = scale > 0 ? (between - within) / scale : 0;
  }
  return samples;
}
