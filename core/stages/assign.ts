/**
 * `pure assign` on a shard of new images (docs/outputs.md, "Assigning new images"): per image and
 * explained neuron, its activation and, where it fires, the virtual neuron whose centroid is nearest to
 * its circuit vector, computed exactly as the sweep computes the circuits of its references
 * (forEachCircuit). Then the assignment's skipped images and manifest (finishAssign).
 */
import type { Dataset } from '../adapters/datasets/dataset.js';
import {
  type AttributionEngine,
  type CutSpec,
  lowerActivations,
} from '../adapters/onnxruntime/attribution.js';
import type { ObjectStore } from '../adapters/storage/index.js';
import { readJson, writeJson, writeTable } from '../adapters/tables/io.js';
import type { AssignConfig } from '../compute/assign/config.js';
import {
  isZeroVector,
  type Nearest,
  nearestVirtualNeuron,
  type VirtualNeuronSet,
} from '../compute/assign/nearest.js';
import type { PreprocessSpec } from '../compute/images/preprocess.js';
import { type TokenPositions, tokensOption } from '../compute/onnx/feature-layout.js';
import { type Tensor, tensor } from '../compute/onnx/tensor.js';
import { type ShardRange, shardRanges } from '../compute/run/config.js';
import { assignKeys } from '../compute/run/layout.js';
import {
  type AssignmentRow,
  assignmentsSchema,
  type SampleRow,
  type SkippedRow,
  skippedSchema,
} from '../compute/tables/schemas.js';
import type { AssignLayer, CentroidsResult } from './assign-setup.js';
import { channelMax, forEachCircuit } from './circuits.js';
import { type DecodedSamples, decodeSamples, stackPixels } from './decode.js';

/** A layer to assign and its neurons' virtual neurons (the centroids table's part, as sets). */
export interface LayerVirtualNeurons {
  readonly layer: AssignLayer;
  readonly virtualNeurons: readonly VirtualNeuronSet[];
}

export interface AssignJob {
  engine: AttributionEngine;
  /** Local path of the run's model (see localModelFile). */
  modelPath: string;
  dataset: Dataset;
  /** The run's preprocessing: images reach the model as the references did. */
  preprocess: PreprocessSpec;
  /** The run's token positions (SweepConfig.tokens): activations and circuits as the sweep took them. */
  tokens?: TokenPositions;
  samples: readonly SampleRow[];
  layers: readonly LayerVirtualNeurons[];
  minActivation: number;
  /** Images decoded and forwarded together (bounds memory). */
  batchSize: number;
  onProgress?: (imagesDone: number, imagesTotal: number) => void;
}

export interface AssignJobResult {
  /** Per layer, rows in (neuron, sample_index) order. */
  rows: Map<string, AssignmentRow[]>;
  skipped: SkippedRow[];
}

/** Every (image, neuron) pair of the job, images in chunks of `batchSize`, each decoded once for all layers. */
export async function assignImages(job: AssignJob): Promise<AssignJobResult> {
  const side = job.preprocess.cropSize;
  const rows = new Map(job.layers.map((l) => [l.layer.layer, [] as AssignmentRow[]]));
  const skipped: SkippedRow[] = [];
  for (let start = 0; start < job.samples.length; start += job.batchSize) {
    const chunk = job.samples.slice(start, start + job.batchSize);
    const decoded = await decodeSamples(job.dataset, chunk, job.preprocess, 'assign', 3 * side * side);
    for (const row of decoded.skipped) skipped.push(row);
    if (decoded.usable.length > 0) {
      const images = tensor('float32', [decoded.usable.length, 3, side, side], stackPixels(decoded.usable));
      for (const layer of job.layers) {
        const layerRows = rows.get(layer.layer.layer)!;
        for (const row of await assignChunk(job, layer, decoded.usable, images)) layerRows.push(row);
      }
    }
    job.onProgress?.(start + chunk.length, job.samples.length);
  }
  for (const layerRows of rows.values()) {
    layerRows.sort((a, b) => a.neuron - b.neuron || a.sampleIndex - b.sampleIndex);
  }
  return { rows, skipped };
}

/**
 * One chunk of images through one layer pair: a forward to L' and L, each neuron's activation from a_L,
 * and a circuit only where the neuron fires above the minimum (a silent neuron's circuit is zero: it
 * cannot be assigned, and computing it would cost a circuit row for nothing).
 */
