import sharp from 'sharp';
import { openDuckDB, s3SettingsFromEnv } from '../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../core/adapters/analytics/views.js';
import { openDataset } from '../core/adapters/datasets/dataset.js';
import type { CompositeName } from '../core/adapters/onnxruntime/attribution.js';
import { isNotFound, isS3Uri, type ObjectStore, openStore } from '../core/adapters/storage/index.js';
import type { SweepConfig } from '../core/compute/run/config.js';
import { runKeys } from '../core/compute/run/layout.js';
import type { ClusterMethod } from '../core/compute/tables/schemas.js';
import { type CropRequest, writeCrops } from './crops.js';
import {
  countRows,
  type ReportImage,
  type ReportNeuron,
  readNeurons,
  readSkipped,
  readVirtualNeurons,
  type VirtualNeuron,
} from './data.js';
import { fmt, escapeHtml as h, page } from './html.js';

export { escapeHtml } from './html.js';

export interface ReportOptions {
  /** Neurons per layer page, most polysemantic first. Default 20. */
  top?: number;
  /** Thumbnails per virtual neuron. Default 8. */
  thumbnails?: number;
  /** Thumbnail edge in pixels. Default 64. */
  thumbnailSize?: number;
  /**
   * Show what each neuron looks at (DESIGN.md step 4): every thumbnail is the neuron's heatmap crop of
   * the image, computed with the run's model. Default true; false shows the whole images.
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

export const REPORT_PREFIX = 'report';

/** The key of the page of layer `index` (its position in config.layers), relative to `report/`. */
export const layerPage = (index: number): string => `layer-${index}.html`;
const thumbPath = (sampleIndex: number): string => `img/${sampleIndex}.png`;
/** A neuron's crop of an image, relative to `report/`: a neuron sees each of its images its own way. */
const cropPath = (layerIndex: number, neuron: number, sampleIndex: number): string =>
  `crops/${layerIndex}/${neuron}/${sampleIndex}.png`;

/** The picture of `img` on the page of layer `layerIndex`, in the section of `neuron`. */
type ImageSource = (layerIndex: number, neuron: number, img: ReportImage) => string;

/**
 * Writes a static HTML report of a finished run under `<run>/report/`: `index.html` (summary and, per
 * explained layer, its neurons by polysemanticity), `layer-<i>.html` (the virtual neurons of the top
 * neurons with their reference images, PURE and the Activation baseline side by side) and the pictures:
 * `crops/<layer>/<neuron>/<sample_index>.png` (what the neuron looks at in each image, from its heatmap)
 * or, with `crops: false`, `img/<sample_index>.png` (whole images). Works for local folders and s3://
 * runs alike; the pages load nothing remote.
 */
export async function writeReport(runUri: string, options: ReportOptions = {}): Promise<ReportResult> {
  const top = options.top ?? 20;
  const thumbnails = options.thumbnails ?? 8;
  const size = options.thumbnailSize ?? 64;
  const crops = options.crops ?? true;
  const source: ImageSource = crops
    ? (layerIndex, neuron, img) => cropPath(layerIndex, neuron, img.sampleIndex)
    : (_layerIndex, _neuron, img) => thumbPath(img.sampleIndex);
  const store = openStore(runUri);
  const configBytes = await store.get(runKeys.config).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
    throw new Error(
      `no ${runKeys.config} under ${store.uri}; point at <out>/<run>, the folder that holds it`,
    );
  });
  const config = JSON.parse(new TextDecoder().decode(configBytes)) as SweepConfig;
  const s3 = isS3Uri(runUri) ? s3SettingsFromEnv() : undefined;
  if (isS3Uri(runUri) && !s3) {
    throw new Error(
      'reading an s3:// run needs PURE_S3_ENDPOINT (or AWS_ENDPOINT_URL) and credentials in the environment',
    );
  }
  const db = await openDuckDB(s3);
  try {
    const views = new Set(await createRunViews(db, runUri));
    const images = views.has('samples') ? await countRows(db, 'samples') : 0;
    const skipped = views.has('skipped') ? await readSkipped(db) : [];
    const neurons = views.has('neurons') && views.has('clusters') ? await readNeurons(db) : [];
    const byLayer = new Map<string, ReportNeuron[]>();
    for (const n of neurons) byLayer.set(n.layer, [...(byLayer.get(n.layer) ?? []), n]);
    // Layers in the order of config.layers; any the config does not name (should not happen) after them.
    const explained = [...byLayer.keys()]
      .map((layer) => ({ layer, index: config.layers.indexOf(layer) }))
      .sort((a, b) => (a.index < 0 ? 1e9 : a.index) - (b.index < 0 ? 1e9 : b.index));
    let extra = config.layers.length;
    for (const e of explained) if (e.index < 0) e.index = extra++;

    const counts = [...(config.clusterCounts ?? [2, 3, 4, 5])].sort((a, b) => a - b);
    const fallbackCount = counts[0] ?? 2;
    // Every picture the pages show, by key: a crop per (layer, neuron, image), or a thumbnail per image.
    const pictures = new Map<string, CropRequest>();
    const layerPages: { layer: string; index: number; html: string; shown: Set<number> }[] = [];
    for (const { layer, index } of explained) {
      const all = byLayer.get(layer) ?? [];
      const shown = all.slice(0, top);
      const shownCounts = new Map(
        shown.map((n) => [n.neuron, n.nClusters > 1 ? n.nClusters : fallbackCount]),
      );
      const vns = await readVirtualNeurons(db, layer, shownCounts, thumbnails);
      for (const [neuron, byMethod] of vns) {
        for (const clusters of byMethod.values()) {
          for (const vn of clusters) {
            for (const img of vn.images) {
              const key = `${REPORT_PREFIX}/${source(index, neuron, img)}`;
              pictures.set(key, {
                layer,
                neuron,
                sampleIndex: img.sampleIndex,
                sampleId: img.sampleId,
                key,
              });
            }
          }
        }
      }
      layerPages.push({
        layer,
        index,
        shown: new Set(shown.map((n) => n.neuron)),
        html: layerHtml(config, layer, index, all.length, shown, shownCounts, vns, counts, source, crops),
      });
    }

    const requests = [...pictures.values()];
    const failedKeys = crops
      ? await writeCrops(store, config, requests, {
          composite: options.composite ?? 'epsilon-plus-flat',
          size,
          ...(options.onCropProgress ? { onProgress: options.onCropProgress } : {}),
        })
      : await writeThumbnails(store, config.dataUri, requests, size);
    // Pages name their pictures relative to report/.
    const failed = new Set([...failedKeys].map((key) => key.slice(`${REPORT_PREFIX}/`.length)));
    for (const p of layerPages) {
      await putText(store, `${REPORT_PREFIX}/${layerPage(p.index)}`, markMissing(p.html, failed));
    }
    const indexHtml = indexPage(config, runUri, images, skipped, explained, byLayer, top, layerPages);
    const indexKey = `${REPORT_PREFIX}/index.html`;
    await putText(store, indexKey, indexHtml);
    return {
      indexKey,
      indexLocation: store.localPath ? store.localPath(indexKey) : `${store.uri}/${indexKey}`,
      layers: layerPages.map((p) => ({
        layer: p.layer,
        index: p.index,
        page: `${REPORT_PREFIX}/${layerPage(p.index)}`,
        neurons: byLayer.get(p.layer)?.length ?? 0,
        shown: p.shown.size,
      })),
      images: pictures.size - failed.size,
      failedImages: failed.size,
    };
  } finally {
    db.closeSync();
  }
}

