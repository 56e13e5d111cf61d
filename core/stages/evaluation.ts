/**
 * The second half of step 5 (docs/design.md, "Evaluation") for a batch of neurons: per neuron, how close
 * its virtual neurons' crops lie in the encoder's space, for PURE, the Activation baseline, k-means on the
 * embeddings (upper bound) and random splits (null); then each neuron's final verdict from its PURE
 * split's coherence (core/compute/evaluation/verdicts.ts). Writes `virtual_neurons/`, `evaluation/`, and
 * `neurons/` last (its presence means the part is complete).
 */
import { noteProgress } from '../adapters/progress.js';
import type { ObjectStore } from '../adapters/storage/index.js';
import { readTable, writeTable } from '../adapters/tables/io.js';
import { stackRows } from '../compute/clustering/points.js';
import { evaluateNeuron, type GivenClustering } from '../compute/evaluation/index.js';
import { coherenceVerdicts } from '../compute/evaluation/verdicts.js';
import { groupBy } from '../compute/group.js';
import type { NeuronRange, SweepConfig } from '../compute/run/config.js';
import { runKeys } from '../compute/run/layout.js';
import {
  type ClusterRow,
  clustersSchema,
  type EmbeddingRow,
  type EvaluationRow,
  embeddingsSchema,
  evaluationSchema,
  neuronsSchema,
  type ReferenceRow,
  type VirtualNeuronRow,
  virtualNeuronsSchema,
} from '../compute/tables/schemas.js';

export interface EvaluationPart {
  neuronsKey: string;
  neurons: number;
  /** Neurons the coherence verdict split. */
  polysemantic: number;
  reused: boolean;
}

export async function evaluationPart(
  config: SweepConfig,
  layer: string,
  neurons: NeuronRange,
  store: ObjectStore,
  /** The layer's references table (a worker reads it once for all its batches). */
  references: () => Promise<readonly ReferenceRow[]>,
): Promise<EvaluationPart> {
  const neuronsKey = runKeys.layerPart('neurons', layer, neurons);
  if (await store.exists(neuronsKey)) return { neuronsKey, neurons: -1, polysemantic: -1, reused: true };
  const embeddings = await readTable(
    store,
    runKeys.layerPart('embeddings', layer, neurons),
    embeddingsSchema,
  );
  const clusters = await readTable(store, runKeys.layerPart('clusters', layer, neurons), clustersSchema);
  const classOf = referenceClasses(await references(), neurons);
  const evaluation: EvaluationRow[] = [];
  const virtualNeurons: VirtualNeuronRow[] = [];
  const byNeuron = groupBy(embeddings, (e) => e.neuron);
  const clustersByNeuron = groupBy(clusters, (c) => c.neuron);
  for (const [neuron, rows] of [...byNeuron].sort((a, b) => a[0] - b[0])) {
    const result = evaluateOne(config, layer, neuron, rows, clustersByNeuron.get(neuron) ?? [], classOf);
    for (const row of result.evaluation) evaluation.push(row);
    for (const row of result.virtualNeurons) virtualNeurons.push(row);
    noteProgress();
    // The evaluation is synchronous: let heartbeats and workflow tasks through between neurons.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await writeTable(
    store,
    runKeys.layerPart('virtual_neurons', layer, neurons),
    virtualNeuronsSchema,
    virtualNeurons,
  );
  await writeTable(store, runKeys.layerPart('evaluation', layer, neurons), evaluationSchema, evaluation);
  const verdicts = coherenceVerdicts(
    await readTable(store, runKeys.circuitVerdicts(layer, neurons), neuronsSchema),
    evaluation,
  );
  await writeTable(store, neuronsKey, neuronsSchema, verdicts);
  return {
    neuronsKey,
    neurons: verdicts.length,
    polysemantic: verdicts.filter((n) => n.nClusters > 1).length,
    reused: false,
  };
}

/** The class (image sub-folder) of each (neuron, rank) reference of the batch; null for a flat folder. */
function referenceClasses(
  references: readonly ReferenceRow[],
  neurons: NeuronRange,
): (neuron: number, rank: number) => string | null {
  const labels = new Map<string, string | null>();
  for (const r of references) {
    if (r.neuron >= neurons.first && r.neuron < neurons.end) labels.set(`${r.neuron}:${r.rank}`, r.label);
  }
  return (neuron, rank) => labels.get(`${neuron}:${rank}`) ?? null;
}

/**
 * One neuron: its crops' embeddings in rank order, and the labels every clustering gave those same
 * references (a reference without an embedding, e.g. an image that could not be decoded, is left out of
 * every method alike).
 */
function evaluateOne(
  config: SweepConfig,
  layer: string,
  neuron: number,
  embeddings: readonly EmbeddingRow[],
  clusters: readonly ClusterRow[],
  classOf: (neuron: number, rank: number) => string | null,
): { evaluation: EvaluationRow[]; virtualNeurons: VirtualNeuronRow[] } {
  const rows = [...embeddings].sort((a, b) => a.rank - b.rank);
  const clusterings = givenClusterings(
    clusters,
    rows.map((r) => r.rank),
  );
  const classes = rows.map((r) => classOf(neuron, r.rank));
  const result = evaluateNeuron(
    {
      embeddings: stackRows(rows.map((r) => r.embedding)),
      clusterings,
      ...(classes.some((c) => c !== null) ? { classLabels: classes } : {}),
      neuron: { layer, neuron },
    },
    { seed: config.seed },
  );
  const evaluation = result.evaluations.map((e) => ({
    layer,
    neuron,
    method: e.method,
    nClusters: e.nClusters,
    inner: e.inner,
    inter: e.inter,
    overall: e.overall,
    labelPurity: e.labelPurity,
    nullInnerMean: e.nullInnerMean,
    nullInnerSd: e.nullInnerSd,
    coherenceGain: e.coherenceGain,
    pValue: e.pValue,
  }));
  const virtualNeurons = result.virtualNeurons.map((v) => ({
    layer,
    neuron,
    method: v.method,
    nClusters: v.nClusters,
    cluster: v.cluster,
    size: v.size,
    inner: Number.isFinite(v.inner) ? v.inner : null,
    majorityLabel: v.majorityLabel,
    labelPurity: v.labelPurity,
  }));
  return { evaluation, virtualNeurons };
}

/** Each (method, count) clustering of the neuron, as labels in the order of `ranks`. */
function givenClusterings(clusters: readonly ClusterRow[], ranks: readonly number[]): GivenClustering[] {
  const groups = groupBy(clusters, (c) => `${c.method}:${c.nClusters}`);
  const out: GivenClustering[] = [];
  for (const rows of groups.values()) {
    const byRank = new Map(rows.map((r) => [r.rank, r.cluster]));
    if (!ranks.every((rank) => byRank.has(rank))) continue;
    out.push({
      method: rows[0]!.method,
      nClusters: rows[0]!.nClusters,
      labels: ranks.map((rank) => byRank.get(rank)!),
    });
  }
  return out;
}
