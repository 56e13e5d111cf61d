import { escapeKeySegment } from '../storage/index.js';
import type { ShardRange } from './config.js';

/**
 * Where a run's files live, relative to `<out>/<run>/`. Tables are Hive-partitioned by layer so DuckDB,
 * Spark and Athena prune partitions; `_work/` holds intermediate parts that the final tables supersede.
 */
export const runKeys = {
  config: 'config.json',
  samples: 'samples/part-00000.parquet',
  referencesShard: (shard: ShardRange) =>
    `_work/references/shard-${pad(shard.first)}-${pad(shard.end - 1)}.parquet`,
  referencesShardSkipped: (shard: ShardRange) =>
    `_work/references/shard-${pad(shard.first)}-${pad(shard.end - 1)}.skipped.parquet`,
  referencesLayer: (layer: string) => `references/layer=${escapeKeySegment(layer)}/part-00000.parquet`,
  referencesManifest: 'references/_manifest.json',
  skipped: (stage: string) => `skipped/stage=${stage}/part-00000.parquet`,
} as const;

function pad(n: number): string {
  return String(n).padStart(7, '0');
}

export function runUri(outUri: string, runId: string): string {
  return `${outUri.replace(/\/+$/, '')}/${runId}`;
}
