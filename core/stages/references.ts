import type { Dataset } from '../adapters/datasets/dataset.js';
import { type PreprocessSpec, preprocessImage } from '../adapters/datasets/preprocess.js';
import type { ActivationModel } from '../adapters/onnxruntime/activations.js';
import { offerActivationBatch, referenceRows, TopKSelector } from '../compute/references/topk.js';
import type { ReferenceRow, SampleRow, SkippedRow } from '../compute/tables/schemas.js';

export interface ActMaxInput {
  model: ActivationModel;
  dataset: Dataset;
  /** The samples of this shard, in manifest order. */
  samples: readonly SampleRow[];
  preprocess: PreprocessSpec;
  k: number;
  batchSize: number;
  /** Called after each batch with the number of samples processed so far (for heartbeats). */
  onProgress?: (done: number) => void;
}

export interface ActMaxResult {
  /** Per layer and neuron the shard's top-k, ranked 1..k within the shard. */
  rows: ReferenceRow[];
  skipped: SkippedRow[];
  imagesUsed: number;
}

interface DecodedBatch {
  pixels: Float32Array;
  used: SampleRow[];
  skipped: SkippedRow[];
}

async function decodeBatch(
  dataset: Dataset,
  samples: readonly SampleRow[],
  spec: PreprocessSpec,
  perImage: number,
): Promise<DecodedBatch> {
  const decoded = await Promise.all(
    samples.map(async (sample) => {
      try {
        const chw = await preprocessImage(await dataset.readSample(sample.sampleId), spec);
        return { sample, chw };
      } catch (error) {
        return { sample, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  const used: SampleRow[] = [];
  const skipped: SkippedRow[] = [];
  const ok: Float32Array[] = [];
  for (const d of decoded) {
    if ('chw' in d && d.chw) {
      if (d.chw.length !== perImage) {
        skipped.push({
          stage: 'references',
          sampleIndex: d.sample.sampleIndex,
          sampleId: d.sample.sampleId,
          error: `preprocessed to ${d.chw.length} values, model expects ${perImage}`,
        });
        continue;
      }
      used.push(d.sample);
      ok.push(d.chw);
    } else {
      skipped.push({
        stage: 'references',
        sampleIndex: d.sample.sampleIndex,
        sampleId: d.sample.sampleId,
        error: `could not decode image: ${'error' in d ? d.error : 'unknown error'}`,
      });
    }
  }
  const pixels = new Float32Array(ok.length * perImage);
  ok.forEach((chw, i) => {
    pixels.set(chw, i * perImage);
  });
  return { pixels, used, skipped };
}

/**
 * ActMax over one shard: forward every image once, keep per neuron the k samples with the largest
 * max-over-space activation. Decoding of the next batch overlaps inference of the current one.
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

  let next = batches.length > 0 ? decodeBatch(dataset, batches[0]!, preprocess, perImage) : undefined;
  let done = 0;
  for (let b = 0; b < batches.length; b++) {
    const batch = await next!;
    next = b + 1 < batches.length ? decodeBatch(dataset, batches[b + 1]!, preprocess, perImage) : undefined;
    skipped.push(...batch.skipped);
    if (batch.used.length > 0) {
      const activations = await model.run(batch.pixels, batch.used.length);
      const indices = batch.used.map((s) => s.sampleIndex);
      for (const [layer, act] of activations) {
        let layerSelectors = selectors.get(layer);
        if (!layerSelectors) {
          const channels = act.dims[1] ?? 0;
          layerSelectors = Array.from({ length: channels }, () => new TopKSelector(k));
          selectors.set(layer, layerSelectors);
        }
        offerActivationBatch(layerSelectors, act.dims, act.data, indices);
      }
      imagesUsed += batch.used.length;
    }
    done += batches[b]!.length;
    input.onProgress?.(done);
  }

  const rows: ReferenceRow[] = [];
  for (const [layer, layerSelectors] of selectors) {
    layerSelectors.forEach((selector, neuron) => {
      rows.push(...referenceRows(layer, neuron, selector.sorted(), (i) => byIndex.get(i)!));
    });
  }
  return { rows, skipped, imagesUsed };
}
