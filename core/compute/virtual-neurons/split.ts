import {
  type ClusterCountChoice,
  chooseClusterCount,
  kmeansPrepared,
  preparePoints,
  silhouetteFromDistances,
} from '../clustering/index.js';
import { distancesFromGram, type RowMatrix, stackRows } from '../clustering/points.js';
import { groupBy } from '../group.js';
import type { ActivationFeaturesRow, ClusterRow, NeuronRow, RelevanceRow } from '../tables/schemas.js';

export interface SplitOptions {
  /** Cluster counts tried (the authors: 2..5). */
  clusterCounts: readonly number[];
  seed: number;
}

export interface NeuronSplit {
  clusters: ClusterRow[];
  neuron: NeuronRow;
}

function silhouettes(choice: ClusterCountChoice, counts: readonly number[]): Float32Array {
  return Float32Array.from(
    counts,
    (k) => choice.candidates.find((c) => c.clusters === k)?.silhouette ?? Number.NaN,
  );
}

/** One k-means per count and its silhouette: the baseline needs no automatic count, so no null references. */
function clusterEachCount(points: RowMatrix, counts: readonly number[], seed: number) {
  const prepared = preparePoints(points);
  // One distance matrix for every count, from the Gram matrix k-means already has (as for the circuits,
  // choose.ts): computed from the features per count it was 35 % of the stage at 2,048 feature dims.
  const distances = distancesFromGram(prepared.space);
  return counts
    .filter((k) => k < points.rows)
    .map((k) => {
      const labels = kmeansPrepared(prepared, k, { seed }).labels;
      const silhouette = new Set(labels).size >= 2 ? silhouetteFromDistances(distances, labels) : Number.NaN;
      return { clusters: k, labels, silhouette };
    });
}

/**
 * Step 3 of PURE for one neuron: k-means (k-means++, 10 restarts, seeded) on its reference images' circuit
 * vectors for every cluster count (PURE), and the same on their Activation-baseline features; the
 * automatic count and polysemanticity score come from the circuits (docs/clustering.md). The baseline
 * is clustered exactly like the circuits, so the two are compared at equal cost per count.
 */
export function splitNeuron(
  relevance: readonly RelevanceRow[],
  featuresBySample: ReadonlyMap<number, Float32Array>,
  options: SplitOptions,
): NeuronSplit {
  const rows = [...relevance].sort((a, b) => a.rank - b.rank);
  const first = rows[0];
  if (!first) throw new Error('splitNeuron: a neuron needs at least one reference');
  const features = rows.map((r) => {
    const f = featuresBySample.get(r.sampleIndex);
    if (!f)
      throw new Error(
        `no activation features for sample ${r.sampleIndex} of ${first.layer} neuron ${first.neuron}`,
      );
    return f;
  });
  const counts = [...options.clusterCounts].sort((a, b) => a - b);
  const choose = (points: RowMatrix) =>
    chooseClusterCount(points, { candidates: counts, seed: options.seed });
  const pure = choose(stackRows(rows.map((r) => r.relevance)));
  const activation = clusterEachCount(stackRows(features), counts, options.seed);

  const clusters: ClusterRow[] = [];
  for (const [method, clusterings] of [
    ['pure', pure.candidates.map((c) => ({ clusters: c.clusters, labels: c.result.labels }))],
    ['activation', activation],
  ] as const) {
    for (const clustering of clusterings) {
      rows.forEach((r, i) => {
        clusters.push({
          layer: r.layer,
          neuron: r.neuron,
          method,
          nClusters: clustering.clusters,
          rank: r.rank,
          sampleIndex: r.sampleIndex,
          cluster: clustering.labels[i]!,
        });
      });
    }
  }
  return {
    clusters,
    neuron: {
      layer: first.layer,
      lowerLayer: first.lowerLayer,
      neuron: first.neuron,
      nClusters: pure.clusters,
      polysemanticity: pure.polysemanticity,
      silhouettes: silhouettes(pure, counts),
      activationSilhouettes: Float32Array.from(
        counts,
        (k) => activation.find((c) => c.clusters === k)?.silhouette ?? Number.NaN,
      ),
      references: rows.length,
      ...verdictColumns(pure, counts),
    },
  };
}

/** The evidence behind the verdict, so every split and every refusal can be checked from the table. */
function verdictColumns(choice: ClusterCountChoice, counts: readonly number[]) {
  const candidate = (k: number) => choice.candidates.find((c) => c.clusters === k);
  return {
    bestCount: choice.bestCandidate,
    evidence: choice.evidence,
    candidateEvidence: Float32Array.from(counts, (k) => candidate(k)?.evidence ?? Number.NaN),
    candidatePolysemanticity: Float32Array.from(counts, (k) => candidate(k)?.polysemanticity ?? Number.NaN),
    evidenceThreshold: choice.thresholds.evidence,
    polysemanticityThreshold: choice.thresholds.polysemanticity,
    coherenceGain: null,
    coherencePValue: null,
    verdictBy: 'circuits' as const,
    decision: decisionText(choice),
  };
}

/** The verdict in words: which gate passed or failed, with the numbers. */
export function decisionText(choice: ClusterCountChoice): string {
  const { evidence, polysemanticity: p, thresholds } = choice;
  if (choice.bestCandidate === 0) return 'monosemantic: no candidate count gives two distinct clusters';
  const e = `evidence ${evidence.toFixed(1)} ${evidence >= thresholds.evidence ? '>=' : '<'} ${thresholds.evidence}`;
  const q = `P ${p.toFixed(2)} ${p >= thresholds.polysemanticity ? '>=' : '<'} ${thresholds.polysemanticity}`;
  if (choice.clusters > 1) return `split in ${choice.clusters}: ${e}, ${q}`;
  return `monosemantic: ${[evidence < thresholds.evidence ? e : '', p < thresholds.polysemanticity ? q : ''].filter(Boolean).join(', ')}`;
}

/**
 * Groups a part's relevance rows by neuron and splits each, yielding to the event loop between neurons:
 * k-means is synchronous, and a worker process also carries workflow tasks and heartbeats that must not
 * wait seconds behind it.
 */
export async function splitNeurons(
  relevance: readonly RelevanceRow[],
  features: readonly ActivationFeaturesRow[],
  options: SplitOptions,
  /** Called after each neuron with the number done (progress for the activity's heartbeats). */
  onProgress?: (done: number) => void,
): Promise<NeuronSplit[]> {
  const featuresBySample = new Map(features.map((f) => [f.sampleIndex, f.features]));
  const byNeuron = groupBy(relevance, (row) => row.neuron);
  const splits: NeuronSplit[] = [];
  for (const neuron of [...byNeuron.keys()].sort((a, b) => a - b)) {
    splits.push(splitNeuron(byNeuron.get(neuron)!, featuresBySample, options));
    onProgress?.(splits.length);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return splits;
}
