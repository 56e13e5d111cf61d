/**
 * The report's feature visualisations (docs/design.md step 4): for each (neuron, reference image) a page
 * shows, the neuron's input heatmap on that image, cropped and dimmed (core/visualisation/crop.ts), and
 * the heatmap over the whole image (core/visualisation/overlay.ts, the enlarged picture), written as PNGs
 * next to the pages.
 */
import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { type Dataset, openDataset } from '../core/adapters/datasets/dataset.js';
import { hwcToNormalisedChw, modelView } from '../core/adapters/datasets/preprocess.js';
import { localModelFile } from '../core/adapters/models/model-file.js';
import { AttributionEngine, type CompositeName, heatmaps } from '../core/adapters/onnxruntime/attribution.js';
import type { ObjectStore } from '../core/adapters/storage/index.js';
import { tensor } from '../core/compute/onnx/tensor.js';
import type { SweepConfig } from '../core/compute/run/config.js';
import { featureCrop, heatPlane, renderCrop } from '../core/compute/visualisation/crop.js';
import { heatOverlay } from '../core/compute/visualisation/overlay.js';
import { encodeLarge } from './encode.js';

/** A picture a report page shows: neuron (L, c) on an image, and the key it is written to. */
export interface CropRequest {
  readonly layer: string;
  readonly neuron: number;
  readonly sampleIndex: number;
  readonly sampleId: string;
  /** Where the crop's PNG goes, relative to the store. */
  readonly key: string;
  /** Where the heatmap over the whole image goes (the enlarged picture), relative to the store. */
  readonly largeKey: string;
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
  try {
    const model = await prepareModel(engine, config);
    const step = settings.batch ?? DEFAULT_BATCH;
    let done = 0;
    for (const [layer, list] of requestsByLayer(requests)) {
      // A new cache per layer: a layer's neurons share many images, and dropping it between layers
      // bounds memory at 224 pixels.
      const viewOf = modelViews(dataset, config.preprocess);
      for (let start = 0; start < list.length; start += step) {
        const chunk = list.slice(start, start + step);
        const views = await Promise.all(chunk.map(viewOf));
        const readable = chunk.flatMap((request, i) => {
          const view = views[i];
          if (view) return [{ request, view }];
          failed.add(request.key).add(request.largeKey);
          return [];
        });
        done += chunk.length;
        if (readable.length > 0) {
          await writeBatch(store, engine, { model, layer }, readable, config.preprocess, settings);
        }
        settings.onProgress?.(done, requests.length);
      }
    }
  } finally {
    await engine.release();
  }
  return failed;
}

/** How the run's model sees images: resize, square crop, normalisation. */
type PreprocessSpec = SweepConfig['preprocess'];

/** A request whose image was read, with the model's view of it (HWC RGB, cropSize square). */
interface ReadableRequest {
  readonly request: CropRequest;
  readonly view: Uint8Array;
}

/** The local path of the run's model, loaded into the engine; an unreadable model says how to do without. */
async function prepareModel(engine: AttributionEngine, config: SweepConfig): Promise<string> {
  try {
    const path = await localModelFile(config.modelUri, config.modelDigest);
    await engine.prepare(path);
    return path;
  } catch (error: unknown) {
    throw new Error(
      `the report draws heatmap crops with the run's model ${config.modelUri}, which cannot be read ` +
        `(${error instanceof Error ? error.message : String(error)}); pass --no-crops for plain thumbnails`,
    );
  }
}

/** The requests of each layer, layers in order of first request: one heatmap model per layer. */
function requestsByLayer(requests: readonly CropRequest[]): Map<string, CropRequest[]> {
  const byLayer = new Map<string, CropRequest[]>();
  for (const r of requests) byLayer.set(r.layer, [...(byLayer.get(r.layer) ?? []), r]);
  return byLayer;
}

/**
 * The model's view of a request's image, decoded once per image however many neurons show it;
 * undefined where the image cannot be read or decoded.
 */
function modelViews(
  dataset: Dataset,
  preprocess: PreprocessSpec,
): (request: CropRequest) => Promise<Uint8Array | undefined> {
  const pixels = new Map<number, Promise<Uint8Array | undefined>>();
  return (r) => {
    let view = pixels.get(r.sampleIndex);
    if (!view) {
      view = dataset
        .readSample(r.sampleId)
        .then((bytes) => modelView(bytes, preprocess))
        .catch(() => undefined);
      pixels.set(r.sampleIndex, view);
    }
    return view;
  };
}

/** One onnxruntime call for the heatmaps of a batch, then each crop rendered and written as a PNG. */
async function writeBatch(
  store: ObjectStore,
  engine: AttributionEngine,
  neuron: { readonly model: string; readonly layer: string },
  batch: readonly ReadableRequest[],
  preprocess: PreprocessSpec,
  settings: CropSettings,
): Promise<void> {
  const side = preprocess.cropSize;
  const plane = 3 * side * side;
  const images = new Float32Array(batch.length * plane);
  for (const [i, { view }] of batch.entries()) {
    images.set(hwcToNormalisedChw(view, side, side, preprocess), i * plane);
  }
  const { heat } = await heatmaps(
    engine,
    neuron,
    {
      images: tensor('float32', [batch.length, 3, side, side], images),
      channels: batch.map(({ request }) => request.neuron),
    },
    { composite: settings.composite, region: 'map' },
  );
  for (const [i, { request, view }] of batch.entries()) {
    const heatOfImage = heatPlane(heat.data as Float32Array, i * plane, side, side);
    const crop = featureCrop(heatOfImage, side, side);
    const rgb = renderCrop(view, side, crop);
    const overlay = sharp(heatOverlay(view, heatOfImage), {
      raw: { width: side, height: side, channels: 3 },
    });
    const large = await encodeLarge(overlay, request.largeKey);
    await store.put(request.largeKey, large.data, { contentType: large.contentType });
    const png = await sharp(rgb, { raw: { width: crop.box.size, height: crop.box.size, channels: 3 } })
      // Small crops (CIFAR) stay crisp; large ones are downscaled smoothly.
      .resize(settings.size, settings.size, {
        kernel: crop.box.size < settings.size ? 'nearest' : 'lanczos3',
      })
      .png()
      .toBuffer();
    await store.put(request.key, png, { contentType: 'image/png' });
  }
}
