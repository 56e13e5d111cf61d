/**
 * Step 1 of PURE (docs/design.md, "References"): the run's checks and manifest (prepareSweep), ActMax
 * over one dataset shard (actMaxShard, referencesShard), the per-layer merge of the shards' top-k, and
 * the stage's manifest. Each writes deterministic keys and returns at once when its output exists.
 */
import type { Dataset } from '../adapters/datasets/dataset.js';
import type { ActivationModel } from '../adapters/onnxruntime/activations.js';
import type { ObjectStore } from '../adapters/storage/index.js';
import { readJson, readTable, writeJson, writeTable } from '../adapters/tables/io.js';
import { asInputError, InputError } from '../compute/errors.js';
import type { PreprocessSpec } from '../compute/images/preprocess.js';
import { featureView, type TokenPositions, tokensOption } from '../compute/onnx/feature-layout.js';
import type { ModelProto } from '../compute/onnx/model.js';
import { LayerReferenceMerger } from '../compute/references/merge.js';
import { offerActivationBatch, referenceRows, TopKSelector } from '../compute/references/topk.js';
import {
  type LayerShape,
  resultIdentity,
  type ShardRange,
  type SweepConfig,
  validateConfig,
} from '../compute/run/config.js';
import { runKeys } from '../compute/run/layout.js';
import {
  type ReferenceRow,
  referencesSchema,
  type SampleRow,
  type SkippedRow,
  samplesSchema,
  skippedSchema,
} from '../compute/tables/schemas.js';
import { decodeSamples, stackPixels } from './decode.js';
import { checkDataset, checkModel, checkOutputWritable } from './preflight.js';

export interface ActMaxInput {
  model: ActivationModel;
  dataset: Dataset;
  /** The samples of this shard, in manifest order. */
  samples: readonly SampleRow[];
  preprocess: PreprocessSpec;
  k: number;
  batchSize: number;
  /** Which tokens of a token layer count (SweepConfig.tokens; default 'all'). */
  tokens?: TokenPositions;
  /** Called after each batch with the number of samples processed so far (for heartbeats). */
  onProgress?: (done: number) => void;
}

export interface ActMaxResult {
  /** Per layer and neuron the shard's top-k, ranked 1..k within the shard. */
  rows: ReferenceRow[];
  skipped: SkippedRow[];
  imagesUsed: number;
}

/**
 * ActMax over one shard: forward every image once, keep per neuron the k samples with the largest
 * max-over-space (or over tokens) activation. Decoding of the next batch overlaps inference of the
 * current one.
 * Undecodable images are skipped and recorded; they never fail the shard.
 */
export async function actMaxShard(input: ActMaxInput): Promise<ActMaxResult> {
  const { model, dataset, samples, preprocess, k, batchSize } = input;
  const perImage = model.input.channels * model.input.height * model.input.width;
  const selectors = new Map<string, TopKSelector[]>();
  const byIndex = new Map(samples.map((s) => [s.sampleIndex, s]));
  const skipped: SkippedRow[] = [];
  let imagesUsed = 0;

  const batches: (readonly SampleRow[])[] = [];
  for (let i = 0; i < samples.length; i += batchSize) batches.push(samples.slice(i, i + batchSize));

  const decode = (batch: readonly SampleRow[]) =>
    decodeSamples(dataset, batch, preprocess, 'references', perImage);
  let next = batches.length > 0 ? decode(batches[0]!) : undefined;
  let done = 0;
  for (let b = 0; b < batches.length; b++) {
    const batch = await next!;
    next = b + 1 < batches.length ? decode(batches[b + 1]!) : undefined;
    for (const row of batch.skipped) skipped.push(row);
    if (batch.usable.length > 0) {
      const activations = await model.run(stackPixels(batch.usable), batch.usable.length);
      const indices = batch.usable.map((u) => u.sample.sampleIndex);
      for (const [layer, act] of activations) {
        let layerSelectors = selectors.get(layer);
        if (!layerSelectors) {
          const channels = featureView(act.dims).features;
          layerSelectors = Array.from({ length: channels }, () => new TopKSelector(k));
          selectors.set(layer, layerSelectors);
        }
        offerActivationBatch(layerSelectors, act.dims, act.data, indices, input.tokens);
      }
      imagesUsed += batch.usable.length;
    }
    done += batches[b]!.length;
    input.onProgress?.(done);
  }

  const rows: ReferenceRow[] = [];
  for (const [layer, layerSelectors] of selectors) {
    layerSelectors.forEach((selector, neuron) => {
      for (const row of referenceRows(layer, neuron, selector.sorted(), (i) => byIndex.get(i)!)) {
        rows.push(row);
      }
    });
  }
  return { rows, skipped, imagesUsed };
}

/** Counts and shapes only: the shards follow from numSamples and config.shardSize (shardRanges). */
export interface PreparedSweep {
  numSamples: number;
  layers: LayerShape[];
}

/** What prepareSweep reads besides the run's store; opened lazily so a resumed run skips what it can. */
export interface PrepareSources {
  dataset: () => Dataset;
  model: (config: SweepConfig) => Promise<ActivationModel>;
  /** The model's graph, for the preflight checks (docs/design.md, "Preflight"). */
  graph: (config: SweepConfig) => Promise<ModelProto>;
}

/**
 * Checks a run before any work and records what every later stage relies on: the config (valid, and
 * the same as a stored one: a run id never mixes two settings), the sample manifest (written once, so
 * every stage sees the same images in the same order) and each layer's shape (probed with one image).
 * The preflight checks run again here, where the workers are: a distributed run's client may not see
 * the dataset or output root as the workers do. They run before anything is written.
 */
