/** Per-virtual-neuron rows: how tight each cluster is and which class dominates it. */
import { clusterDistanceSum, membersOf, type Partition } from './partition.js';
import type { ReferenceSpace } from './permutation.js';
import { clusterMajority } from './purity.js';
import type { Clustering, VirtualNeuronEvaluationRow } from './types.js';

/** One row per non-empty cluster, ordered by the cluster's label as given. */
export function virtualNeuronRows(
  space: ReferenceSpace,
  clustering: Clustering,
  partition: Partition,
): VirtualNeuronEvaluationRow[] {
  const members = membersOf(partition.ids, partition.count);
  const rows: VirtualNeuronEvaluationRow[] = [];
  for (let c = 0; c < partition.count; c++) {
    const start = members.start[c]!;
    const size = partition.sizes[c]!;
    const pairs = (size * (size - 1)) / 2;
    const sum = clusterDistanceSum(space.distances, space.size, members, c);
    rows.push({
      method: clustering.method,
      nClusters: clustering.nClusters,
      // Dense ids follow first appearance, so the first member carries the cluster's own label.
      cluster: clustering.labels[members.order[start]!]!,
      size,
      inner: pairs > 0 ? sum / pairs : Number.NaN,
      ...clusterMajority(space.classes, members.order.subarray(start, start + size)),
    });
  }
  return rows.sort((a, b) => a.cluster - b.cluster);
}
