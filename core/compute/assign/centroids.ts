/**
 * The virtual neurons of a run as centroids in circuit space (docs/outputs.md, "Assigning new images").
 * k-means (core/compute/clustering) clusters the raw circuit vectors, sum |R_j| = 1 each, by Euclidean
 * distance, and every Lloyd centre is the mean of its cell; so the mean of a cluster's stored members is
 * the centre k-means converged to, and the nearest such mean is the rule its labels satisfy.
 */
import { groupBy } from '../group.js';
import type { NeuronRange } from '../run/config.js';
import type { CentroidRow, ClusterRow, NeuronRow, RelevanceRow } from '../tables/schemas.js';
import { type CountChoice, selectsNeuron } from './selection.js';

/** The count a neuron's images are assigned at (CountChoice); at least 1. */
export function countFor(neuron: Pick<NeuronRow, 'nClusters' | 'bestCount'>, choice: CountChoice): number {
  if (choice === 'chosen') return Math.max(1, neuron.nClusters);
  if (choice === 'best') return neuron.bestCount > 0 ? neuron.bestCount : Math.max(1, neuron.nClusters);
  return choice;
}

export interface ClusterMeans {
  /** Members per cluster id 0..count-1 (0 for a cluster no point belongs to). */
  readonly sizes: Int32Array;
  /** count x d, row-major, float64 sums divided by the sizes (zero rows for empty clusters). */
  readonly means: Float64Array;
  /** Mean Euclidean distance of the members to their mean (0 for empty clusters). */
  readonly meanDistances: Float64Array;
}

/** The mean of each cluster's vectors, accumulated in float64, and how far its members lie from it. */
export function clusterMeans(
  vectors: readonly ArrayLike<number>[],
  labels: ArrayLike<number>,
  count: number,
): ClusterMeans {
  const d = vectors[0]?.length ?? 0;
  const sizes = new Int32Array(count);
  const means = new Float64Array(count * d);
  vectors.forEach((v, i) => {
    const c = labels[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= count) throw new Error(`label ${c} is outside 0..${count - 1}`);
    if (v.length !== d) throw new Error(`vector ${i} has ${v.length} entries, expected ${d}`);
    sizes[c]!++;
    for (let f = 0; f < d; f++) means[c * d + f]! += v[f]!;
  });
  for (let c = 0; c < count; c++) {
    const scale = sizes[c]! > 0 ? 1 / sizes[c]! : 0;
    for (let f = 0; f < d; f++) means[c * d + f]! *= scale;
  }
  const meanDistances = new Float64Array(count);
  vectors.forEach((v, i) => {
    const c = labels[i]!;
    let squared = 0;
    for (let f = 0; f < d; f++) squared += (v[f]! - means[c * d + f]!) ** 2;
    meanDistances[c]! += Math.sqrt(squared) / sizes[c]!;
  });
  return { sizes, means, meanDistances };
}

/**
 * The centroids of one neuron at `count` virtual neurons: its references' circuits grouped by their
 * `pure` cluster at that count (`clusterOfRank`), or all of them as one virtual neuron when count is 1
 * or the run has no clustering at that count (a neuron with fewer references than clusters). Clusters
 * without members get no centroid: nothing can be assigned to them.
 */
export function neuronCentroids(
  relevance: readonly RelevanceRow[],
  clusterOfRank: ReadonlyMap<number, number> | undefined,
  count: number,
): CentroidRow[] {
  const rows = [...relevance].sort((a, b) => a.rank - b.rank);
  const first = rows[0];
  if (!first) return [];
  const whole = count === 1 || clusterOfRank === undefined;
  const labels = rows.map((r) => {
    if (whole) return 0;
    const label = clusterOfRank.get(r.rank);
    if (label === undefined)
      throw new Error(`${first.layer} neuron ${first.neuron}: rank ${r.rank} has no cluster`);
    return label;
  });
  const nClusters = whole ? 1 : count;
  const { sizes, means, meanDistances } = clusterMeans(
    rows.map((r) => r.relevance),
    labels,
    nClusters,
  );
  const d = first.relevance.length;
  const centroids: CentroidRow[] = [];
  for (let cluster = 0; cluster < nClusters; cluster++) {
    if (sizes[cluster] === 0) continue;
    centroids.push({
      layer: first.layer,
      lowerLayer: first.lowerLayer,
      neuron: first.neuron,
      nClusters,
      cluster,
      size: sizes[cluster]!,
      meanDistance: meanDistances[cluster]!,
      centroid: Float32Array.from(means.subarray(cluster * d, (cluster + 1) * d)),
    });
  }
  return centroids;
}

/**
 * The centroids of the selected neurons of one part of a run (the relevance, clusters and neurons rows
 * of one neuron batch), each at the count `choice` gives it.
 */
export function centroidsOfPart(
  part: {
    readonly relevance: readonly RelevanceRow[];
    readonly clusters: readonly ClusterRow[];
    readonly neurons: readonly NeuronRow[];
  },
  choice: CountChoice,
  selection: readonly NeuronRange[] | null,
): CentroidRow[] {
  const relevanceOf = groupBy(part.relevance, (r) => r.neuron);
  const pure = part.clusters.filter((c) => c.method === 'pure');
  const clustersOf = groupBy(pure, (c) => `${c.neuron}/${c.nClusters}`);
  const rows: CentroidRow[] = [];
  for (const neuron of [...part.neurons].sort((a, b) => a.neuron - b.neuron)) {
    if (!selectsNeuron(selection, neuron.neuron)) continue;
    const count = countFor(neuron, choice);
    const clustering = clustersOf.get(`${neuron.neuron}/${count}`);
    const clusterOfRank = clustering ? new Map(clustering.map((c) => [c.rank, c.cluster])) : undefined;
    for (const row of neuronCentroids(relevanceOf.get(neuron.neuron) ?? [], clusterOfRank, count))
      rows.push(row);
  }
  return rows;
}