export async function prepareSweep(
  input: SweepConfig,
  store: ObjectStore,
  sources: PrepareSources,
): Promise<PreparedSweep> {
  const config = await asInputError('InvalidConfig', () => validateConfig(input));
  await checkOutputWritable(config.outUri, { transientIsFatal: false });
  await checkModel(await asInputError('InvalidModel', () => sources.graph(config)), config, undefined);
  const stored = (await store.exists(runKeys.samples))
    ? await readTable(store, runKeys.samples, samplesSchema)
    : undefined;
  const manifest = await checkDataset(sources.dataset(), config, stored);
  await recordConfig(config, store);
  if (!stored) await writeTable(store, runKeys.samples, samplesSchema, manifest);
  const model = await asInputError('InvalidModel', () => sources.model(config));
  return {
    numSamples: manifest.length,
    layers: await probeLayerShapes(model, config.layers),
  };
}

async function recordConfig(config: SweepConfig, store: ObjectStore): Promise<void> {
  if (!(await store.exists(runKeys.config))) {
    await writeJson(store, runKeys.config, config);
    return;
  }
  const previous = await readJson<SweepConfig>(store, runKeys.config);
  if (resultIdentity(previous) !== resultIdentity(config)) {
    throw new InputError(
      'RunConfigMismatch',
      `run ${config.runId} already exists under ${config.outUri} with different options ` +
        `(stored: ${resultIdentity(previous)}; now: ${resultIdentity(config)}); ` +
        'pass another --run id, or the same options to resume it',
    );
  }
}

async function probeLayerShapes(model: ActivationModel, layers: readonly string[]): Promise<LayerShape[]> {
  const { channels, height, width } = model.input;
  const probe = await model.run(new Float32Array(channels * height * width), 1);
  return layers.map((name) => {
    const batched = probe.get(name)?.dims ?? [];
    if (batched.length < 2) throw new InputError('InvalidLayer', `layer ${name} has no channel axis`);
    return { name, dims: batched.slice(1), channels: featureView(batched).features };
  });
}

export interface ShardPart {
  key: string;
  rows: number;
  skipped: number;
  /** True when the part already existed and no inference ran (a retry or a re-run). */
  reused: boolean;
}

/**
 * ActMax of one shard written as one part per layer, then the shard's skipped list: that list existing
 * means every part of the shard is there.
 */
export async function referencesShard(
  config: SweepConfig,
  shard: ShardRange,
  store: ObjectStore,
  input: () => Promise<Omit<ActMaxInput, 'k' | 'batchSize' | 'preprocess' | 'tokens'>>,
): Promise<ShardPart> {
  const key = runKeys.referencesShardSkipped(shard);
  if (await store.exists(key)) return { key, rows: -1, skipped: -1, reused: true };
  const result = await actMaxShard({
    ...(await input()),
    preprocess: config.preprocess,
    k: config.k,
    batchSize: config.batchSize,
    ...tokensOption(config.tokens),
  });
  for (const layer of config.layers) {
    const rows = result.rows.filter((r) => r.layer === layer);
    await writeTable(store, runKeys.referencesShard(shard, layer), referencesSchema, rows);
  }
  await writeTable(store, key, skippedSchema, result.skipped);
  return { key, rows: result.rows.length, skipped: result.skipped.length, reused: false };
}

export interface MergedLayer {
  layer: string;
  key: string;
  rows: number;
  reused: boolean;
}

/**
 * The layer's references: the shards' top-k merged into the dataset's top-k. The shards' parts are read
 * one at a time and folded into a running top-k per neuron, so memory is bounded by one part plus
 * channels x k rows, not by the number of shards.
 */
export async function mergeReferences(
  config: SweepConfig,
  layer: LayerShape,
  shards: readonly ShardRange[],
  store: ObjectStore,
): Promise<MergedLayer> {
  const key = runKeys.referencesLayer(layer.name);
  if (await store.exists(key)) return { layer: layer.name, key, rows: -1, reused: true };
  const merger = new LayerReferenceMerger(layer.name, config.k);
  for (const shard of shards) {
    merger.add(await readTable(store, runKeys.referencesShard(shard, layer.name), referencesSchema));
  }
  const merged = merger.result();
  await writeTable(store, key, referencesSchema, merged);
  return { layer: layer.name, key, rows: merged.length, reused: false };
}

/** The stage's skipped images (every shard's, in shard order) and its manifest. */
export async function finishReferences(
  config: SweepConfig,
  shards: readonly ShardRange[],
  merged: readonly MergedLayer[],
  store: ObjectStore,
): Promise<{ skipped: number; manifestKey: string }> {
  const skipped: SkippedRow[] = [];
  for (const shard of shards) {
    for (const row of await readTable(store, runKeys.referencesShardSkipped(shard), skippedSchema)) {
      skipped.push(row);
    }
  }
  if (!(await store.exists(runKeys.skipped('references')))) {
    await writeTable(store, runKeys.skipped('references'), skippedSchema, skipped);
  }
  if (!(await store.exists(runKeys.referencesManifest))) {
    const manifest = {
      stage: 'references',
      runId: config.runId,
      k: config.k,
      parts: merged.map((m) => ({ layer: m.layer, key: m.key })),
      skipped: skipped.length,
    };
    await writeJson(store, runKeys.referencesManifest, manifest);
  }
  return { skipped: skipped.length, manifestKey: runKeys.referencesManifest };
}
