import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { listLayers } from '../adapters/onnxruntime/attribution.js';
import { readUri } from '../adapters/storage/blob.js';
import { asInputError, InputError } from '../compute/errors.js';
import {
  defaultPreprocess,
  type PreprocessSpec,
  parsePreprocessOption,
} from '../compute/images/preprocess.js';
import type { TokenPositions } from '../compute/onnx/feature-layout.js';
import { decodeModel, type ModelProto } from '../compute/onnx/model.js';
import {
  modelDigestOf,
  resultIdentity,
  type SweepConfig,
  type SweepStage,
  validateConfig,
} from '../compute/run/config.js';
import { stageOutputs } from '../compute/run/layers.js';
import { checkLayerOrder } from '../compute/run/model-checks.js';
import { configureEvaluator, type EvaluatorRequest } from './evaluator.js';
import { decodeModelOption, modelInputOption } from './preflight.js';

/**
 * What a user asks for (the options of `pure run`, or a schedule's stored request); `configureSweep`
 * turns it into the fixed SweepConfig of one run by reading the model (digest, input size, auto layers).
 */
export interface SweepRequest {
  model: string;
  data: string;
  layers: string;
  out: string;
  run?: string;
  k: number;
  batchSize: number;
  shardSize: number;
  window: number;
  limit: number;
  until: SweepStage;
  neuronBatch: number;
  clusters: number[];
  seed: number;
  /** Which tokens of a ViT layer count (SweepConfig.tokens); default 'all'. */
  tokens?: TokenPositions;
  preprocess?: string;
  /** Minutes of transient failures ridden out (SweepConfig.retryWindowMinutes). */
  retryWindow?: number;
  /** The image encoder of step 5 (path or s3://), its output tensor and preprocessing. */
  evaluator?: string;
  evaluatorOutput?: string;
  evaluatorPreprocess?: string;
  /** Keep each embedding crop as a PNG. */
  cropImages?: boolean;
}

/** Local paths become absolute so every worker, wherever it runs, reads the same files. */
export function normaliseUri(uri: string): string {
  return uri.startsWith('s3://') ? uri.replace(/\/+$/, '') : resolve(uri);
}

function parsePreprocess(value: string | undefined, inputSize: number): PreprocessSpec {
  return value
    ? parsePreprocessOption(value, '--preprocess', 'InvalidPreprocess')
    : defaultPreprocess(inputSize);
}

/**
 * The run id defaults to the model name plus a hash of everything that changes results, so running the
 * same command again resumes (or no-ops) instead of starting over.
 */
function defaultRunId(config: Omit<SweepConfig, 'runId'>): string {
  const hash = createHash('sha256')
    .update(resultIdentity({ ...config, runId: '' }))
    .digest('hex')
    .slice(0, 10);
  return `${basename(config.modelUri).replace(/\.onnx$/i, '')}-${hash}`;
}

/** The model file's bytes, or an error that names `--model` and says what to pass. */
async function readModelOption(uri: string): Promise<Uint8Array> {
  try {
    return await readUri(uri);
  } catch (error) {
    throw new InputError(
      'InvalidModel',
      `--model ${uri}: cannot read it (${(error as Error).message}); pass the path or s3:// URI of an .onnx file`,
    );
  }
}

export interface ConfiguredSweep {
  config: SweepConfig;
  /** The model as read for the config (its digest is config.modelDigest): preflight checks it. */
  model: ModelProto;
}

/** Reads the model once: its digest, input size, candidate layers (for `auto`) and tensor names. */
export async function configureSweepWithModel(options: SweepRequest): Promise<ConfiguredSweep> {
  const modelUri = normaliseUri(options.model);
  const modelBytes = await readModelOption(modelUri);
  const model = decodeModelOption(modelBytes, modelUri);
  const input = modelInputOption(model, modelUri);
  const layers = options.layers
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  const auto = layers.length === 1 && layers[0] === 'auto';
  const partial = {
    modelUri,
    modelDigest: modelDigestOf(modelBytes),
    dataUri: normaliseUri(options.data),
    outUri: normaliseUri(options.out),
    // Preparing (folding, probing) works on its own copy of the graph.
    layers: auto ? stageOutputs(await listLayers(decodeModel(modelBytes))) : layers,
    k: options.k,
    preprocess: parsePreprocess(options.preprocess, input.height),
    batchSize: options.batchSize,
    shardSize: options.shardSize,
    window: options.window,
    limit: options.limit,
    until: options.until,
    neuronBatch: options.neuronBatch,
    clusterCounts: options.clusters,
    seed: options.seed,
    // Stored only when not the default, so config.json and the run id of a default run stay as they were.
    ...(options.tokens && options.tokens !== 'all' ? { tokens: options.tokens } : {}),
    ...(options.retryWindow ? { retryWindowMinutes: options.retryWindow } : {}),
    ...(options.evaluator
      ? { evaluator: await configureEvaluator(options as EvaluatorRequest, normaliseUri(options.evaluator)) }
      : {}),
    ...(options.cropImages ? { cropImages: true } : {}),
  };
  checkLayerOrder(model, partial.layers); // before any server starts: a typo costs nothing
  const config = await asInputError('InvalidConfig', () =>
    validateConfig({ runId: options.run ?? defaultRunId(partial), ...partial }),
  );
  return { config, model };
}

export async function configureSweep(options: SweepRequest): Promise<SweepConfig> {
  return (await configureSweepWithModel(options)).config;
}
