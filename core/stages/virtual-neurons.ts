/**
 * Step 3 of PURE (docs/design.md, "Virtual neurons"): k-means on the circuits (and on the Activation
 * baseline) of a batch of neurons, then per layer the manifests of its tables and a summary.
 */
import { noteProgress } from '../adapters/progress.js';
import type { ObjectStore } from '../adapters/storage/index.js';
import { readTable, writeJson, writeTable } from '../adapters/tables/io.js';
import { type EvaluationSummaryRow, summarizeEvaluations } from '../compute/evaluation/index.js';
import { checkVerdicts, type VerdictCheck } from '../compute/evaluation/verdicts.js';
import type { LayerShape, NeuronRange, SweepConfig } from '../compute/run/config.js';
import { layerTablesOf, runKeys } from '../compute/run/layout.js';
import { runsStage } from '../compute/run/stages.js';
import {
  activationFeaturesSchema,
  clustersSchema,
  type EvaluationRow,
  evaluationSchema,
  type NeuronRow,
  neuronsSchema,
  relevanceSchema,
  type SkippedRow,
  skippedSchema,
} from '../compute/tables/schemas.js';
import { splitNeurons } from '../compute/virtual-neurons/split.js';

export interface VirtualNeuronsPart {
  neuronsKey: string;
  polysemantic: number;
  reused: boolean;
}

/**
 * Clusters and neuron verdicts of one neuron batch; the verdicts are written last (the part is complete):
 * to `neurons/`, or, when the evaluation will make the final verdicts, to `_work/verdicts/`.
 */
export async function virtualNeuronsPart(
  config: SweepConfig,
  layer: LayerShape,
  neurons: NeuronRange,
  store: ObjectStore,
): Promise<VirtualNeuronsPart> {
  const neuronsKey = runsStage(config, 'evaluation')
    ? runKeys.circuitVerdicts(layer.name, neurons)
    : runKeys.layerPart('neurons', layer.name, neurons);
  if (await store.exists(neuronsKey)) return { neuronsKey, polysemantic: -1, reused: true };
  const relevance = await readTable(
    store,
    runKeys.layerPart('relevance', layer.name, neurons),
    relevanceSchema,
  );
  const features = await readTable(
    store,
    runKeys.layerPart('activations', layer.name, neurons),
    activationFeaturesSchema,
  );
  const splits = await splitNeurons(
    relevance,
    features,
    { clusterCounts: config.clusterCounts, seed: config.seed },
    noteProgress,
  );
  await writeTable(
    store,
    runKeys.layerPart('clusters', layer.name, neurons),
    clustersSchema,
    splits.flatMap((s) => s.clusters),
  );
  await writeTable(
    store,
    neuronsKey,
    neuronsSchema,
    splits.map((s) => s.neuron),
  );
  return { neuronsKey, polysemantic: splits.filter((s) => s.neuron.nClusters > 1).length, reused: false };
}

export interface LayerSummary {
  layer: string;
  lowerLayer: string;
  neurons: number;
  /** Neurons the automatic choice split into two or more virtual neurons. */
  polysemantic: number;
  meanPolysemanticity: number;
  skipped: number;
  /** Step 5 over the layer's neurons, per method and cluster count (absent without an evaluator). */
  evaluation?: EvaluationSummaryRow[];
  /** The split verdicts against the evaluation (docs/clustering.md, "Calibration against embeddings"). */
  verdicts?: VerdictCheck;
}

/** The layer's skipped images and table manifests, once every neuron batch is done; returns its summary. */
export async function finishLayer(
  config: SweepConfig,
  lowerLayer: string,
  layer: LayerShape,
  batches: readonly NeuronRange[],
  store: ObjectStore,
): Promise<LayerSummary> {
  const neurons: NeuronRow[] = [];
  const skipped: SkippedRow[] = [];
  for (const range of batches) {
    neurons.push(...(await readTable(store, runKeys.layerPart('neurons', layer.name, range), neuronsSchema)));
    skipped.push(...(await readTable(store, runKeys.circuitsSkipped(layer.name, range), skippedSchema)));
  }
  if (!(await store.exists(runKeys.skippedCircuits(layer.name)))) {
    await writeTable(store, runKeys.skippedCircuits(layer.name), skippedSchema, skipped);
  }
  for (const table of layerTablesOf(config)) {
    const key = runKeys.layerManifest(table, layer.name);
    if (await store.exists(key)) continue;
    await writeJson(store, key, {
      table,
      layer: layer.name,
      lowerLayer,
      parts: batches.map((range) => runKeys.layerPart(table, layer.name, range)),
    });
  }
  const polysemantic = neurons.filter((n) => n.nClusters > 1).length;
  return {
    layer: layer.name,
    lowerLayer,
    neurons: neurons.length,
    polysemantic,
    meanPolysemanticity: neurons.reduce((s, n) => s + n.polysemanticity, 0) / Math.max(1, neurons.length),
    skipped: skipped.length,
    ...(runsStage(config, 'evaluation') ? await evaluationSummary(store, layer.name, batches, neurons) : {}),
  };
}

/** The layer's evaluation rows, summarised over neurons, and the verdicts checked against them. */
async function evaluationSummary(
  store: ObjectStore,
  layer: string,
  batches: readonly NeuronRange[],
  neurons: readonly NeuronRow[],
): Promise<Pick<LayerSummary, 'evaluation' | 'verdicts'>> {
  const rows: EvaluationRow[] = [];
  for (const range of batches) {
    for (const row of await readTable(store, runKeys.layerPart('evaluation', layer, range), evaluationSchema))
      rows.push(row);
  }
  return { evaluation: summarizeEvaluations(rows), verdicts: checkVerdicts(neurons, rows) };
}
