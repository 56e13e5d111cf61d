/**
 * Step 2 of PURE (docs/design.md, "Circuits") for a batch of neurons of one layer pair, and the
 * Activation baseline's features of their reference images, written as one part of each table.
 */
import type { Dataset } from '../adapters/datasets/dataset.js';
import {
  type AttributionEngine,
  type CutSpec,
  circuitVectors,
  type LowerActivations,
  lowerActivations,
} from '../adapters/onnxruntime/attribution.js';
import type { ObjectStore } from '../adapters/storage/index.js';
import { writeTable } from '../adapters/tables/io.js';
import { groupBy } from '../compute/group.js';
import type { PreprocessSpec } from '../compute/images/preprocess.js';
import {
  featureView,
  firstPosition,
  type TokenPositions,
  tokensOption,
} from '../compute/onnx/feature-layout.js';
import { type Tensor, tensor } from '../compute/onnx/tensor.js';
import type { NeuronRange } from '../compute/run/config.js';
import { runKeys } from '../compute/run/layout.js';
import {
  type ActivationFeaturesRow,
  activationFeaturesSchema,
  type ReferenceRow,
  type RelevanceRow,
  relevanceSchema,
  type SkippedRow,
  skippedSchema,
} from '../compute/tables/schemas.js';
import { type DecodedSamples, decodeSamples, stackPixels } from './decode.js';

