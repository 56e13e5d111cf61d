/**
 * The first half of step 5 (docs/design.md, "Evaluation"): every crop of a neuron batch through the run's
 * image encoder, once per crop (an image that is a reference of several neurons has several crops).
 */
import type { Dataset } from '../adapters/datasets/dataset.js';
import { hwcToNormalisedChw, rawView } from '../adapters/datasets/preprocess.js';
import type { ImageEncoder } from '../adapters/onnxruntime/encoder.js';
import type { ObjectStore } from '../adapters/storage/index.js';
import { readTable, writeTable } from '../adapters/tables/io.js';
import type { PreprocessSpec } from '../compute/images/preprocess.js';
import type { NeuronRange } from '../compute/run/config.js';
import { runKeys } from '../compute/run/layout.js';
import { type CropRow, cropsSchema, type EmbeddingRow, embeddingsSchema } from '../compute/tables/schemas.js';
import { cutCrop, stretchContrast } from '../compute/visualisation/embedding-crop.js';
import { modelViewOf } from './decode.js';

export interface EmbeddingJob {
  encoder: ImageEncoder;
  dataset: Dataset;
  /** How the run's model sees images: the crops' boxes are in these pixels. */
  preprocess: PreprocessSpec;
  /** How a crop becomes the encoder's input. */
  encoderPreprocess: PreprocessSpec;
  /** Crops per encoder call (default 32). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The embeddings of a part's crops. Crops are grouped by image (each image decoded once) and embedded in
 * batches; an image that cannot be decoded has no crops to embed (the crops stage did not cut any).
 */
export async function computeEmbeddings(
  crops: readonly CropRow[],
  job: EmbeddingJob,
): Promise<EmbeddingRow[]> {
  const ordered = [...crops].sort((a, b) => a.sampleIndex - b.sampleIndex || a.neuron - b.neuron);
  const batchSize = job.batchSize ?? 32;
  const rows: EmbeddingRow[] = [];
  let view: { sampleIndex: number; pixels: Uint8Array | undefined } | undefined;
  for (let start = 0; start < ordered.length; start += batchSize) {
    const batch: { crop: CropRow; input: Float32Array }[] = [];
    for (const crop of ordered.slice(start, start + batchSize)) {
      if (view?.sampleIndex !== crop.sampleIndex)
        view = {
          sampleIndex: crop.sampleIndex,
          pixels: await modelViewOf(job.dataset, crop, job.preprocess),
        };
      if (view.pixels) batch.push({ crop, input: await encoderInput(job, view.pixels, crop) });
    }
    if (batch.length > 0) for (const row of await embedBatch(job.encoder, batch)) rows.push(row);
    job.onProgress?.(Math.min(ordered.length, start + batchSize), ordered.length);
  }
  return rows.sort((a, b) => a.neuron - b.neuron || a.rank - b.rank);
}

/**
 * The crop cut from the model's view, contrast-stretched as the authors' picture of it, then resized and
 * normalised for the encoder (CHW float32).
 */
async function encoderInput(job: EmbeddingJob, view: Uint8Array, crop: CropRow): Promise<Float32Array> {
  const { pixels, width, height } = cutCrop(view, job.preprocess.cropSize, crop);
  const spec = job.encoderPreprocess;
  const input = await rawView(stretchContrast(pixels), width, height, spec);
  return hwcToNormalisedChw(input, spec.cropSize, spec.cropSize, spec);
}

async function embedBatch(
  encoder: ImageEncoder,
  batch: readonly { crop: CropRow; input: Float32Array }[],
): Promise<EmbeddingRow[]> {
  const perImage = batch[0]!.input.length;
  const images = new Float32Array(batch.length * perImage);
  batch.forEach(({ input }, i) => {
    images.set(input, i * perImage);
  });
  const { values, dim } = await encoder.embed(images, batch.length);
  return batch.map(({ crop }, i) => ({
    layer: crop.layer,
    neuron: crop.neuron,
    rank: crop.rank,
    sampleIndex: crop.sampleIndex,
    embedding: values.slice(i * dim, (i + 1) * dim),
  }));
}

export interface EmbeddingsPart {
  embeddingsKey: string;
  rows: number;
  reused: boolean;
}

/** The embeddings of the crops of neurons `neurons` of `layer`; skipped when the part exists. */
export async function embeddingsPart(
  layer: string,
  neurons: NeuronRange,
  store: ObjectStore,
  job: () => Promise<EmbeddingJob>,
): Promise<EmbeddingsPart> {
  const embeddingsKey = runKeys.layerPart('embeddings', layer, neurons);
  if (await store.exists(embeddingsKey)) return { embeddingsKey, rows: -1, reused: true };
  const crops = await readTable(store, runKeys.layerPart('crops', layer, neurons), cropsSchema);
  const rows = await computeEmbeddings(crops, await job());
  await writeTable(store, embeddingsKey, embeddingsSchema, rows);
  return { embeddingsKey, rows: rows.length, reused: false };
}