async function assignChunk(
  job: AssignJob,
  { layer, virtualNeurons }: LayerVirtualNeurons,
  usable: DecodedSamples<SampleRow>['usable'],
  images: Tensor,
): Promise<AssignmentRow[]> {
  const cut: CutSpec = {
    model: job.modelPath,
    lower: layer.lowerLayer,
    upper: layer.layer,
    ...tokensOption(job.tokens),
  };
  const activations = await lowerActivations(job.engine, cut, images, { upper: true });
  const threshold = Math.max(0, job.minActivation);
  const rows: AssignmentRow[] = [];
  const pairs: { image: number; neuron: number; set: VirtualNeuronSet; activation: number }[] = [];
  usable.forEach((_, image) => {
    for (const set of virtualNeurons) {
      const activation = channelMax(activations.upper!, image, set.neuron, job.tokens);
      if (activation > threshold) pairs.push({ image, neuron: set.neuron, set, activation });
      else rows.push(assignmentRow(usable[image]!.sample, set, activation, undefined));
    }
  });
  await forEachCircuit(job.engine, cut, activations, pairs, (pair, vector) => {
    const nearest = isZeroVector(vector) ? undefined : nearestVirtualNeuron(pair.set, vector);
    rows.push(assignmentRow(usable[pair.image]!.sample, pair.set, pair.activation, nearest));
  });
  return rows;
}

function assignmentRow(
  sample: SampleRow,
  set: VirtualNeuronSet,
  activation: number,
  nearest: Nearest | undefined,
): AssignmentRow {
  return {
    layer: set.layer,
    neuron: set.neuron,
    sampleIndex: sample.sampleIndex,
    sampleId: sample.sampleId,
    sampleUri: sample.sampleUri,
    label: sample.label,
    activation,
    nClusters: set.nClusters,
    virtualNeuron: nearest?.cluster ?? null,
    distance: nearest?.distance ?? null,
    margin: nearest?.margin ?? null,
  };
}

/** What a finished shard records (its marker): enough for the summary and the skipped table. */
export interface ShardRecord {
  images: number;
  skipped: SkippedRow[];
  /** Per layer: (image, neuron) rows written, and how many of them were assigned a virtual neuron. */
  layers: { layer: string; rows: number; assigned: number }[];
}

export interface AssignShardResult {
  images: number;
  skipped: number;
  /** True when the shard was already done (a retry or a re-run): nothing was computed. */
  reused: boolean;
}

/**
 * One shard of images: an `assignments` part per layer, then the shard's record (written last: its
 * presence means the shard is complete, and the work is skipped).
 */
export async function assignShard(
  config: AssignConfig,
  shard: ShardRange,
  store: ObjectStore,
  job: () => Promise<AssignJob>,
): Promise<AssignShardResult> {
  const key = assignKeys.shardDone(shard);
  if (await store.exists(key)) {
    const done = await readJson<ShardRecord>(store, key);
    return { images: done.images, skipped: done.skipped.length, reused: true };
  }
  const result = await assignImages(await job());
  const record: ShardRecord = { images: shard.end - shard.first, skipped: result.skipped, layers: [] };
  for (const layer of config.layers) {
    const rows = result.rows.get(layer) ?? [];
    await writeTable(store, assignKeys.assignments(layer, shard), assignmentsSchema, rows);
    record.layers.push({
      layer,
      rows: rows.length,
      assigned: rows.filter((r) => r.virtualNeuron !== null).length,
    });
  }
  await writeJson(store, key, record);
  return { images: record.images, skipped: record.skipped.length, reused: false };
}

export interface AssignLayerSummary extends Omit<CentroidsResult, 'reused'> {
  lowerLayer: string;
  /** (image, neuron) rows, and those assigned a virtual neuron (the neuron fired). */
  rows: number;
  assigned: number;
}

export interface AssignSummary {
  assignUri: string;
  numSamples: number;
  skipped: number;
  layers: AssignLayerSummary[];
}

/** The shards' skipped images as one table, their counts per layer, and the manifest (written last). */
export async function finishAssign(
  config: AssignConfig,
  numSamples: number,
  layers: readonly (AssignLayer & Omit<CentroidsResult, 'reused' | 'layer'>)[],
  store: ObjectStore,
): Promise<AssignSummary> {
  const skipped: SkippedRow[] = [];
  const totals = new Map(layers.map((l) => [l.layer, { rows: 0, assigned: 0 }]));
  const shards = shardRanges(numSamples, config.shardSize);
  for (const shard of shards) {
    const record = await readJson<ShardRecord>(store, assignKeys.shardDone(shard));
    for (const row of record.skipped) skipped.push(row);
    for (const l of record.layers) {
      const total = totals.get(l.layer);
      if (total) {
        total.rows += l.rows;
        total.assigned += l.assigned;
      }
    }
  }
  if (!(await store.exists(assignKeys.skipped)))
    await writeTable(store, assignKeys.skipped, skippedSchema, skipped);
  const summary: AssignSummary = {
    assignUri: config.assignUri,
    numSamples,
    skipped: skipped.length,
    layers: layers.map((l) => ({
      layer: l.layer,
      lowerLayer: l.lowerLayer,
      neurons: l.neurons,
      split: l.split,
      ...totals.get(l.layer)!,
    })),
  };
  if (!(await store.exists(assignKeys.manifest))) {
    await writeJson(store, assignKeys.manifest, {
      ...summary,
      runUri: config.runUri,
      dataUri: config.dataUri,
      parts: layers.map((l) => ({
        layer: l.layer,
        parts: shards.map((s) => assignKeys.assignments(l.layer, s)),
      })),
    });
  }
  return summary;
}