export interface CircuitJob {
  engine: AttributionEngine;
  /** Local path of the model (see localModelFile). */
  modelPath: string;
  lowerLayer: string;
  upperLayer: string;
  /** The references of the neurons of this job (every rank of each neuron). */
  references: readonly ReferenceRow[];
  dataset: Dataset;
  preprocess: PreprocessSpec;
  /** Which tokens of a token layer L count (SweepConfig.tokens; default 'all'): seeds and features. */
  tokens?: TokenPositions;
  /**
   * Unique images decoded and forwarded together (default 128). Bounds memory: a ResNet-50 layer3 activation
   * is 0.8 MB per image, and a batch of 16 neurons x 100 references can name 1,600 images.
   */
  imagesPerChunk?: number;
  /** Called after each chunk (for heartbeats). */
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

export interface CircuitJobResult {
  relevance: RelevanceRow[];
  /** Activation-baseline features, one row per unique reference image of the job. */
  features: ActivationFeaturesRow[];
  skipped: SkippedRow[];
}

/**
 * Steps 2 (circuits) and the Activation baseline's features for a batch of neurons of one layer pair.
 * Every unique reference image is decoded and forwarded to L' once; each (neuron, reference) pair is then
 * a row of a mixed batch through the circuit model, so an image shared by several neurons costs one
 * forward. Images are handled in chunks (each image in exactly one), so memory stays bounded whatever the
 * batch size. Images that fail to decode are skipped and recorded.
 */
export async function computeCircuits(job: CircuitJob): Promise<CircuitJobResult> {
  const cut: CutSpec = {
    model: job.modelPath,
    lower: job.lowerLayer,
    upper: job.upperLayer,
    ...tokensOption(job.tokens),
  };
  const pairsOfSample = groupBy(job.references, (r) => r.sampleIndex);
  const uniqueSamples = [...pairsOfSample.values()]
    .map((pairs) => pairs[0]!)
    .sort((a, b) => a.sampleIndex - b.sampleIndex);
  const chunkSize = job.imagesPerChunk ?? 128;
  const relevance: RelevanceRow[] = [];
  const features: ActivationFeaturesRow[] = [];
  const skipped: SkippedRow[] = [];
  let rowsDone = 0;
  for (let start = 0; start < uniqueSamples.length; start += chunkSize) {
    const decoded = await decodeSamples(
      job.dataset,
      uniqueSamples.slice(start, start + chunkSize),
      job.preprocess,
      'circuits',
    );
    skipped.push(...decoded.skipped);
    if (decoded.usable.length > 0) {
      const chunk = await circuitsOfChunk(job, cut, decoded.usable, pairsOfSample);
      // Not push(...): a chunk holds images x neuron-batch rows, past the argument limit for wide batches.
      for (const row of chunk.relevance) relevance.push(row);
      for (const row of chunk.features) features.push(row);
      rowsDone += chunk.relevance.length;
    }
    job.onProgress?.(rowsDone, job.references.length);
  }
  // Rows in (neuron, rank) order, as the references table has them.
  relevance.sort((a, b) => a.neuron - b.neuron || a.rank - b.rank);
  return { relevance, features, skipped };
}

async function circuitsOfChunk(
  job: CircuitJob,
  cut: CutSpec,
  usable: DecodedSamples<ReferenceRow>['usable'],
  pairsOfSample: ReadonlyMap<number, readonly ReferenceRow[]>,
): Promise<Pick<CircuitJobResult, 'relevance' | 'features'>> {
  const pixels = stackPixels(usable);
  const side = job.preprocess.cropSize;
  const activations = await lowerActivations(
    job.engine,
    cut,
    tensor('float32', [usable.length, 3, side, side], pixels),
  );

  const pairs = usable.flatMap((u, image) =>
    (pairsOfSample.get(u.sample.sampleIndex) ?? []).map((r) => ({ r, image, neuron: r.neuron })),
  );
  const relevance: RelevanceRow[] = [];
  const features: ActivationFeaturesRow[] = [];
  const featuresDone = new Set<number>();
  await forEachCircuit(job.engine, cut, activations, pairs, ({ r }, vector, upper, row) => {
    relevance.push({
      layer: job.upperLayer,
      lowerLayer: job.lowerLayer,
      neuron: r.neuron,
      rank: r.rank,
      sampleIndex: r.sampleIndex,
      sampleId: r.sampleId,
      value: r.value,
      relevance: vector,
    });
    // a_L depends on the image only: the baseline's features come from its first row.
    if (!featuresDone.has(r.sampleIndex)) {
      featuresDone.add(r.sampleIndex);
      features.push({
        layer: job.upperLayer,
        sampleIndex: r.sampleIndex,
        features: meanRelu(upper, row, job.tokens),
      });
    }
  });
  return { relevance, features };
}

/** One row of a mixed circuit batch: an image (its row in the lower activations) and an upper channel. */
export interface CircuitPair {
  readonly image: number;
  readonly neuron: number;
}

/**
 * The circuit vector (docs/design.md step 2) of every (image, neuron) pair, computed as mixed batches of
 * at most `engine.maxBatch` rows through the circuit model. Pairs of one image should be adjacent: the
 * rows of a batch that share an image share its L' -> L forward. `visit` gets each pair's vector (its
 * own copy), the batch's a_L and the pair's row in it. The sweep's circuits and `pure assign` both
 * compute circuits through this, so they are the same numbers.
 */
export async function forEachCircuit<P extends CircuitPair>(
  engine: AttributionEngine,
  cut: CutSpec,
  activations: LowerActivations,
  pairs: readonly P[],
  visit: (pair: P, vector: Float32Array, upper: Tensor, row: number) => void,
): Promise<void> {
  for (let start = 0; start < pairs.length; start += engine.maxBatch) {
    const slice = pairs.slice(start, start + engine.maxBatch);
    const result = await circuitVectors(engine, cut, {
      lower: activations.lower,
      side: activations.side,
      images: slice.map((p) => p.image),
      channels: slice.map((p) => p.neuron),
    });
    const width = result.lowerChannels;
    slice.forEach((pair, i) => {
      visit(pair, result.vectors.slice(i * width, (i + 1) * width), result.upper, i);
    });
  }
}

/**
 * Mean over positions (space, or tokens; with tokens 'patches' the patch tokens only) of ReLU(a) for
 * every neuron of row `row` of a layer's activation (feature-layout.ts): the Activation baseline's
 * features.
 */
export function meanRelu(t: Tensor, row: number, tokens: TokenPositions = 'all'): Float32Array {
  const view = featureView(t.dims);
  const first = firstPosition(view, tokens);
  const data = t.data as Float32Array;
  const out = new Float32Array(view.features);
  for (let c = 0; c < view.features; c++) {
    const base = view.base(row, c);
    let sum = 0;
    for (let i = first; i < view.positions; i++) sum += Math.max(0, data[base + i * view.stride]!);
    out[c] = sum / (view.positions - first);
  }
  return out;
}

/**
 * Max over positions (as meanRelu's) of neuron `channel` of row `row` of a layer's activation: its
 * value (references).
 */
export function channelMax(t: Tensor, row: number, channel: number, tokens: TokenPositions = 'all'): number {
  const view = featureView(t.dims);
  const data = t.data as Float32Array;
  const base = view.base(row, channel);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = firstPosition(view, tokens); i < view.positions; i++) {
    max = Math.max(max, data[base + i * view.stride]!);
  }
  return max;
}

export interface CircuitsPart {
  relevanceKey: string;
  rows: number;
  skipped: number;
  reused: boolean;
}

/**
 * The circuits of neurons `neurons` of `upperLayer`: writes the skipped images, then `activations/`, then
 * `relevance/` last (its presence means the part is complete), and skips the work when it is there.
 */
export async function circuitsPart(
  upperLayer: string,
  neurons: NeuronRange,
  store: ObjectStore,
  job: () => Promise<CircuitJob>,
): Promise<CircuitsPart> {
  const relevanceKey = runKeys.layerPart('relevance', upperLayer, neurons);
  if (await store.exists(relevanceKey)) return { relevanceKey, rows: -1, skipped: -1, reused: true };
  const result = await computeCircuits(await job());
  await writeTable(store, runKeys.circuitsSkipped(upperLayer, neurons), skippedSchema, result.skipped);
  await writeTable(
    store,
    runKeys.layerPart('activations', upperLayer, neurons),
    activationFeaturesSchema,
    result.features,
  );
  await writeTable(store, relevanceKey, relevanceSchema, result.relevance);
  return { relevanceKey, rows: result.relevance.length, skipped: result.skipped.length, reused: false };
}
