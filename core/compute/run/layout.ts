import type { NeuronRange, ShardRange, SweepConfig } from './config.js';
import { escapeKeySegment } from './keys.js';
import { runsStage, type SweepStage } from './stages.js';

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
  /** A crop as a PNG (`--crop-images`): not a table, so it lives apart from the Parquet folders. */
  cropImage: (layer: string, neuron: number, rank: number) =>
    `crop-images/layer=${escapeKeySegment(layer)}/neuron-${pad(neuron)}/rank-${String(rank).padStart(4, '0')}.png`,
  /**
   * The circuits' verdicts of a neuron batch, when the evaluation makes the final ones (docs/clustering.md,
   * "Calibration against embeddings"): the virtual-neurons stage's last write, superseded by `neurons/`.
   */
  circuitVerdicts: (layer: string, neurons: NeuronRange) =>
    `_work/verdicts/layer=${escapeKeySegment(layer)}/part-${pad(neurons.first)}-${pad(neurons.end - 1)}.parquet`,
  circuitsSkipped: (layer: string, neurons: NeuronRange) =>
    `_work/circuits/layer=${escapeKeySegment(layer)}/part-${pad(neurons.first)}-${pad(neurons.end - 1)}.skipped.parquet`,
} as const;

/**
 * Where `pure assign`'s files live, relative to its own folder `<assign>/` (docs/outputs.md, "Assigning
 * new images"): the same conventions as a run's (Hive partitions by layer, manifests and work apart).
 */
export const assignKeys = {
  config: 'config.json',
  samples: 'samples/part-00000.parquet',
  /** A layer's virtual neurons as centroids: what every assign shard reads. */
  centroids: (layer: string) => `centroids/layer=${escapeKeySegment(layer)}/part-00000.parquet`,
  assignments: (layer: string, shard: ShardRange) =>
    `assignments/layer=${escapeKeySegment(layer)}/part-${pad(shard.first)}-${pad(shard.end - 1)}.parquet`,
  /** A shard's counts and skipped images, written after its parts: its presence means the shard is complete. */
  shardDone: (shard: ShardRange) => `_work/assign/shard-${pad(shard.first)}-${pad(shard.end - 1)}.json`,
  skipped: 'skipped/stage=assign/part-00000.parquet',
  /** Written last: its presence means the assignment is complete. */
  manifest: '_manifests/assign.json',
} as const;

/** The per-layer tables of each stage that writes one part per neuron batch. */
export const STAGE_TABLES = {
  'virtual-neurons': ['relevance', 'activations', 'clusters', 'neurons'],
  crops: ['crops'],
  evaluation: ['embeddings', 'virtual_neurons', 'evaluation'],
} as const satisfies Partial<Record<SweepStage, readonly string[]>>;
export type LayerTable = (typeof STAGE_TABLES)[keyof typeof STAGE_TABLES][number];

/** The per-layer tables a sweep writes, given the stages it runs. */
export function layerTablesOf(config: Pick<SweepConfig, 'until' | 'evaluator'>): LayerTable[] {
  return (Object.keys(STAGE_TABLES) as (keyof typeof STAGE_TABLES)[])
    .filter((stage) => runsStage(config, stage))
    .flatMap((stage) => STAGE_TABLES[stage]);
}

function pad(n: number): string {
  return String(n).padStart(7, '0');
}

export function runUri(outUri: string, runId: string): string {
  return `${outUri.replace(/\/+$/, '')}/${runId}`;
}

/** The tables `pure compare` writes. */
export const COMPARE_TABLES = ['compare', 'compare_virtual_neurons'] as const;
export type CompareTable = (typeof COMPARE_TABLES)[number];

/**
 * Where `pure compare A B` writes, relative to its output root (run B's folder, or --out): each table
 * partitioned by the run compared with (`against=<A's run id>`), then by layer, so a run can hold its
 * comparisons with several earlier runs side by side and `pure query` reads them all as one table.
 */
export const compareKeys = {
  /** All of one comparison's parts of a table: replaced as a whole when the comparison is run again. */
  partition: (table: CompareTable, against: string) => `${table}/against=${escapeKeySegment(against)}`,
  part: (table: CompareTable, against: string, layer: string) =>
    `${compareKeys.partition(table, against)}/layer=${escapeKeySegment(layer)}/part-00000.parquet`,
} as const;

/**
 * A schedule's memory of its last run, relative to the schedule's output root (beside the runs): which run
 * the next firing compares with (`pure schedule create --compare-previous`).
 */
export const scheduleKeys = {
  lastRun: (scheduleId: string) => `_schedules/${escapeKeySegment(scheduleId)}.json`,
} as const;
