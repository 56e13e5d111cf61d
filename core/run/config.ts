import type { PreprocessSpec } from '../datasets/preprocess.js';

/**
 * Everything a sweep needs, fixed when it starts and stored as `<out>/<run>/config.json`, so every
 * activity on every worker works from the same values. Holds URIs and numbers only, never tensors:
 * it travels in Temporal payloads.
 */
export interface SweepConfig {
  runId: string;
  /** Path or s3:// URI of the ONNX model. */
  modelUri: string;
  /** Folder or s3:// prefix of images (flat or class sub-folders). */
  dataUri: string;
  /** Output root (folder or s3:// prefix); the run writes under `<outUri>/<runId>/`. */
  outUri: string;
  /** Tensor names, in order (lower layer first). */
  layers: string[];
  /** References per neuron (the authors use 100). */
  k: number;
  preprocess: PreprocessSpec;
  /** Images per onnxruntime call. */
  batchSize: number;
  /** Images per references activity. */
  shardSize: number;
  /** Activities in flight at once per fan-out. */
  window: number;
  /** Use only this many samples, evenly spaced over the sorted dataset (0 = all). */
  limit: number;
}

export interface LayerShape {
  name: string;
  /** Per-sample dims as the model produces them, e.g. [C, H, W]. */
  dims: number[];
  channels: number;
}

/** A half-open range [first, end) of manifest positions handled by one activity. */
export interface ShardRange {
  first: number;
  end: number;
}

export function shardRanges(total: number, shardSize: number): ShardRange[] {
  const shards: ShardRange[] = [];
  for (let first = 0; first < total; first += shardSize)
    shards.push({ first, end: Math.min(total, first + shardSize) });
  return shards;
}

export function validateConfig(config: SweepConfig): SweepConfig {
  const problems: string[] = [];
  if (!config.runId || /[/\\]|^\.\.?$/.test(config.runId))
    problems.push(`run id must be one path segment, got "${config.runId}"`);
  if (config.layers.length === 0) problems.push('at least one layer is needed (--layers a,b or auto)');
  if (new Set(config.layers).size !== config.layers.length) problems.push('--layers lists a layer twice');
  for (const [name, value, min] of [
    ['k', config.k, 1],
    ['batchSize', config.batchSize, 1],
    ['shardSize', config.shardSize, 1],
    ['window', config.window, 1],
    ['limit', config.limit, 0],
  ] as const) {
    if (!Number.isInteger(value) || value < min)
      problems.push(`${name} must be an integer >= ${min}, got ${value}`);
  }
  if (problems.length > 0) throw new Error(`invalid sweep configuration:\n  - ${problems.join('\n  - ')}`);
  return config;
}

/** `limit` samples evenly spaced over `total` (deterministic; all of them when limit is 0 or >= total). */
export function evenlySpaced(total: number, limit: number): number[] {
  if (limit <= 0 || limit >= total) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: limit }, (_, i) => Math.floor((i * total) / limit));
}
