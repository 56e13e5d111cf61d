/**
 * Comparing partitions (adjusted Rand index) and the evaluation of docs/design.md step 5: how far apart the
 * embeddings of a neuron's reference crops are inside and between its virtual neurons.
 */
import { denseLabels, type Labels } from './labels.js';
import { type PointsInput, pairwiseDistances, toRowMatrix } from './points.js';

/**
 * Adjusted Rand index (Hubert & Arabie 1985) as scikit-learn's `adjusted_rand_score`: from the pair
 * confusion counts, 2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn)); 1 when the two
 * labelings agree on every pair (including the degenerate cases with no pair of one kind).
 */
export function adjustedRandIndex(a: Labels, b: Labels): number {
  if (a.length !== b.length) throw new Error(`labelings differ in length: ${a.length} and ${b.length}`);
  const n = a.length;
  const left = denseLabels(a);
  const right = denseLabels(b);
  const table = new Map<number, number>();
  const leftSizes = new Float64Array(left.count);
  const rightSizes = new Float64Array(right.count);
  for (let i = 0; i < n; i++) {
    const key = left.ids[i]! * right.count + right.ids[i]!;
    table.set(key, (table.get(key) ?? 0) + 1);
    leftSizes[left.ids[i]!]!++;
    rightSizes[right.ids[i]!]!++;
  }
  let sumSquares = 0;
  for (const count of table.values()) sumSquares += count * count;
  // Ordered pairs: together in both, in a only, in b only, apart in both.
  const together = sumSquares - n;
  const onlyRight = sumOfSquares(rightSizes) - sumSquares;
  const onlyLeft = sumOfSquares(leftSizes) - sumSquares;
  const apart = n * n - onlyRight - onlyLeft - sumSquares;
  if (onlyLeft === 0 && onlyRight === 0) return 1;
  return (
    (2 * (together * apart - onlyLeft * onlyRight)) /
    ((together + onlyLeft) * (onlyLeft + apart) + (together + onlyRight) * (onlyRight + apart))
  );
}

function sumOfSquares(values: Float64Array): number {
  let sum = 0;
  for (const value of values) sum += value * value;
  return sum;
}

/** Mean pairwise Euclidean distances of a labelled set of embeddings. */
export interface ClusterDistances {
  /** Over pairs of distinct points in the same cluster. */
  readonly inner: number;
  /** Over pairs of points in different clusters. */
  readonly inter: number;
  /** Over all pairs of distinct points. */
  readonly overall: number;
}

/**
 * Inner and inter distances as the authors compute them (PURE's eval_CLIP_alignment.py): means pooled
 * over all pairs of points, not per cluster; with a single cluster "inter" falls back to "inner", with
 * only singleton clusters "inner" falls back to "inter".
 */
export function clusterDistances(embeddings: PointsInput, labels: Labels): ClusterDistances {
  const matrix = toRowMatrix(embeddings);
  if (labels.length !== matrix.rows) throw new Error(`${labels.length} labels for ${matrix.rows} points`);
  return clusterDistancesFromMatrix(pairwiseDistances(matrix), labels);
}

/** The same from a precomputed n x n distance matrix. */
export function clusterDistancesFromMatrix(distances: Float64Array, labels: Labels): ClusterDistances {
  const n = labels.length;
  if (distances.length !== n * n)
    throw new Error(`distance matrix has ${distances.length} entries for ${n} points`);
  if (n < 2) throw new Error('pairwise distances need at least two points');
  const { ids } = denseLabels(labels);
  let innerSum = 0;
  let innerPairs = 0;
  let interSum = 0;
  let interPairs = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const distance = distances[i * n + j]!;
      if (ids[i] === ids[j]) {
        innerSum += distance;
        innerPairs++;
      } else {
        interSum += distance;
        interPairs++;
      }
    }
  }
  const inner = innerPairs > 0 ? innerSum / innerPairs : interSum / interPairs;
  const inter = interPairs > 0 ? interSum / interPairs : inner;
  return { inner, inter, overall: (innerSum + interSum) / (innerPairs + interPairs) };
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) throw new Error('the mean of no values is undefined');
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/** Standard error of the mean: sample standard deviation (n - 1) / sqrt(n). */
export function standardError(values: ArrayLike<number>): number {
  if (values.length < 2) throw new Error('the standard error needs at least two values');
  const average = mean(values);
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - average) ** 2;
  return Math.sqrt(squares / (values.length - 1) / values.length);
}

export interface MeanAndError {
  readonly mean: number;
  readonly standardError: number;
}

/** Mean and standard error that degrade to NaN instead of throwing on too few values (summaries). */
export function meanAndStandardError(values: readonly number[]): MeanAndError {
  return {
    mean: values.length > 0 ? mean(values) : Number.NaN,
    standardError: values.length > 1 ? standardError(values) : Number.NaN,
  };
}

/**
 * The error bar of the authors' figure, np.std(x) / len(x) (population standard deviation over n, not
 * over sqrt(n)): only for reproducing their plot; report `standardError`.
 */
export function paperErrorBar(values: ArrayLike<number>): number {
  const average = mean(values);
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - average) ** 2;
  return Math.sqrt(squares / values.length) / values.length;
}
