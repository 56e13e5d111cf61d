import type { Dataset } from '../adapters/datasets/dataset.js';
import { modelView, preprocessImage } from '../adapters/datasets/preprocess.js';
import type { PreprocessSpec } from '../compute/images/preprocess.js';
import type { SkippedRow } from '../compute/tables/schemas.js';

/** What a stage needs to know of a sample to read it and to record it when skipped. */
export interface SampleRef {
  readonly sampleIndex: number;
  readonly sampleId: string;
}

export interface DecodedSamples<S extends SampleRef> {
  /** The samples that decoded, in input order, with their preprocessed pixels (C x H x W). */
  readonly usable: { readonly sample: S; readonly chw: Float32Array }[];
  /** The others, one row each: a corrupt or unreadable image is recorded, never fatal. */
  readonly skipped: SkippedRow[];
}

/**
 * Reads and preprocesses samples in parallel, for every stage that feeds images to a model. A sample
 * that cannot be read or decoded, or whose pixels do not match the model input (`perImage` values), is
 * skipped and recorded under `stage`.
 */
export async function decodeSamples<S extends SampleRef>(
  dataset: Dataset,
  samples: readonly S[],
  spec: PreprocessSpec,
  stage: string,
  perImage?: number,
): Promise<DecodedSamples<S>> {
  const decoded = await Promise.all(
    samples.map(async (sample) => {
      try {
        return { sample, chw: await preprocessImage(await dataset.readSample(sample.sampleId), spec) };
      } catch (error) {
        return {
          sample,
          error: `could not decode image: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    }),
  );
  const usable: DecodedSamples<S>['usable'] = [];
  const skipped: SkippedRow[] = [];
  for (const d of decoded) {
    const error =
      'error' in d
        ? d.error
        : perImage !== undefined && d.chw.length !== perImage
          ? `preprocessed to ${d.chw.length} values, model expects ${perImage}`
          : undefined;
    if (error === undefined && 'chw' in d && d.chw) usable.push({ sample: d.sample, chw: d.chw });
    else
      skipped.push({ stage, sampleIndex: d.sample.sampleIndex, sampleId: d.sample.sampleId, error: error! });
  }
  return { usable, skipped };
}

/** The pixels of decoded samples as one contiguous batch (n x C x H x W). */
export function stackPixels(usable: DecodedSamples<SampleRef>['usable']): Float32Array {
  const perImage = usable[0]?.chw.length ?? 0;
  const pixels = new Float32Array(usable.length * perImage);
  usable.forEach((u, i) => {
    pixels.set(u.chw, i * perImage);
  });
  return pixels;
}

/**
 * The image of a sample as the model sees it (uint8 HWC, before normalisation), or undefined where it
 * cannot be read or decoded: the stages after the circuits, which recorded such images in `skipped/`.
 */
export async function modelViewOf(
  dataset: Dataset,
  sample: SampleRef,
  spec: PreprocessSpec,
): Promise<Uint8Array | undefined> {
  try {
    return await modelView(await dataset.readSample(sample.sampleId), spec);
  } catch {
    return undefined;
  }
}
