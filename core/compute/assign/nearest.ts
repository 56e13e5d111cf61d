/**
 * Nearest-centroid assignment of a circuit vector to a neuron's virtual neurons: Euclidean distance on
 * the normalised circuit vectors, the metric k-means clustered them with, so a reference image whose
 * circuit is recomputed lands in the virtual neuron k-means gave it (a converged Lloyd labelling is
 * exactly "each point in the cell of its nearest centre").
 */
import { groupBy } from '../group.js';
import type { CentroidRow } from '../tables/schemas.js';

/** One neuron's virtual neurons, ready for assignment. */
export interface VirtualNeuronSet {
  readonly layer: string;
  readonly neuron: number;
  readonly nClusters: number;
  /** Cluster id of each centroid, ascending. */
  readonly clusters: Int32Array;
  /** clusters.length x d, row-major. */
  readonly centroids: Float32Array;
  readonly dimensions: number;
}

/** The centroids table's rows of a layer as one set per neuron, in neuron order. */
export function virtualNeuronSets(rows: readonly CentroidRow[]): VirtualNeuronSet[] {
  const byNeuron = groupBy(rows, (r) => r.neuron);
  return [...byNeuron.values()]
    .map((members) => {
      const sorted = [...members].sort((a, b) => a.cluster - b.cluster);
      const first = sorted[0]!;
      const d = first.centroid.length;
      const centroids = new Float32Array(sorted.length * d);
      sorted.forEach((r, i) => {
        if (r.centroid.length !== d)
          throw new Error(`${first.layer} neuron ${first.neuron}: centroids differ in length`);
        centroids.set(r.centroid, i * d);
      });
      return {
        layer: first.layer,
        neuron: first.neuron,
        nClusters: first.nClusters,
        clusters: Int32Array.from(sorted, (r) => r.cluster),
        centroids,
        dimensions: d,
      };
    })
    .sort((a, b) => a.neuron - b.neuron);
}

export interface Nearest {
  /** The virtual neuron (cluster id) with the nearest centroid; the lower id on a tie. */
  readonly cluster: number;
  readonly distance: number;
  /** Second-nearest distance minus the nearest; null with one centroid. */
  readonly margin: number | null;
}

/** The nearest centroid of `set` to `vector` (float64 arithmetic on float32 inputs). */
export function nearestVirtualNeuron(set: VirtualNeuronSet, vector: ArrayLike<number>): Nearest {
  const d = set.dimensions;
  if (vector.length !== d) {
    throw new Error(
      `${set.layer} neuron ${set.neuron}: circuit has ${vector.length} channels, centroids ${d}`,
    );
  }
  let best = -1;
  let bestSquared = Number.POSITIVE_INFINITY;
  let secondSquared = Number.POSITIVE_INFINITY;
  for (let c = 0; c < set.clusters.length; c++) {
    let squared = 0;
    for (let f = 0; f < d; f++) squared += (vector[f]! - set.centroids[c * d + f]!) ** 2;
    if (squared < bestSquared) {
      secondSquared = bestSquared;
      bestSquared = squared;
      best = c;
    } else if (squared < secondSquared) {
      secondSquared = squared;
    }
  }
  if (best < 0) throw new Error(`${set.layer} neuron ${set.neuron} has no centroids`);
  const distance = Math.sqrt(bestSquared);
  return {
    cluster: set.clusters[best]!,
    distance,
    margin: Number.isFinite(secondSquared) ? Math.sqrt(secondSquared) - distance : null,
  };
}

/** A circuit that is zero everywhere: the neuron passed no gradient (silent on the image). */
export function isZeroVector(vector: ArrayLike<number>): boolean {
  for (let i = 0; i < vector.length; i++) if (vector[i] !== 0) return false;
  return true;
}
