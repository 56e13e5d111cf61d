/**
 * Opening a finished run for the report: its config from the store, its tables as DuckDB views, and
 * the summary the index page shows (images, skipped images, the neurons of each explained layer).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuckDB, s3SettingsFromEnv } from '../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../core/adapters/analytics/views.js';
import { isNotFound, isS3Uri, type ObjectStore } from '../core/adapters/storage/index.js';
import type { SweepConfig } from '../core/compute/run/config.js';
import { runKeys } from '../core/compute/run/layout.js';
import type { ClusterMethod } from '../core/compute/tables/schemas.js';
import {
  countRows,
  type ReportNeuron,
  readLabels,
  readNeurons,
  readSkipped,
  readVirtualNeurons,
  type VirtualNeuron,
} from './data.js';
import { type LayerEvaluation, readLayerEvaluation, readVirtualNeuronRecords } from './evidence.js';

/** A layer that has neurons, with its position in config.layers (pages and crops are named by it). */
export interface ExplainedLayer {
  layer: string;
  index: number;
}

export interface RunSummary {
  runUri: string;
  config: SweepConfig;
  /** Rows of the samples table. */
  images: number;
  /** Images each stage skipped. */
  skipped: { stage: string; images: number }[];
  /** Each layer's neurons, most polysemantic first. */
  byLayer: ReadonlyMap<string, ReportNeuron[]>;
  explained: ExplainedLayer[];
  /** The candidate cluster counts in increasing order, the order of each neuron's silhouettes. */
  clusterCounts: number[];
  /** The views of the run's tables (`evaluation` and `virtual_neurons` only with an evaluator). */
  views: ReadonlySet<string>;
  /** The images' class labels, sorted (empty without labels): each keeps its colour on every page. */
  labels: string[];
}

/** An explained layer as the report shows it: every neuron, each with a page. */
export interface LayerReport extends ExplainedLayer {
  /** All neurons of the layer, most polysemantic first. */
  neurons: ReportNeuron[];
  /** The cluster count each neuron is shown and judged at (see shownCount). */
  shownCounts: ReadonlyMap<number, number>;
  /** `virtualNeurons.get(neuron).get(method)`: each neuron's clusters at its shown count. */
  virtualNeurons: ReadonlyMap<number, ReadonlyMap<ClusterMethod, VirtualNeuron[]>>;
  /** The neurons drawn with heatmap crops (the `top` most polysemantic); the others show their images. */
  heatmapped: ReadonlySet<number>;
  /** The layer's evaluation in the encoder's space; null when the run has none. */
  evaluation: LayerEvaluation | null;
}

/** The run's config.json; a missing one names the folder that should hold it. */
export async function readRunConfig(store: ObjectStore): Promise<SweepConfig> {
  const configBytes = await store.get(runKeys.config).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
    throw new Error(
      `no ${runKeys.config} under ${store.uri}; point at <out>/<run>, the folder that holds it`,
    );
  });
  return JSON.parse(new TextDecoder().decode(configBytes)) as SweepConfig;
}

/** An in-memory DuckDB that can read the run's tables, wherever they are; close it with closeSync. */
export async function openRunDatabase(runUri: string): Promise<DuckDBConnection> {
  const s3 = isS3Uri(runUri) ? s3SettingsFromEnv() : undefined;
  if (isS3Uri(runUri) && !s3) {
    throw new Error(
      'reading an s3:// run needs PURE_S3_ENDPOINT (or AWS_ENDPOINT_URL) and credentials in the environment',
    );
  }
  return openDuckDB(s3);
}

/** What the run holds; tables a stopped run has not written yet count as empty. */
export async function readRunSummary(
  db: DuckDBConnection,
  runUri: string,
  config: SweepConfig,
): Promise<RunSummary> {
  const views = new Set(await createRunViews(db, runUri));
  const images = views.has('samples') ? await countRows(db, 'samples') : 0;
  const labels = views.has('samples') ? await readLabels(db) : [];
  const skipped = views.has('skipped') ? await readSkipped(db) : [];
  const neurons = views.has('neurons') && views.has('clusters') ? await readNeurons(db) : [];
  const byLayer = new Map<string, ReportNeuron[]>();
  for (const n of neurons) byLayer.set(n.layer, [...(byLayer.get(n.layer) ?? []), n]);
  return {
    runUri,
    config,
    images,
    skipped,
    byLayer,
    explained: explainedLayers(byLayer.keys(), config),
    clusterCounts: [...(config.clusterCounts ?? [2, 3, 4, 5])].sort((a, b) => a - b),
    views,
    labels,
  };
}

/**
 * Every explained layer with its neurons' virtual neurons (each at its shown count, at most `thumbnails`
 * images each) and its evaluation where the run has one; the `top` most polysemantic neurons of each
 * layer are marked for heatmap crops.
 */
export async function readLayerReports(
  db: DuckDBConnection,
  run: RunSummary,
  top: number,
  thumbnails: number,
): Promise<LayerReport[]> {
  const layers: LayerReport[] = [];
  for (const { layer, index } of run.explained) {
    const neurons = run.byLayer.get(layer) ?? [];
    const shownCounts = new Map(neurons.map((n) => [n.neuron, shownCount(n, run.clusterCounts)]));
    const virtualNeurons = await readVirtualNeurons(db, layer, shownCounts, thumbnails);
    if (run.views.has('virtual_neurons')) {
      attachRecords(virtualNeurons, await readVirtualNeuronRecords(db, layer, shownCounts));
    }
    const evaluation = run.views.has('evaluation') ? await readLayerEvaluation(db, layer) : null;
    // A layer the evaluation has not reached (a stopped run) shows as one without.
    const evaluated = evaluation && evaluation.byNeuron.size > 0 ? evaluation : null;
    const heatmapped = new Set(neurons.slice(0, top).map((n) => n.neuron));
    layers.push({ layer, index, neurons, shownCounts, virtualNeurons, heatmapped, evaluation: evaluated });
  }
  return layers;
}

/**
 * The count a neuron is shown at: its chosen count; for a monosemantic one (chosen 1) the split it was
 * judged on (its best count), or, without a recorded one, the smallest candidate, so that the page still
 * shows how it would split.
 */
export function shownCount(n: ReportNeuron, clusterCounts: readonly number[]): number {
  if (n.nClusters > 1) return n.nClusters;
  const best = n.verdict?.bestCount ?? 0;
  return clusterCounts.includes(best) ? best : (clusterCounts[0] ?? 2);
}

/** Gives each virtual neuron its `virtual_neurons` row, where there is one. */
function attachRecords(
  virtualNeurons: ReadonlyMap<number, ReadonlyMap<ClusterMethod, VirtualNeuron[]>>,
  records: Awaited<ReturnType<typeof readVirtualNeuronRecords>>,
): void {
  for (const [neuron, byMethod] of virtualNeurons) {
    for (const [method, clusters] of byMethod) {
      for (const vn of clusters) vn.record = records.get(neuron)?.get(method)?.get(vn.cluster) ?? null;
    }
  }
}

/** Layers in the order of config.layers; any the config does not name (should not happen) after them. */
function explainedLayers(layers: Iterable<string>, config: SweepConfig): ExplainedLayer[] {
  const explained = [...layers]
    .map((layer) => ({ layer, index: config.layers.indexOf(layer) }))
    .sort((a, b) => (a.index < 0 ? 1e9 : a.index) - (b.index < 0 ? 1e9 : b.index));
  let extra = config.layers.length;
  for (const e of explained) if (e.index < 0) e.index = extra++;
  return explained;
}
