/**
 * The report's feature visualisations (DESIGN.md step 4): for each (neuron, reference image) a page
 * shows, the neuron's input heatmap on that image, cropped and dimmed (core/visualisation/crop.ts),
 * written as a PNG next to the pages.
 */
import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { openDataset } from '../core/adapters/datasets/dataset.js';
import { hwcToNormalisedChw, modelView } from '../core/adapters/datasets/preprocess.js';
import { localModelFile } from '../core/adapters/models/model-file.js';
import { AttributionEngine, type CompositeName, heatmaps } from '../core/adapters/onnxruntime/attribution.js';
import type { ObjectStore } from '../core/adapters/storage/index.js';
import { tensor } from '../core/compute/onnx/tensor.js';
import type { SweepConfig } from '../core/compute/run/config.js';
import { featureCrop, heatPlane, renderCrop } from '../core/compute/visualisation/crop.js';

/** A picture a report page shows: neuron (L, c) on an image, and the key it is written to. */
export interface CropRequest {
  readonly layer: string;
  readonly neuron: number;
  readonly sampleIndex: number;
  readonly sampleId: string;
  /** Where the PNG goes, relative to the store. */
  readonly key: string;
}

export interface CropSettings {
  readonly composite: CompositeName;
  /** Edge of the written PNG in pixels. */
  readonly size: number;
  /** (neuron, image) rows per heatmap batch. */
  readonly batch?: number;
  /** Called after each batch with the crops done so far and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Heatmap rows per onnxruntime call: large enough to amortise a call, small for 224-pixel inputs. */
const DEFAULT_BATCH = 16;

/**
 * Writes one crop per request; returns the keys of the requests whose image could not be read or
 * decoded (the report shows grey boxes there). Fails, naming the model, when the model cannot be read.
 */
export async function writeCrops(
  store: ObjectStore,
  config: SweepConfig,
  requests: readonly CropRequest[],
  settings: CropSettings,
): Promise<Set<string>> {
  const failed = new Set<string>();
  if (requests.length === 0) return failed;
  const engine = new AttributionEngine({ intraOpNumThreads: availableParallelism() });
  const dataset = openDataset(config.dataUri);
  const side = config.preprocess.cropSize;
  // The model's view of each image, decoded once per layer (a layer's neurons share many images; the
  // cache is dropped between layers to bound memory at 224 pixels).
  let pixels = new Map<number, Promise<Uint8Array | undefined>>();
  const viewOf = (r: CropRequest) => {
    let view = pixels.get(r.sampleIndex);
    if (!view) {
      view = dataset
        .readSample(r.sampleId)
        .then((bytes) => modelView(bytes, config.preprocess))
        .catch(() => undefined);
      pixels.set(r.sampleIndex, view);
    }
    return view;
  };
  try {
    const model = await localModelFile(config.modelUri, config.modelDigest)
      .then(async (path) => {
        await engine.prepare(path);
        return path;
      })
      .catch((error: unknown) => {
        throw new Error(
          `the report draws heatmap crops with the run's model ${config.modelUri}, which cannot be read ` +
            `(${error instanceof Error ? error.message : String(error)}); pass --no-crops for plain thumbnails`,
        );
      });
    const byLayer = new Map<string, CropRequest[]>();
    for (const r of requests) byLayer.set(r.layer, [...(byLayer.get(r.layer) ?? []), r]);
    const step = settings.batch ?? DEFAULT_BATCH;
    let done = 0;
    for (const [layer, list] of byLayer) {
      pixels = new Map();
      for (let start = 0; start < list.length; start += step) {
        const chunk = list.slice(start, start + step);
        const views = await Promise.all(chunk.map(viewOf));
        const ok = chunk.filter((r, i) => {
          if (!views[i]) failed.add(r.key);
          return views[i] !== undefined;
        });
        const okViews = views.filter((v): v is Uint8Array => v !== undefined);
        done += chunk.length;
        if (ok.length === 0) {
          settings.onProgress?.(done, requests.length);
          continue;
        }
        const plane = 3 * side * side;
        const images = new Float32Array(ok.length * plane);
        for (const [i, v] of okViews.entries()) {
          images.set(hwcToNormalisedChw(v, side, side, config.preprocess), i * plane);
        }
        const { heat } = await heatmaps(
          engine,
          { model, layer },
          {
            images: tensor('float32', [ok.length, 3, side, side], images),
            channels: ok.map((r) => r.neuron),
          },
          { composite: settings.composite, region: 'map' },
        );
        for (const [i, r] of ok.entries()) {
          const crop = featureCrop(heatPlane(heat.data as Float32Array, i * plane, side, side), side, side);
          const rgb = renderCrop(okViews[i]!, side, crop);
          const png = await sharp(rgb, { raw: { width: crop.box.size, height: crop.box.size, channels: 3 } })
            // Small crops (CIFAR) stay crisp; large ones are downscaled smoothly.
            .resize(settings.size, settings.size, {
              kernel: crop.box.size < settings.size ? 'nearest' : 'lanczos3',
            })
            .png()
            .toBuffer();
          await store.put(r.key, png, { contentType: 'image/png' });
        }
        settings.onProgress?.(done, requests.length);
      }
    }
  } finally {
    await engine.release();
  }
  return failed;
}