async function putText(store: ObjectStore, key: string, text: string): Promise<void> {
  await store.put(key, new TextEncoder().encode(text), { contentType: 'text/html; charset=utf-8' });
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
  await Promise.all(Array.from({ length: 8 }, worker));
  return failed;
}

/** Pages are rendered before their pictures are written; pictures that failed become grey boxes. */
function markMissing(html: string, failed: ReadonlySet<string>): string {
  return html.replace(/<img src="([^"]*)" alt="([^"]*)"[^>]*>/g, (img, src: string, alt: string) =>
    failed.has(src) ? `<span class="missing" title="${alt}: the image could not be read"></span>` : img,
  );
}

function thumb(img: ReportImage, src: string): string {
  const title = `#${img.rank} ${img.sampleId}${img.label === null ? '' : ` (${img.label})`}`;
  return `<img src="${h(src)}" alt="${h(title)}" title="${h(title)}" loading="lazy">`;
}

function silhouetteAt(silhouettes: number[], counts: number[], n: number): number | undefined {
  const i = counts.indexOf(n);
  return i < 0 ? undefined : silhouettes[i];
}

function bestSilhouette(silhouettes: number[]): number | undefined {
  const finite = silhouettes.filter(Number.isFinite);
  return finite.length === 0 ? undefined : Math.max(...finite);
}

function virtualNeuronsHtml(
  clusters: VirtualNeuron[] | undefined,
  srcOf: (img: ReportImage) => string,
): string {
  if (!clusters || clusters.length === 0) return '<p class="muted">no clustering stored</p>';
  return clusters
    .map((vn) => {
      const label = vn.mainLabel
        ? ` · main label <b>${h(vn.mainLabel.label)}</b> (${vn.mainLabel.count}/${vn.members})`
        : '';
      return `<div class="vn" data-cluster="${vn.cluster}"><div class="meta">virtual neuron ${vn.cluster}: <b>${vn.members}</b> images${label}</div><div class="thumbs">${vn.images.map((img) => thumb(img, srcOf(img))).join('')}</div></div>`;
    })
    .join('\n');
}

