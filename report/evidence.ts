/**
 * Reading step 5 for the report: the `evaluation` table (how coherent each clustering's crops are in the
 * evaluator's embedding space, against random splits of the same sizes) and the `virtual_neurons` table
 * (each cluster's size, majority label and purity). Both exist only for runs with an `--evaluator`.
 */

import type { DuckDBConnection } from '@duckdb/node-api';
import {
  EVALUATION_METHODS,
  type EvaluationMethod,
  type EvaluationSummaryRow,
  summarizeEvaluations,
} from '../core/compute/evaluation/index.js';
import { VERDICT_ALPHA } from '../core/compute/evaluation/verdicts.js';
import { groupBy } from '../core/compute/group.js';
import type { ClusterMethod } from '../core/compute/tables/schemas.js';
import { countPairs, num, numOrNull, rows, textOrNull, type VirtualNeuronRecord } from './data.js';

export { VERDICT_ALPHA as SIGNIFICANCE_LEVEL };

/** One row of `evaluation`: one method's clustering of one neuron at one count. */
export interface EvaluationScores {
  neuron: number;
  method: EvaluationMethod;
  nClusters: number;
  /** Mean distance between crops in the same cluster (lower: more coherent). */
  inner: number;
  /** Mean distance between crops in different clusters. */
  inter: number;
  /** 1 - inner / inner of random same-size splits; null where not computed. */
  coherenceGain: number | null;
  /** One-sided permutation p-value of inner; null for `random`. */
  pValue: number | null;
  labelPurity: number | null;
}

/** The evaluation of one layer's neurons. */
export interface LayerEvaluation {
  /** Each neuron's rows: methods in EVALUATION_METHODS order, then counts ascending. */
  byNeuron: ReadonlyMap<number, EvaluationScores[]>;
  /** Mean and standard error over the layer's neurons, per (method, count). */
  summary: EvaluationSummaryRow[];
}

/** The evaluation of every neuron of `layer` (empty when the layer has none). */
export async function readLayerEvaluation(db: DuckDBConnection, layer: string): Promise<LayerEvaluation> {
  const result = await rows(
    db,
    `SELECT neuron, method, n_clusters, "inner", inter, coherence_gain, p_value, label_purity
     FROM evaluation WHERE layer = $layer ORDER BY neuron, n_clusters`,
    { layer },
  );
  const scores: EvaluationScores[] = result.map((r) => ({
    neuron: num(r.neuron),
    method: String(r.method) as EvaluationMethod,
    nClusters: num(r.n_clusters),
    inner: num(r.inner),
    inter: num(r.inter),
    coherenceGain: numOrNull(r.coherence_gain),
    pValue: numOrNull(r.p_value),
    labelPurity: numOrNull(r.label_purity),
  }));
  const order = (method: EvaluationMethod) => EVALUATION_METHODS.indexOf(method);
  scores.sort(
    (a, b) => a.neuron - b.neuron || order(a.method) - order(b.method) || a.nClusters - b.nClusters,
  );
  const byNeuron = groupBy(scores, (s) => s.neuron);
  const summary = summarizeEvaluations(scores, { alpha: VERDICT_ALPHA });
  return { byNeuron, summary };
}

/** PURE's row of a neuron at `count` clusters, if the evaluation has one. */
export function pureScoresAt(
  evaluation: LayerEvaluation | null,
  neuron: number,
  count: number,
): EvaluationScores | undefined {
  return evaluation?.byNeuron.get(neuron)?.find((s) => s.method === 'pure' && s.nClusters === count);
}

/** Whether PURE's clusters are significantly more coherent than random splits of the same sizes. */
export function isSignificant(scores: EvaluationScores | undefined): boolean {
  return scores?.pValue != null && scores.pValue < VERDICT_ALPHA;
}

/**
 * The `virtual_neurons` rows of the given neurons of one layer, each at its own count:
 * `result.get(neuron).get(method).get(cluster)`.
 */
export async function readVirtualNeuronRecords(
  db: DuckDBConnection,
  layer: string,
  counts: ReadonlyMap<number, number>,
): Promise<Map<number, Map<ClusterMethod, Map<number, VirtualNeuronRecord>>>> {
  const out = new Map<number, Map<ClusterMethod, Map<number, VirtualNeuronRecord>>>();
  if (counts.size === 0) return out;
  const result = await rows(
    db,
    `SELECT v.neuron, v.method, v.cluster, v.size, v."inner", v.majority_label, v.label_purity
     FROM virtual_neurons v
     JOIN (VALUES ${countPairs(counts)}) AS s(neuron, n) ON v.neuron = s.neuron AND v.n_clusters = s.n
     WHERE v.layer = $layer AND v.method IN ('pure', 'activation')`,
    { layer },
  );
  for (const r of result) {
    const byMethod = out.get(num(r.neuron)) ?? new Map<ClusterMethod, Map<number, VirtualNeuronRecord>>();
    out.set(num(r.neuron), byMethod);
    const method = String(r.method) as ClusterMethod;
    const byCluster = byMethod.get(method) ?? new Map<number, VirtualNeuronRecord>();
    byMethod.set(method, byCluster);
    byCluster.set(num(r.cluster), {
      size: num(r.size),
      inner: numOrNull(r.inner),
      majorityLabel: textOrNull(r.majority_label),
      labelPurity: numOrNull(r.label_purity),
    });
  }
  return out;
}
