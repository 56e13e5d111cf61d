import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { type Dataset, openDataset } from '../core/adapters/datasets/dataset.js';
import { ModelChangedError } from '../core/adapters/models/model-file.js';
import { type ActivationModel, openActivationModel } from '../core/adapters/onnxruntime/activations.js';
import type { InferenceSettings } from '../core/adapters/onnxruntime/session.js';
import { readUri } from '../core/adapters/storage/blob.js';
import { openStore } from '../core/adapters/storage/index.js';
import { mergeLayerReferences } from '../core/compute/references/merge.js';
import {
  evenlySpaced,
  type LayerShape,
  modelDigestOf,
  resultIdentity,
  type ShardRange,
  type SweepConfig,
  shardRanges,
  validateConfig,
} from '../core/compute/run/config.js';
import { runKeys, runUri } from '../core/compute/run/layout.js';
import {
  type ReferenceRow,
  referencesSchema,
  type SampleRow,
  type SkippedRow,
  samplesSchema,
  skippedSchema,
} from '../core/compute/tables/schemas.js';
import { actMaxShard } from '../core/stages/references.js';
import { promiseCache, readJson, readTable, runStore, writeJson, writeTable } from './io.js';

export interface PrepareSweepResult {
  numSamples: number;
  layers: LayerShape[];
  shards: ShardRange[];
}

export interface ReferencesShardInput {
  config: SweepConfig;
  shard: ShardRange;
}

export interface ReferencesShardResult {
  key: string;
  rows: number;
  skipped: number;
  /** True when the part already existed and no inference ran (a retry or a re-run). */
  reused: boolean;
}

export interface MergeReferencesInput {
  config: SweepConfig;
  layer: LayerShape;
  shards: ShardRange[];
}

export interface MergeReferencesResult {
  layer: string;
  key: string;
  rows: number;
  reused: boolean;
}

export interface FinishReferencesInput {
  config: SweepConfig;
  shards: ShardRange[];
  merged: MergeReferencesResult[];
}

export interface FinishReferencesResult {
  runUri: string;
  skipped: number;
  manifestKey: string;
}

/** The model's bytes, if they are the ones the sweep was configured with (a checkpoint may be overwritten). */
export function verifiedModel(config: SweepConfig, bytes: Uint8Array): Uint8Array {
  if (config.modelDigest && modelDigestOf(bytes) !== config.modelDigest) {
    const changed = new ModelChangedError(config.modelUri, modelDigestOf(bytes), config.modelDigest);
    throw ApplicationFailure.nonRetryable(changed.message, 'ModelChanged');
  }
  return bytes;
}

/**
 * The references stage (ActMax, step 1 of PURE) as Temporal activities. Each is a thin wrapper over
 * core/: it reads its inputs from the run's store, calls the computation, writes one deterministic key,
 * and returns keys and counts. An activity whose output already exists returns at once, so retries,
 * worker crashes and re-runs never redo or duplicate work.
 */
