/**
 * `pure report`: a static HTML report of a finished run. The pipeline is writeReport below; the steps
 * live by concern: run.ts (reading the run), pictures.ts and crops.ts (the pictures), pages.ts (the HTML).
 */
import type { CompositeName } from '../core/adapters/onnxruntime/attribution.js';
import { type ObjectStore, openStore } from '../core/adapters/storage/index.js';
import { indexHtml, layerHtml, markMissing } from './pages.js';
import { type ImageSource, imageSource, layerPage, reportKey } from './paths.js';
import { collectPictures, type PictureSettings, writePictures } from './pictures.js';
import {
  openRunDatabase,
  type RunSummary,
  readRunConfig,
  readRunSummary,
  readShownLayers,
  type ShownLayer,
} from './run.js';

export { escapeHtml } from './html.js';
export { layerPage, REPORT_PREFIX } from './paths.js';

export interface ReportOptions {
  /** Neurons per layer page, most polysemantic first. Default 20. */
  top?: number;
  /** Thumbnails per virtual neuron. Default 8. */
  thumbnails?: number;
  /** Thumbnail edge in pixels. Default 64. */
  thumbnailSize?: number;
  /**
   * Show what each neuron looks at (docs/design.md step 4): every thumbnail is the neuron's heatmap crop
   * of the image, computed with the run's model. Default true; false shows the whole images.
   */
  crops?: boolean;
  /** Attribution composite of the crops. Default 'epsilon-plus-flat' (the authors'). */
  composite?: CompositeName;
  /** Progress of the crops: done and total, after each heatmap batch. */
  onCropProgress?: (done: number, total: number) => void;
}

export interface ReportResult {
  /** Key of the index page relative to the run: `report/index.html`. */
  indexKey: string;
  /** Where the index page is: a local path or an s3:// URI. */
  indexLocation: string;
  layers: { layer: string; index: number; page: string; neurons: number; shown: number }[];
  /** Thumbnails (or crops) written. */
  images: number;
  /** Thumbnails (or crops) whose image could not be read or decoded (shown as grey boxes). */
  failedImages: number;
}

/** ReportOptions with their defaults filled in. */
interface ReportSettings extends PictureSettings {
  top: number;
  thumbnails: number;
}

/**
 * Writes a static HTML report of a finished run under `<run>/report/`: `index.html` (summary and, per
 * explained layer, its neurons by polysemanticity), `layer-<i>.html` (the virtual neurons of the top
 * neurons with their reference images, PURE and the Activation baseline side by side) and the pictures:
 * `crops/<layer>/<neuron>/<sample_index>.png` (what the neuron looks at in each image, from its heatmap)
 * or, with `crops: false`, `img/<sample_index>.png` (whole images). Works for local folders and s3://
 * runs alike; the pages load nothing remote.
 */
export async function writeReport(runUri: string, options: ReportOptions = {}): Promise<ReportResult> {
  const settings = withDefaults(options);
  const store = openStore(runUri);
  const config = await readRunConfig(store);
  const db = await openRunDatabase(runUri);
  try {
    const run = await readRunSummary(db, runUri, config);
    const layers = await readShownLayers(db, run, settings.top, settings.thumbnails);
    const source = imageSource(settings.crops);
    const pictures = collectPictures(layers, source);
    const failed = await writePictures(store, config, pictures, settings);
    const indexKey = await writePages(store, run, layers, source, failed, settings);
    return {
      indexKey,
      indexLocation: store.localPath ? store.localPath(indexKey) : `${store.uri}/${indexKey}`,
      layers: layers.map((layer) => ({
        layer: layer.layer,
        index: layer.index,
        page: reportKey(layerPage(layer.index)),
        neurons: layer.neurons.length,
        shown: new Set(layer.shown.map((n) => n.neuron)).size,
      })),
      images: pictures.length - failed.size,
      failedImages: failed.size,
    };
  } finally {
    db.closeSync();
  }
}

function withDefaults(options: ReportOptions): ReportSettings {
  return {
    top: options.top ?? 20,
    thumbnails: options.thumbnails ?? 8,
    thumbnailSize: options.thumbnailSize ?? 64,
    crops: options.crops ?? true,
    composite: options.composite ?? 'epsilon-plus-flat',
    onCropProgress: options.onCropProgress,
  };
}

/** Writes the layer pages (the pictures in `failed` as grey boxes), then the index; returns the index's key. */
async function writePages(
  store: ObjectStore,
  run: RunSummary,
  layers: readonly ShownLayer[],
  source: ImageSource,
  failed: ReadonlySet<string>,
  settings: ReportSettings,
): Promise<string> {
  for (const layer of layers) {
    const html = layerHtml(run, layer, source, settings.crops);
    await putHtml(store, reportKey(layerPage(layer.index)), markMissing(html, failed));
  }
  const indexKey = reportKey('index.html');
  await putHtml(store, indexKey, indexHtml(run, layers, settings.top));
  return indexKey;
}

async function putHtml(store: ObjectStore, key: string, html: string): Promise<void> {
  await store.put(key, new TextEncoder().encode(html), { contentType: 'text/html; charset=utf-8' });
}
