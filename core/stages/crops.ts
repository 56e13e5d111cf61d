/**
 * Step 4 of PURE (docs/design.md, "Feature visualisation") for a batch of neurons of one layer: for every
 * reference, the crop the authors embed. The neuron's EpsilonPlusFlat heatmap on the image, started at
 * its arg-max position only (the receptive field), blurred and thresholded into a box
 * (core/compute/visualisation/embedding-crop.ts); for a token neuron the box is the image patch of its
 * arg-max token (token-patch.ts). One part of the `crops` table per batch.
 */
import sharp from 'sharp';
import type { Dataset } from '../adapters/datasets/dataset.js';
import { hwcToNormalisedChw } from '../adapters/datasets/preprocess.js';
import { type AttributionEngine, heatmaps } from '../adapters/onnxruntime/attribution.js';
import type { ObjectStore } from '../adapters/storage/index.js';
import { writeTable } from '../adapters/tables/io.js';
import { groupBy } from '../compute/group.js';
import type { PreprocessSpec } from '../compute/images/preprocess.js';
import { type TokenPositions, tokensOption } from '../compute/onnx/feature-layout.js';
import { tensor } from '../compute/onnx/tensor.js';
import type { NeuronRange } from '../compute/run/config.js';
import { runKeys } from '../compute/run/layout.js';
import { type CropRow, cropsSchema, type ReferenceRow } from '../compute/tables/schemas.js';
import { heatPlane } from '../compute/visualisation/crop.js';
import {
  cutCrop,
  type EmbeddingCrop,
  embeddingCrop,
  embeddingCropInBox,
  rgbSumInBox,
  stretchContrast,
} from '../compute/visualisation/embedding-crop.js';
import { tokenPatchBox } from '../compute/visualisation/token-patch.js';
import { modelViewOf } from './decode.js';

/** The authors' attribution for the crops they embed (zennit's EpsilonPlusFlat composite). */
export const CROP_COMPOSITE = 'epsilon-plus-flat';

export interface CropJob {
  engine: AttributionEngine;
  /** Local path of the model. */
  modelPath: string;
  layer: string;
  /** The references of the job's neurons (every rank of each). */
  references: readonly ReferenceRow[];
  dataset: Dataset;
  preprocess: PreprocessSpec;
  /** Which tokens of a token layer count (SweepConfig.tokens): the heatmap's arg-max is the references'. */
  tokens?: TokenPositions;
  /** Unique images decoded per chunk (default 64): bounds memory at 224 pixels. */
  imagesPerChunk?: number;
  /** Where each crop's PNG goes, when the run keeps crop images. */
  writeImage?: (row: CropRow, png: Uint8Array) => Promise<void>;
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

/**
 * The crops of a job's references. Each unique image is decoded once per chunk; every (neuron,
 * reference) pair is one row of a mixed heatmap batch. An image that cannot be decoded has no crop: the
 * circuits stage has already recorded it in `skipped/` (it read the same references).
 */
export async function computeCrops(job: CropJob): Promise<CropRow[]> {
  const bySample = groupBy(job.references, (r) => r.sampleIndex);
  const samples = [...bySample.keys()].sort((a, b) => a - b);
  const chunkSize = job.imagesPerChunk ?? 64;
  const rows: CropRow[] = [];
  for (let start = 0; start < samples.length; start += chunkSize) {
    const chunk = samples.slice(start, start + chunkSize);
    const views = await Promise.all(
      chunk.map((s) => modelViewOf(job.dataset, bySample.get(s)![0]!, job.preprocess)),
    );
    const pairs = chunk.flatMap((sample, image) =>
      views[image] ? bySample.get(sample)!.map((reference) => ({ reference, view: views[image]! })) : [],
    );
    for (let at = 0; at < pairs.length; at += job.engine.maxBatch) {
      for (const row of await cropBatch(job, pairs.slice(at, at + job.engine.maxBatch))) rows.push(row);
    }
    job.onProgress?.(rows.length, job.references.length);
  }
  return rows.sort((a, b) => a.neuron - b.neuron || a.rank - b.rank);
}

interface CropPair {
  readonly reference: ReferenceRow;
  readonly view: Uint8Array;
}

/** One heatmap run for a batch of (neuron, image) pairs, then each pair's box. */
async function cropBatch(job: CropJob, pairs: readonly CropPair[]): Promise<CropRow[]> {
  const side = job.preprocess.cropSize;
  const plane = 3 * side * side;
  const images = new Float32Array(pairs.length * plane);
  pairs.forEach(({ view }, i) => {
    images.set(hwcToNormalisedChw(view, side, side, job.preprocess), i * plane);
  });
  const { heat, tokens } = await heatmaps(
    job.engine,
    { model: job.modelPath, layer: job.layer },
    {
      images: tensor('float32', [pairs.length, 3, side, side], images),
      channels: pairs.map((p) => p.reference.neuron),
    },
    { composite: CROP_COMPOSITE, region: 'argmax', ...tokensOption(job.tokens) },
  );
  const rows: CropRow[] = [];
  for (const [i, { reference, view }] of pairs.entries()) {
    const heatOfPair = heatPlane(heat.data as Float32Array, i * plane, side, side);
    // A token neuron's box is the patch of its arg-max token (h = 0, w = token in the references).
    const crop =
      tokens === undefined
        ? embeddingCrop(heatOfPair, side, side, rgbSumInBox(view, side))
        : embeddingCropInBox(
            heatOfPair,
            side,
            side,
            tokenPatchBox(reference.w, tokens, side),
            rgbSumInBox(view, side),
          );
    const row = cropRow(job.layer, reference, crop);
    rows.push(row);
    if (job.writeImage) await job.writeImage(row, await cropPng(view, side, crop));
  }
  return rows;
}

function cropRow(layer: string, r: ReferenceRow, crop: EmbeddingCrop): CropRow {
  return {
    layer,
    neuron: r.neuron,
    rank: r.rank,
    sampleIndex: r.sampleIndex,
    sampleId: r.sampleId,
    x0: crop.x0,
    y0: crop.y0,
    x1: crop.x1,
    y1: crop.y1,
    cropped: crop.cropped ? 1 : 0,
    heatMax: crop.heatMax,
    heatInside: crop.heatInside,
  };
}

async function cropPng(view: Uint8Array, side: number, crop: EmbeddingCrop): Promise<Uint8Array> {
  const { pixels, width, height } = cutCrop(view, side, crop);
  // What the encoder is given: the crop contrast-stretched as the authors' picture of it.
  return sharp(stretchContrast(pixels), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

export interface CropsPart {
  cropsKey: string;
  rows: number;
  reused: boolean;
}

/** The crops of neurons `neurons` of `layer`; written once (its presence means the part is complete). */
export async function cropsPart(
  layer: string,
  neurons: NeuronRange,
  store: ObjectStore,
  job: () => Promise<CropJob>,
): Promise<CropsPart> {
  const cropsKey = runKeys.layerPart('crops', layer, neurons);
  if (await store.exists(cropsKey)) return { cropsKey, rows: -1, reused: true };
  const rows = await computeCrops(await job());
  await writeTable(store, cropsKey, cropsSchema, rows);
  return { cropsKey, rows: rows.length, reused: false };
}
