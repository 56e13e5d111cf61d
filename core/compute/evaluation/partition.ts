/**
 * A neuron's reference set as the evaluation sees it: the n x n distances between the references'
 * embeddings (computed once, float64) and partitions of the references into clusters. Every statistic of
 * step 5 (observed, permuted, per cluster) is a sum of distances over pairs inside clusters, so the
 * members of each cluster are listed once and only their pairs are visited (sum of s_c^2 / 2 pairs
 * instead of n^2 / 2 per partition).
 */
import { denseLabels, type Labels } from '../clustering/labels.js';

/** A labelling reduced to dense cluster ids 0..count-1 (first appearance in reference order). */
export interface Partition {
  readonly ids: Int32Array;
  readonly count: number;
  /** Size of each dense cluster (none is empty). */
  readonly sizes: Int32Array;
}

export function partitionOf(labels: Labels): Partition {
  const { ids, count } = denseLabels(labels);
  const sizes = new Int32Array(count);
  for (const id of ids) sizes[id]!++;
  return { ids, count, sizes };
}

/** Cluster sizes, largest first (the table column: comparable across methods whatever the numbering). */
export function sizesDescending(partition: Partition): Int32Array {
  return Int32Array.from(partition.sizes).sort().reverse();
}

/** Number of unordered pairs of distinct references inside clusters; constant under permutation. */
export function innerPairCount(sizes: Int32Array): number {
  let pairs = 0;
  for (const size of sizes) pairs += (size * (size - 1)) / 2;
  return pairs;
}

/**
 * The members of each cluster, grouped by a counting sort: members of cluster c are
 * `order[start[c] .. start[c + 1])`, in increasing reference order.
 */
export interface Members {
  readonly order: Int32Array;
  readonly start: Int32Array;
}

export function membersOf(ids: Int32Array, count: number): Members {
  const start = new Int32Array(count + 1);
  for (const id of ids) start[id + 1]!++;
  for (let c = 0; c < count; c++) start[c + 1]! += start[c]!;
  const next = start.slice(0, count);
  const order = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) order[next[ids[i]!]!++] = i;
  return { order, start };
}

/** Sum of the distances between distinct members of one cluster (each unordered pair once). */
export function clusterDistanceSum(
  distances: Float64Array,
  n: number,
  members: Members,
  cluster: number,
): number {
  const { order, start } = members;
  const end = start[cluster + 1]!;
  let sum = 0;
  for (let a = start[cluster]!; a < end; a++) {
    const row = order[a]! * n;
    for (let b = a + 1; b < end; b++) sum += distances[row + order[b]!]!;
  }
  return sum;
}

/** Sum of the distances over all pairs inside clusters. */
export function innerDistanceSum(distances: Float64Array, n: number, ids: Int32Array, count: number): number {
  const members = membersOf(ids, count);
  let sum = 0;
  for (let c = 0; c < count; c++) sum += clusterDistanceSum(distances, n, members, c);
  return sum;
}

/** Sum of the distances over all unordered pairs of distinct references. */
export function totalDistanceSum(distances: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = i + 1; j < n; j++) sum += distances[row + j]!;
  }
  return sum;
}
