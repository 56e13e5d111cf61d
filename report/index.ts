/**
 * `pure report`: a static HTML report of a finished run. The pipeline is writeReport below; the steps
 * live by concern: run.ts and circuits.ts (reading the run), pictures.ts and crops.ts (the pictures),
 * plots.ts (the SVG plots), overview.ts, layer-index.ts and neuron-page.ts (the HTML), assets.ts (the
 * shared stylesheet and script).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CompositeName } from '../core/adapters/onnxruntime/attribution.js';
import { type ObjectStore, openStore } from '../core/adapters/storage/index.js';
import { REPORT_CSS, REPORT_JS } from './assets.js';
import { type NeuronCircuits, readCircuits, topChannels } from './circuits.js';
import { comparePage, storedComparisons, writeComparePage } from './compare-page.js';
import { layerIndexHtml } from './layer-index.js';
import { type Figure, type NeuronPageContext, neuronHtml } from './neuron-page.js';
import { type Comparison, overviewHtml } from './overview.js';
import {
  ASSETS,
  fromNeuronPage,
  type LargeFormat,
  largeFormatFor,
  layerPage,
  neuronPage,
  reportKey,
} from './paths.js';
import { collectPictures, type PictureSettings, pictureKindOf, writePictures } from './pictures.js';
import { ReportPlots } from './plots.js';
import {
  type LayerReport,
  openRunDatabase,
  type RunSummary,
  readLayerReports,
  readRunConfig,
  readRunSummary,
} from './run.js';

export { escapeHtml } from './html.js';
export { layerPage, neuronPage, REPORT_PREFIX } from './paths.js';

export interface ReportOptions {
  /** Neurons per layer drawn with heatmap crops, most polysemantic first; the others show their images. Default 20. */
  top?: number;
  /** Pictures per virtual neuron. Default 8. */
  thumbnails?: number;
  /** Thumbnail edge in pixels. Default 64. */
  thumbnailSize?: number;
  /**
   * Draw what the `top` neurons look at (docs/design.md step 4): their pictures are heatmap crops,
   * computed with the run's model, and enlarge to the heatmap over the image. Default true; false shows
   * the images for every neuron.
   */
  crops?: boolean;
  /** Attribution composite of the crops. Default 'epsilon-plus-flat' (the authors'). */
  composite?: CompositeName;
  /** Progress of the crops: done and total, after each heatmap batch. */
  onCropProgress?: (done: number, total: number) => void;
  /** Progress of the neuron pages: done and total, after each chunk. */
  onPageProgress?: (done: number, total: number) => void;
}

export interface ReportResult {
  /** Key of the index page relative to the run: `report/index.html`. */
  indexKey: string;
  /** Where the index page is: a local path or an s3:// URI. */
  indexLocation: string;
  /** Per explained layer: its index page, its neurons (each has a page), how many drawn with crops. */
  layers: { layer: string; index: number; page: string; neurons: number; heatmapped: number }[];
  /** Thumbnails (crops or images) written. */
  images: number;
  /** Thumbnails whose image could not be read or decoded (shown as grey boxes). */
  failedImages: number;
}

/** ReportOptions with their defaults filled in. */
interface ReportSettings extends PictureSettings {
  top: number;
  thumbnails: number;
  onPageProgress: ((done: number, total: number) => void) | undefined;
}

/** Neurons whose circuit vectors are read (and pages written) at a time: bounds memory on wide layers. */
const NEURON_CHUNK = 64;
/** Lower-layer channels listed in a virtual neuron's circuit. */
const CIRCUIT_CHANNELS = 5;

/**
 * Writes a static HTML report of a finished run under `<run>/report/` (the files: report/paths.ts): the
 * overview, an index per explained layer, a page per neuron, the pictures and the shared assets. Works
 * for local folders and s3:// runs alike; the pages load nothing from outside the folder.
 */
