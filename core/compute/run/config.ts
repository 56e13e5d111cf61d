import { createHash } from 'node:crypto';
import type { PreprocessSpec } from '../../compute/images/preprocess.js';
import { TOKEN_POSITIONS, type TokenPositions } from '../onnx/feature-layout.js';
import { SWEEP_STAGES, type SweepStage } from './stages.js';

export { runsStage, SWEEP_STAGES, type SweepStage } from './stages.js';

/**
 * Everything a sweep needs, fixed when it starts and stored as `<out>/<run>/config.json`, so every
 * activity on every worker works from the same values. Holds URIs and numbers only, never tensors:
 * it travels in Temporal payloads.
 */
export interface SweepConfig {
  runId: string;
  /** Path or s3:// URI of the ONNX model. */
  modelUri: string;
  /**
   * sha256 of the model file when the sweep was configured. Part of the run's identity, so a new
   * checkpoint written to the same path is a new run, and workers refuse a model that changed mid-run.
   */
  modelDigest?: string;
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
  /**
   * The last step to run (SWEEP_STAGES, in order). Crops and evaluation run where an evaluator is given
   * (crops also with until 'crops'): see runsStage.
   */
  until: SweepStage;
  /** Neurons per circuits / clustering activity. */
  neuronBatch: number;
  /** Cluster counts tried per neuron (the authors: 2..5). */
  clusterCounts: number[];
  /** Seed of k-means (restarts and k-means++ initialisation). */
  seed: number;
  /**
   * Which tokens of a ViT layer's [N, T, D] output are a neuron's positions (docs/attribution.md,
   * "Token neurons"): 'all' (default) or 'patches', without the leading class / register tokens, for
   * ActMax's max, the circuit seed, the Activation baseline's mean and the heatmap seeds. CNN layers
   * ignore it. Part of the run's identity only when 'patches', so runs without it keep their ids.
   */
  tokens?: TokenPositions;
  /**
   * How long transient failures (S3 or network down, 5xx, throttling) are retried before the sweep
   * fails, in minutes (docs/reliability.md). Not part of the run's identity. Default 15.
   */
  retryWindowMinutes?: number;
  /** The image encoder of step 5 (evaluation); without it the sweep stops after the crops. */
  evaluator?: EvaluatorSpec;
  /** Also write each embedding crop as a PNG (`crop-images/`). Not part of the run's identity. */
  cropImages?: boolean;
}

/** An image encoder for the evaluation (docs/design.md step 5): any ONNX model with one image input. */
export interface EvaluatorSpec {
  /** Path or s3:// URI of the ONNX encoder. */
  uri: string;
  /** sha256 of the encoder file when the sweep was configured (as modelDigest). */
  digest?: string;
  /**
   * The tensor whose rows are the embeddings (default: the model's first output). [N, D] is taken as
   * it is; [N, T, D] (a transformer's tokens) is averaged over T, [N, C, H, W] over H and W.
   */
  output?: string;
  /** How a crop becomes the encoder's input. */
  preprocess: PreprocessSpec;
}

/** The options a user may leave out, with the authors' settings where the paper has one. */
export const CONFIG_DEFAULTS = {
  k: 100,
  batchSize: 64,
  shardSize: 1000,
  window: 4,
  limit: 0,
  until: 'evaluation',
  neuronBatch: 16,
  clusterCounts: [2, 3, 4, 5],
  seed: 0,
  tokens: 'all',
  retryWindowMinutes: 15,
} as const satisfies Partial<SweepConfig>;

export interface LayerShape {
  name: string;
  /** Per-sample dims as the model produces them, e.g. [C, H, W], or [T, D] for a transformer's tokens. */
  dims: number[];
  /** Its neurons: C, or D for tokens (core/compute/onnx/feature-layout.ts). */
  channels: number;
}

/** A half-open range [first, end) of manifest positions handled by one activity. */
export interface ShardRange {
  first: number;
  end: number;
}

/** A half-open range [first, end) of neurons (channels) of one layer. */
export interface NeuronRange {
  first: number;
  end: number;
}

export { shardRanges } from './ranges.js';

/**
 * The options that change results, as a canonical string. Two runs with the same identity write the same
 * files, so a run may be resumed with other batch sizes, windows or `until`, but not with another k.
 */
export function resultIdentity(config: SweepConfig): string {
  const fields = IDENTITY_FIELDS.filter(
    (field) =>
      !ADDED_LATER.has(field) || (config[field] !== undefined && config[field] !== ADDED_LATER.get(field)),
  );
  return JSON.stringify(Object.fromEntries(fields.map((field) => [field, config[field] ?? null])));
}

/**
 * Identity fields newer than the first runs, with the value that means what their absence meant: left
 * out when unset or at that value, so the runs before them (and runs that spell the default out) keep
 * their ids.
 */
const ADDED_LATER = new Map<keyof SweepConfig, unknown>([
  ['evaluator', undefined],
  ['tokens', 'all'],
]);

/** The fields of SweepConfig that change results (see resultIdentity). */
const IDENTITY_FIELDS = [
  'modelUri',
  'modelDigest',
  'dataUri',
  'layers',
  'k',
  'preprocess',
  'limit',
  'shardSize',
  'neuronBatch',
  'clusterCounts',
  'seed',
  'evaluator',
  'tokens',
] as const satisfies readonly (keyof SweepConfig)[];

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
    ['neuronBatch', config.neuronBatch, 1],
    ['seed', config.seed, 0],
    ['retryWindowMinutes', config.retryWindowMinutes ?? 1, 1],
  ] as const) {
    if (!Number.isInteger(value) || value < min)
      problems.push(`${name} must be an integer >= ${min}, got ${value}`);
  }
  if (config.tokens !== undefined && !TOKEN_POSITIONS.includes(config.tokens)) {
    problems.push(
      `tokens must be one of ${TOKEN_POSITIONS.join(', ')} (which tokens of a ViT layer count: all, or the patches without the class token), got ${config.tokens}`,
    );
  }
  if (!SWEEP_STAGES.includes(config.until))
    problems.push(`until must be one of ${SWEEP_STAGES.join(', ')}, got ${config.until}`);
  if (config.clusterCounts.length === 0 || config.clusterCounts.some((n) => !Number.isInteger(n) || n < 2)) {
    problems.push(`--clusters: cluster counts must be integers >= 2, got ${config.clusterCounts.join(',')}`);
  } else if (Math.max(...config.clusterCounts) > config.k) {
    problems.push(
      `--clusters: cluster counts (up to ${Math.max(...config.clusterCounts)}) cannot exceed k = ${config.k} (--k)`,
    );
  }
  if (config.until !== 'references' && config.layers.length < 2) {
    problems.push(
      '--layers: virtual neurons need at least two layers (each layer is explained by the one before it); pass two or more, or --until references',
    );
  }
  if (problems.length > 0) throw new Error(`invalid sweep configuration:\n  - ${problems.join('\n  - ')}`);
  return config;
}

/** `limit` samples evenly spaced over `total` (deterministic; all of them when limit is 0 or >= total). */
export function evenlySpaced(total: number, limit: number): number[] {
  if (limit <= 0 || limit >= total) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: limit }, (_, i) => Math.floor((i * total) / limit));
}

/** The digest stored in SweepConfig.modelDigest. */
export function modelDigestOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