function layerHtml(
  config: SweepConfig,
  layer: string,
  layerIndex: number,
  total: number,
  shown: ReportNeuron[],
  shownCounts: ReadonlyMap<number, number>,
  vns: ReadonlyMap<number, ReadonlyMap<ClusterMethod, VirtualNeuron[]>>,
  counts: number[],
  source: ImageSource,
  crops: boolean,
): string {
  const sections = shown.map((n) => {
    const count = shownCounts.get(n.neuron) ?? n.nClusters;
    const note =
      n.nClusters > 1
        ? ''
        : `<p class="note">Automatic choice: 1 (monosemantic); showing the ${count}-cluster split for comparison.</p>`;
    const byMethod = vns.get(n.neuron);
    const srcOf = (img: ReportImage) => source(layerIndex, n.neuron, img);
    return `<section class="neuron" id="neuron-${n.neuron}" data-neuron="${n.neuron}" data-shown-clusters="${count}">
<h2>Neuron ${n.neuron}</h2>
<p>polysemanticity <b>${fmt(n.polysemanticity)}</b> · chosen clusters <b>${n.nClusters}</b> · ${n.references} references</p>
${note}
<div class="methods">
<div class="method" data-method="pure"><h3>PURE (circuits) · ${count} virtual neurons · silhouette ${fmt(silhouetteAt(n.silhouettes, counts, count))}</h3>
${virtualNeuronsHtml(byMethod?.get('pure'), srcOf)}
</div>
<div class="method" data-method="activation"><h3>Activation baseline · ${count} clusters · silhouette ${fmt(silhouetteAt(n.activationSilhouettes, counts, count))}</h3>
${virtualNeuronsHtml(byMethod?.get('activation'), srcOf)}
</div>
</div>
</section>`;
  });
  const body = `<p><a href="index.html">← run ${h(config.runId)}</a></p>
<h1>Layer <code>${h(layer)}</code></h1>
<p>The ${shown.length} most polysemantic of ${total} neurons. ${
    crops
      ? 'Pictures: the highest-ranked reference images of each virtual neuron, cropped to what the neuron looks at (its heatmap on the image, blurred; cropped where above 1 % of its maximum, dimmed where below 2 %)'
      : 'Pictures: the highest-ranked reference images of each virtual neuron'
  } (hover for rank, image and label).</p>
${sections.join('\n')}`;
  return page(`${layer} · ${config.runId}`, body);
}

function indexPage(
  config: SweepConfig,
  runUri: string,
  images: number,
  skipped: { stage: string; images: number }[],
  explained: { layer: string; index: number }[],
  byLayer: ReadonlyMap<string, ReportNeuron[]>,
  top: number,
  layerPages: { index: number; shown: Set<number> }[],
): string {
  const skippedTotal = skipped.reduce((s, x) => s + x.images, 0);
  const skippedText =
    skipped.length === 0
      ? '0'
      : `${skippedTotal} (${skipped.map((s) => `${h(s.stage)}: ${s.images}`).join(', ')})`;
  const summary = `<dl class="summary">
<dt>run</dt><dd><code>${h(runUri)}</code></dd>
<dt>model</dt><dd><code>${h(config.modelUri)}</code></dd>
<dt>data</dt><dd><code>${h(config.dataUri)}</code></dd>
<dt>layers</dt><dd>${config.layers.map((l) => `<code>${h(l)}</code>`).join(' → ')}</dd>
<dt>k (references per neuron)</dt><dd>${h(config.k)}</dd>
<dt>cluster counts</dt><dd>${h((config.clusterCounts ?? []).join(', '))}</dd>
<dt>images</dt><dd>${images}</dd>
<dt>skipped images</dt><dd>${skippedText}</dd>
</dl>`;
  const layers = explained.map(({ layer, index }) => {
    const all = byLayer.get(layer) ?? [];
    const split = all.filter((n) => n.nClusters > 1).length;
    const shown = layerPages.find((p) => p.index === index)?.shown ?? new Set<number>();
    const link = layerPage(index);
    const rows = all.map((n) => {
      const name = shown.has(n.neuron)
        ? `<a href="${h(link)}#neuron-${n.neuron}">${n.neuron}</a>`
        : String(n.neuron);
      return `<tr data-neuron="${n.neuron}"><td class="num">${name}</td><td class="num">${n.nClusters}</td><td class="num">${fmt(n.polysemanticity)}</td><td class="num">${fmt(bestSilhouette(n.silhouettes))}</td></tr>`;
    });
    return `<section class="layer" data-layer-index="${index}">
<h2>Layer <code>${h(layer)}</code></h2>
<p>${split} of ${all.length} neurons split into virtual neurons. <a href="${h(link)}">Virtual neurons of the top ${Math.min(top, all.length)} →</a></p>
<table><thead><tr><th>neuron</th><th>n_clusters (chosen)</th><th>polysemanticity</th><th>best silhouette</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
</section>`;
  });
  const body = `<h1>PURE report · ${h(config.runId)}</h1>
${summary}
${layers.length === 0 ? '<p class="muted">No explained layers: the run has no neurons table (stopped after references?).</p>' : layers.join('\n')}`;
  return page(`PURE report · ${config.runId}`, body);
}
