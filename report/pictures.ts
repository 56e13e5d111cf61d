/**
 * The pictures the pages show: which ones (one per image a page names, deduplicated by key), and writing
 * them, as heatmap crops (crops.ts) or as whole-image thumbnails.
 */
import sharp from 'sharp';
import { openDataset } from '../core/adapters/datasets/dataset.js';
import type { CompositeName } from '../core/adapters/onnxruntime/attribution.js';
import type { ObjectStore } from '../core/adapters/storage/index.js';
import type { SweepConfig } from '../core/compute/run/config.js';
import { type CropRequest, writeCrops } from './crops.js';
import { type ImageSource, reportKey, reportPath } from './paths.js';
import type { ShownLayer } from './run.js';

export interface PictureSettings {
  /** Heatmap crops, or whole images. */
  crops: boolean;
  composite: CompositeName;
  /** Edge of each picture in pixels. */
  thumbnailSize: number;
  onCropProgress?: ((done: number, total: number) => void) | undefined;
}

/** Thumbnails made concurrently, so that reading images (from S3 too) overlaps with resizing them. */
const THUMBNAIL_WORKERS = 8;

/** Every picture the pages show, layer by layer; an image two sections share (thumbnails) is listed once. */
export function collectPictures(layers: readonly ShownLayer[], source: ImageSource): CropRequest[] {
  const pictures = new Map<string, CropRequest>();
  for (const { layer, index, virtualNeurons } of layers) {
    for (const [neuron, byMethod] of virtualNeurons) {
      for (const clusters of byMethod.values()) {
        for (const vn of clusters) {
          for (const img of vn.images) {
            const key = reportKey(source(index, neuron, img));
            pictures.set(key, { layer, neuron, sampleIndex: img.sampleIndex, sampleId: img.sampleId, key });
          }
        }
      }
    }
  }
  return [...pictures.values()];
}

/** Writes the pictures; returns the paths (relative to `report/`, as pages name them) of those that failed. */
export async function writePictures(
  store: ObjectStore,
  config: SweepConfig,
  requests: readonly CropRequest[],
  settings: PictureSettings,
): Promise<Set<string>> {
  const failedKeys = settings.crops
    ? await writeCrops(store, config, requests, {
        composite: settings.composite,
        size: settings.thumbnailSize,
        ...(settings.onCropProgress ? { onProgress: settings.onCropProgress } : {}),
      })
    : await writeThumbnails(store, config.dataUri, requests, settings.thumbnailSize);
  return new Set([...failedKeys].map(reportPath));
}

/** Resizes each requested image to a size x size PNG at its key; returns the keys that failed. */
async function writeThumbnails(
  store: ObjectStore,
  dataUri: string,
  requests: readonly CropRequest[],
  size: number,
): Promise<Set<string>> {
  const dataset = openDataset(dataUri);
  const queue = [...requests];
  const failed = new Set<string>();
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      try {
        const png = await sharp(await dataset.readSample(next.sampleId))
          .resize(size, size, { fit: 'cover' })
          .png()
          .toBuffer();
        await store.put(next.key, png, { contentType: 'image/png' });
      } catch {
        failed.add(next.key);
      }
    }
  };
  await Promise.all(Array.from({ length: THUMBNAIL_WORKERS }, worker));
  return failed;
}
