import type { ReferenceRow } from '../tables/schemas.js';
import { mergeTopK, referenceRows } from './topk.js';

/**
 * Merges the per-shard references of one layer into its global top-k per neuron, ranked 1..k.
 * Shards hold disjoint samples; the order is the total order of `compareCandidates`.
 */
export function mergeLayerReferences(
  layer: string,
  shardRows: readonly ReferenceRow[],
  k: number,
): ReferenceRow[] {
  const byNeuron = new Map<number, ReferenceRow[]>();
  const bySample = new Map<number, ReferenceRow>();
  for (const row of shardRows) {
    if (row.layer !== layer) continue;
    const list = byNeuron.get(row.neuron) ?? [];
    if (list.length === 0) byNeuron.set(row.neuron, list);
    list.push(row);
    bySample.set(row.sampleIndex, row);
  }
  const merged: ReferenceRow[] = [];
  for (const neuron of [...byNeuron.keys()].sort((a, b) => a - b)) {
    merged.push(
      ...referenceRows(layer, neuron, mergeTopK([byNeuron.get(neuron)!], k), (i) => bySample.get(i)!),
    );
  }
  return merged;
}