export async function writeReport(runUri: string, options: ReportOptions = {}): Promise<ReportResult> {
  const settings = withDefaults(options);
  const store = openStore(runUri);
  const config = await readRunConfig(store);
  const db = await openRunDatabase(runUri);
  try {
    const run = await readRunSummary(db, runUri, config);
    const layers = await readLayerReports(db, run, settings.top, settings.thumbnails);
    const large = largeFormatFor(config.preprocess.cropSize);
    const requests = collectPictures(layers, settings.crops, large);
    const pictures = await writePictures(store, config, requests, settings);
    await putText(store, reportKey(ASSETS.css), REPORT_CSS, 'text/css; charset=utf-8');
    await putText(store, reportKey(ASSETS.js), REPORT_JS, 'text/javascript; charset=utf-8');
    const plots = new ReportPlots();
    const figures = new Map<number, Figure[]>();
    const pages = new NeuronPages(db, store, run, layers, { ...settings, large }, pictures.failed, plots);
    for (const layer of layers) {
      await pages.write(layer);
      await putHtml(store, reportKey(layerPage(layer.index)), layerIndexHtml(run, layer));
      figures.set(layer.index, await plots.layerFigures(layer));
    }
    // Comparisons stored in the run (pure compare, or a schedule's --compare-previous) get their pages too.
    const comparisons: Comparison[] = [];
    for (const against of await storedComparisons(store)) {
      await writeComparePage(runUri, against);
      comparisons.push({ against, page: comparePage(against) });
    }
    const indexKey = reportKey('index.html');
    await putHtml(store, indexKey, overviewHtml(run, layers, figures, comparisons));
    return {
      indexKey,
      indexLocation: store.localPath ? store.localPath(indexKey) : `${store.uri}/${indexKey}`,
      layers: layers.map((layer) => ({
        layer: layer.layer,
        index: layer.index,
        page: reportKey(layerPage(layer.index)),
        neurons: layer.neurons.length,
        heatmapped: settings.crops ? layer.heatmapped.size : 0,
      })),
      images: pictures.written,
      failedImages: pictures.unreadable,
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
    onPageProgress: options.onPageProgress,
  };
}

/** Writes the neuron pages of each layer, a chunk of neurons at a time (their circuit vectors read together). */
class NeuronPages {
  private done = 0;
  private readonly total: number;

  constructor(
    private readonly db: DuckDBConnection,
    private readonly store: ObjectStore,
    private readonly run: RunSummary,
    private readonly layers: readonly LayerReport[],
    private readonly settings: ReportSettings & { large: LargeFormat },
    private readonly failed: ReadonlySet<string>,
    private readonly plots: ReportPlots,
  ) {
    this.total = layers.reduce((sum, l) => sum + l.neurons.length, 0);
  }

  async write(layer: LayerReport): Promise<void> {
    const order = layer.neurons.map((n) => n.neuron);
    for (let start = 0; start < layer.neurons.length; start += NEURON_CHUNK) {
      const chunk = layer.neurons.slice(start, start + NEURON_CHUNK);
      const circuits = await readCircuits(
        this.db,
        layer.layer,
        chunk.map((n) => n.neuron),
      );
      for (const [i, n] of chunk.entries()) {
        const position = start + i;
        const neighbours = { previous: order[position - 1] ?? null, next: order[position + 1] ?? null };
        const ctx = await this.context(layer, n, circuits.get(n.neuron), neighbours);
        const html = markMissing(neuronHtml(ctx), this.failed, '../');
        await putHtml(this.store, reportKey(neuronPage(layer.index, n.neuron)), html);
      }
      this.done += chunk.length;
      this.settings.onPageProgress?.(this.done, this.total);
    }
  }

  private async context(
    layer: LayerReport,
    n: LayerReport['neurons'][number],
    circuits: NeuronCircuits | undefined,
    neighbours: Pick<NeuronPageContext, 'previous' | 'next'>,
  ): Promise<NeuronPageContext> {
    const pure = layer.virtualNeurons.get(n.neuron)?.get('pure') ?? [];
    const activation = layer.virtualNeurons.get(n.neuron)?.get('activation') ?? [];
    const vectorsOf = (ranks: readonly number[]) =>
      ranks.flatMap((rank) => {
        const v = circuits?.vectors.get(rank);
        return v ? [v] : [];
      });
    const channels = new Map(
      pure.map((vn) => [vn.cluster, topChannels(vectorsOf(vn.ranks), CIRCUIT_CHANNELS)]),
    );
    return {
      run: this.run,
      layer,
      neuron: n,
      ...neighbours,
      pictureKind: pictureKindOf(layer, this.settings.crops)(n.neuron),
      largeFormat: this.settings.large,
      candidateCurve: await this.plots.candidateCurve(n, this.run.clusterCounts),
      circuitMap: circuits ? await this.plots.circuitMap(n.neuron, circuits, pure, activation) : null,
      circuits: channels,
      lower: circuits ? this.lowerOf(circuits.lowerLayer) : null,
    };
  }

  /** The lower layer, with links to its neurons' pages when it was explained too. */
  private lowerOf(lowerLayer: string): NeuronPageContext['lower'] {
    const explained = this.layers.find((l) => l.layer === lowerLayer);
    if (!explained) return { layer: lowerLayer, pageOf: null };
    const neurons = new Set(explained.neurons.map((n) => n.neuron));
    return {
      layer: lowerLayer,
      pageOf: (channel) =>
        neurons.has(channel) ? fromNeuronPage(neuronPage(explained.index, channel)) : null,
    };
  }
}

/**
 * A page names every picture it shows; those that could not be made (`failed`, relative to `report/`;
 * the page links them through `root`) become grey boxes instead of broken images and dead links.
 */
export function markMissing(html: string, failed: ReadonlySet<string>, root = ''): string {
  if (failed.size === 0) return html;
  return html.replace(
    /<a class="zoom" href="[^"]*" data-caption="([^"]*)"><img src="([^"]*)"[^>]*><\/a>/g,
    (link, caption: string, src: string) =>
      failed.has(src.slice(root.length))
        ? `<span class="missing" title="${caption}: the image could not be read"></span>`
        : link,
  );
}

async function putHtml(store: ObjectStore, key: string, html: string): Promise<void> {
  await putText(store, key, html, 'text/html; charset=utf-8');
}

async function putText(store: ObjectStore, key: string, text: string, contentType: string): Promise<void> {
  await store.put(key, new TextEncoder().encode(text), { contentType });
}
