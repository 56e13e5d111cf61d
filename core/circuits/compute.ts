import {
  type AttributionEngine,
  type CutSpec,
  circuitVectors,
  lowerActivations,
  selectRows,
} from '../attribution/index.js';
import type { Dataset } from '../datasets/dataset.js';
import { type PreprocessSpec, preprocessImage } from '../datasets/preprocess.js';
import { type Tensor, tensor } from '../onnx/tensor.js';
import type { ActivationFeaturesRow, ReferenceRow, RelevanceRow, SkippedRow } from '../tables/schemas.js';

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
 * a row of one mixed batch through the circuit model, so an image shared by several neurons costs one
 * forward. Images that fail to decode are skipped and recorded.
 */
export async function computeCircuits(job: CircuitJob): Promise<CircuitJobResult> {
  const cut: CutSpec = { model: job.modelPath, lower: job.lowerLayer, upper: job.upperLayer };
  const uniqueSamples = [...new Map(job.references.map((r) => [r.sampleIndex, r])).values()].sort(
    (a, b) => a.sampleIndex - b.sampleIndex,
  );
  const decoded = await Promise.all(
    uniqueSamples.map(async (r) => {
      try {
        return { r, chw: await preprocessImage(await job.dataset.readSample(r.sampleId), job.preprocess) };
      } catch (error) {
        return { r, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  const skipped: SkippedRow[] = [];
  const usable: { r: ReferenceRow; chw: Float32Array }[] = [];
  for (const d of decoded) {
    if ('chw' in d && d.chw) usable.push({ r: d.r, chw: d.chw });
    else
      skipped.push({
        stage: 'circuits',
        sampleIndex: d.r.sampleIndex,
        sampleId: d.r.sampleId,
        error: `could not decode image: ${'error' in d ? d.error : 'unknown'}`,
      });
  }
  if (usable.length === 0) return { relevance: [], features: [], skipped };

  const perImage = usable[0]!.chw.length;
  const pixels = new Float32Array(usable.length * perImage);
  usable.forEach((u, i) => {
    pixels.set(u.chw, i * perImage);
  });
  const side = job.preprocess.cropSize;
  const images = tensor('float32', [usable.length, 3, side, side], pixels);
  const activations = await lowerActivations(job.engine, cut, images);

  const rowOfSample = new Map(usable.map((u, i) => [u.r.sampleIndex, i]));
  const pairs = job.references.filter((r) => rowOfSample.has(r.sampleIndex));
  const rows = pairs.map((r) => rowOfSample.get(r.sampleIndex)!);
  const sideRows: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(activations.side)) sideRows[name] = selectRows(t, rows);
  const result = await circuitVectors(job.engine, cut, {
    lower: selectRows(activations.lower, rows),
    side: sideRows,
    channels: pairs.map((r) => r.neuron),
  });

  const width = result.lowerChannels;
  const relevance: RelevanceRow[] = pairs.map((r, i) => ({
    layer: job.upperLayer,
    lowerLayer: job.lowerLayer,
    neuron: r.neuron,
    rank: r.rank,
    sampleIndex: r.sampleIndex,
    sampleId: r.sampleId,
    value: r.value,
    relevance: result.vectors.slice(i * width, (i + 1) * width),
  }));

  // a_L depends on the image only: take the first row of each image.
  const firstRowOfSample = new Map<number, number>();
  pairs.forEach((r, i) => {
    if (!firstRowOfSample.has(r.sampleIndex)) firstRowOfSample.set(r.sampleIndex, i);
  });
  const features = [...firstRowOfSample.entries()].map(([sampleIndex, row]) => ({
    layer: job.upperLayer,
    sampleIndex,
    features: meanRelu(result.upper, row),
  }));
  return { relevance, features, skipped };
}

/** Mean over space of ReLU(a) for every channel of row `row` of a [B, C, ...spatial] tensor. */
export function meanRelu(t: Tensor, row: number): Float32Array {
  const channels = t.dims[1]!;
  const plane = t.dims.slice(2).reduce((a, b) => a * b, 1);
  const data = t.data as Float32Array;
  const out = new Float32Array(channels);
  const base = row * channels * plane;
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let i = 0; i < plane; i++) sum += Math.max(0, data[base + c * plane + i]!);
    out[c] = sum / plane;
  }
  return out;
}
