import type { NeuronRange, ShardRange } from './config.js';
import { escapeKeySegment } from './keys.js';

/**
 * Where a run's files live, relative to `<out>/<run>/`. Tables are Hive-partitioned by layer so DuckDB,
 * Spark and Athena prune partitions; `_work/` holds intermediate parts that the final tables supersede.
 * A table's folder holds nothing but Parquet (readers such as polars and pyarrow datasets open every file
 * in it): the completion manifests live apart, under `_manifests/`.
 */
export const runKeys = {
  config: 'config.json',
  samples: 'samples/part-00000.parquet',
  /** A shard's top-k of one layer: merges read only their layer's parts. */
  referencesShard: (shard: ShardRange, layer: string) =>
    `_work/references/layer=${escapeKeySegment(layer)}/shard-${pad(shard.first)}-${pad(shard.end - 1)}.parquet`,
  /** The shard's skipped images, written after its layer parts: its presence means the shard is complete. */
  referencesShardSkipped: (shard: ShardRange) =>
    `_work/references/shard-${pad(shard.first)}-${pad(shard.end - 1)}.skipped.parquet`,
  referencesLayer: (layer: string) => `references/layer=${escapeKeySegment(layer)}/part-00000.parquet`,
  /** The references stage's parts, written last: its presence means the stage is complete. */
  referencesManifest: '_manifests/references.json',
  skipped: (stage: string) => `skipped/stage=${stage}/part-00000.parquet`,
  skippedCircuits: (layer: string) => `skipped/stage=circuits/layer-${escapeKeySegment(layer)}.parquet`,
  /** Per upper layer and neuron range: one part per circuits / clustering activity. */
  layerPart: (table: LayerTable, layer: string, neurons: NeuronRange) =>
    `${table}/layer=${escapeKeySegment(layer)}/part-${pad(neurons.first)}-${pad(neurons.end - 1)}.parquet`,
  /** The layer's parts of one table, written when the layer is done: its presence means they are complete. */
  layerManifest: (table: LayerTable, layer: string) =>
    `_manifests/${table}/layer=${escapeKeySegment(layer)}.json`,
  circuitsSkipped: (layer: string, neurons: NeuronRange) =>
    `_work/circuits/layer=${escapeKeySegment(layer)}/part-${pad(neurons.first)}-${pad(neurons.end - 1)}.skipped.parquet`,
} as const;

/** The per-layer tables of steps 2 and 3. */
export const LAYER_TABLES = ['relevance', 'activations', 'clusters', 'neurons'] as const;
export type LayerTable = (typeof LAYER_TABLES)[number];

function pad(n: number): string {
  return String(n).padStart(7, '0');
}

export function runUri(outUri: string, runId: string): string {
  return `${outUri.replace(/\/+$/, '')}/${runId}`;
}
