/**
 * The pictures the pages show: which ones (one per picture a page names, deduplicated by path), and
 * writing them: heatmap crops with the heatmap over the image (crops.ts) for the neurons drawn with crops,
 * the images themselves (a thumbnail, and the model's view of it to enlarge) for the others.
 */
import sharp from 'sharp';
import { openDataset } from '../core/adapters/datasets/dataset.js';
import { modelView } from '../core/adapters/datasets/preprocess.js';
import type { CompositeName } from '../core/adapters/onnxruntime/attribution.js';
import type { ObjectStore } from '../core/adapters/storage/index.js';
import type { SweepConfig } from '../core/compute/run/config.js';
import { type CropRequest, writeCrops } from './crops.js';
import { encodeLarge } from './encode.js';
import { type LargeFormat, type PictureKind, picturePaths, reportKey, reportPath } from './paths.js';
import type { LayerReport } from './run.js';

export interface PictureSettings {
  /** Heatmap crops for the heatmapped neurons, or the images for every neuron. */
  crops: boolean;
  composite: CompositeName;
  /** Edge of each thumbnail in pixels. */
  thumbnailSize: number;
  onCropProgress?: ((done: number, total: number) => void) | undefined;
}

/** An image shown as itself: its thumbnail and its enlarged view, shared by every page that shows it. */
export interface ImageRequest {
  readonly sampleIndex: number;
  readonly sampleId: string;
  readonly key: string;
  readonly largeKey: string;
}

/** Thumbnails made concurrently, so that reading images (from S3 too) overlaps with resizing them. */
const THUMBNAIL_WORKERS = 8;

/** How the pictures of a neuron are drawn: heatmap crops for the heatmapped neurons when crops are on. */
export const pictureKindOf =
  (layer: LayerReport, crops: boolean) =>
  (neuron: number): PictureKind =>
    crops && layer.heatmapped.has(neuron) ? 'crop' : 'image';

/** Every picture the pages show, crops and images apart; a picture two galleries share is listed once. */
export function collectPictures(
  layers: readonly LayerReport[],
  crops: boolean,
  large: LargeFormat,
): { crops: CropRequest[]; images: ImageRequest[] } {
  const cropRequests = new Map<string, CropRequest>();
  const imageRequests = new Map<string, ImageRequest>();
  for (const layer of layers) {
    const kindOf = pictureKindOf(layer, crops);
    for (const [neuron, byMethod] of layer.virtualNeurons) {
      const kind = kindOf(neuron);
      for (const clusters of byMethod.values()) {
        for (const vn of clusters) {
          for (const { sampleIndex, sampleId } of vn.images) {
            const paths = picturePaths(kind, layer.index, neuron, sampleIndex, large);
            const keys = { key: reportKey(paths.thumb), largeKey: reportKey(paths.large) };
            if (kind === 'crop') {
              cropRequests.set(keys.key, { layer: layer.layer, neuron, sampleIndex, sampleId, ...keys });
            } else {
              imageRequests.set(keys.key, { sampleIndex, sampleId, ...keys });
            }
          }
        }
      }
    }
  }
  return { crops: [...cropRequests.values()], images: [...imageRequests.values()] };
}

/**
 * Writes the pictures; returns the paths (relative to `report/`, as pages name them) of those that could
 * not be made, and how many thumbnails were written and could not be.
 */
export async function writePictures(
  store: ObjectStore,
  config: SweepConfig,
  requests: { crops: readonly CropRequest[]; images: readonly ImageRequest[] },
  settings: PictureSettings,
): Promise<{ failed: Set<string>; written: number; unreadable: number }> {
  const failedCrops = await writeCrops(store, config, requests.crops, {
    composite: settings.composite,
    size: settings.thumbnailSize,
    ...(settings.onCropProgress ? { onProgress: settings.onCropProgress } : {}),
  });
  const failedImages = await writeImages(store, config, requests.images, settings.thumbnailSize);
  const failed = new Set([...failedCrops, ...failedImages].map(reportPath));
  const thumbs = [...requests.crops, ...requests.images].map((r) => reportPath(r.key));
  const unreadable = thumbs.filter((t) => failed.has(t)).length;
  return { failed, written: thumbs.length - unreadable, unreadable };
}

/**
 * Each image as the model sees it (resized and cropped by the run's preprocessing), at its full size (the
 * enlarged view) and as a size x size thumbnail; returns the keys that failed.
 */
async function writeImages(
  store: ObjectStore,
  config: SweepConfig,
  requests: readonly ImageRequest[],
  size: number,
): Promise<Set<string>> {
  const dataset = openDataset(config.dataUri);
  const side = config.preprocess.cropSize;
  const queue = [...requests];
  const failed = new Set<string>();
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      try {
        const view = await modelView(await dataset.readSample(next.sampleId), config.preprocess);
        const raw = { raw: { width: side, height: side, channels: 3 as const } };
        const large = await encodeLarge(sharp(view, raw), next.largeKey);
        // Small images (CIFAR) stay crisp; large ones are downscaled smoothly.
        const kernel = side < size ? 'nearest' : 'lanczos3';
        const thumb = await sharp(view, raw).resize(size, size, { kernel }).png().toBuffer();
        await store.put(next.largeKey, large.data, { contentType: large.contentType });
        await store.put(next.key, thumb, { contentType: 'image/png' });
      } catch {
        failed.add(next.key).add(next.largeKey);
      }
    }
  };
  await Promise.all(Array.from({ length: THUMBNAIL_WORKERS }, worker));
  return failed;
}