export function createReferenceActivities(settings: InferenceSettings = {}) {
  const models = promiseCache<ActivationModel>(4, (m) => m.release());
  const manifests = promiseCache<SampleRow[]>();
  const datasets = new Map<string, Dataset>();

  function model(config: SweepConfig): Promise<ActivationModel> {
    return models(`${config.modelUri}\n${config.modelDigest}\n${config.layers.join('\n')}`, async () =>
      openActivationModel(verifiedModel(config, await readUri(config.modelUri)), config.layers, settings),
    );
  }

  function dataset(config: SweepConfig): Dataset {
    const cached = datasets.get(config.dataUri) ?? openDataset(config.dataUri);
    datasets.set(config.dataUri, cached);
    return cached;
  }

  function samples(config: SweepConfig): Promise<SampleRow[]> {
    const root = runUri(config.outUri, config.runId);
    return manifests(root, () => readTable(openStore(root), runKeys.samples, samplesSchema));
  }

  async function prepareSweep(input: SweepConfig): Promise<PrepareSweepResult> {
    let config: SweepConfig;
    try {
      config = validateConfig(input);
    } catch (error) {
      throw ApplicationFailure.nonRetryable((error as Error).message, 'InvalidConfig');
    }
    const store = runStore(config);
    if (await store.exists(runKeys.config)) {
      const previous = await readJson<SweepConfig>(store, runKeys.config);
      if (resultIdentity(previous) !== resultIdentity(config)) {
        throw ApplicationFailure.nonRetryable(
          `run ${config.runId} already exists under ${config.outUri} with different options ` +
            `(stored: ${resultIdentity(previous)}; now: ${resultIdentity(config)}); ` +
            'pass another --run id, or the same options to resume it',
          'RunConfigMismatch',
        );
      }
    } else {
      await writeJson(store, runKeys.config, config);
    }

    let manifest: SampleRow[];
    if (await store.exists(runKeys.samples)) {
      manifest = await readTable(store, runKeys.samples, samplesSchema);
    } else {
      let all: SampleRow[];
      try {
        all = await dataset(config).listSamples();
      } catch (error) {
        throw ApplicationFailure.nonRetryable((error as Error).message, 'InvalidDataset');
      }
      manifest = evenlySpaced(all.length, config.limit).map((i) => all[i]!);
      await writeTable(store, runKeys.samples, samplesSchema, manifest);
    }

    let activationModel: ActivationModel;
    try {
      activationModel = await model(config);
    } catch (error) {
      throw ApplicationFailure.nonRetryable((error as Error).message, 'InvalidModel');
    }
    const { channels, height, width } = activationModel.input;
    const probe = await activationModel.run(new Float32Array(channels * height * width), 1);
    const layers = config.layers.map((name) => {
      const dims = [...(probe.get(name)?.dims ?? [])].slice(1);
      if (dims.length < 1) {
        throw ApplicationFailure.nonRetryable(`layer ${name} has no channel axis`, 'InvalidLayer');
      }
      return { name, dims, channels: dims[0]! };
    });
    return { numSamples: manifest.length, layers, shards: shardRanges(manifest.length, config.shardSize) };
  }

  async function referencesShard({ config, shard }: ReferencesShardInput): Promise<ReferencesShardResult> {
    const store = runStore(config);
    const key = runKeys.referencesShardSkipped(shard);
    if (await store.exists(key)) return { key, rows: -1, skipped: -1, reused: true };
    const shardSamples = (await samples(config)).slice(shard.first, shard.end);
    const context = Context.current();
    const result = await actMaxShard({
      model: await model(config),
      dataset: dataset(config),
      samples: shardSamples,
      preprocess: config.preprocess,
      k: config.k,
      batchSize: config.batchSize,
      onProgress: (done) => context.heartbeat({ done, total: shardSamples.length }),
    });
    for (const layer of config.layers) {
      const rows = result.rows.filter((r) => r.layer === layer);
      await writeTable(store, runKeys.referencesShard(shard, layer), referencesSchema, rows);
    }
    // Last: the skipped list existing means every part of the shard is there.
    await writeTable(store, key, skippedSchema, result.skipped);
    return { key, rows: result.rows.length, skipped: result.skipped.length, reused: false };
  }

  async function mergeReferences({
    config,
    layer,
    shards,
  }: MergeReferencesInput): Promise<MergeReferencesResult> {
    const store = runStore(config);
    const key = runKeys.referencesLayer(layer.name);
    if (await store.exists(key)) return { layer: layer.name, key, rows: -1, reused: true };
    const rows: ReferenceRow[] = [];
    for (const shard of shards) {
      rows.push(...(await readTable(store, runKeys.referencesShard(shard, layer.name), referencesSchema)));
    }
    const merged = mergeLayerReferences(layer.name, rows, config.k);
    await writeTable(store, key, referencesSchema, merged);
    return { layer: layer.name, key, rows: merged.length, reused: false };
  }

  async function finishReferences({
    config,
    shards,
    merged,
  }: FinishReferencesInput): Promise<FinishReferencesResult> {
    const root = runUri(config.outUri, config.runId);
    const store = openStore(root);
    const skipped: SkippedRow[] = [];
    for (const shard of shards) {
      skipped.push(...(await readTable(store, runKeys.referencesShardSkipped(shard), skippedSchema)));
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
    return { runUri: root, skipped: skipped.length, manifestKey: runKeys.referencesManifest };
  }

  return { prepareSweep, referencesShard, mergeReferences, finishReferences };
}

export type ReferenceActivities = ReturnType<typeof createReferenceActivities>;
