/**
 * Over many neurons: per (method, nClusters) the mean and standard error of the evaluation columns, and
 * how many neurons' clusters are more coherent than chance. Neurons are the unit of replication (the
 * authors average inner/inter over neurons); report standard errors, not the paper's np.std / n.
 */
import { meanAndStandardError } from '../clustering/metrics.js';
import { groupBy } from '../group.js';
import type { EvaluationMethod, EvaluationRow } from './types.js';
import { EVALUATION_METHODS } from './types.js';

/**
 * The columns the summary reads: evaluation rows, or table rows that carry them among others (where a
 * gain the table could not compute is NULL).
 */
export type SummarizedRow = Pick<EvaluationRow, 'method' | 'nClusters' | 'inner' | 'inter' | 'pValue'> & {
  readonly coherenceGain: number | null;
};

export interface SummaryOptions {
  /** Significance level of the per-neuron permutation tests (default 0.05). */
  readonly alpha?: number;
}

export interface EvaluationSummaryRow {
  readonly method: EvaluationMethod;
  readonly nClusters: number;
  /** Neurons (rows) in the group. */
  readonly neurons: number;
  readonly innerMean: number;
  /** Sample sd / sqrt(neurons); NaN for one neuron. */
  readonly innerStandardError: number;
  readonly interMean: number;
  readonly interStandardError: number;
  /** Over neurons with a finite gain (a neuron whose references all coincide has none). */
  readonly coherenceGainMean: number;
  readonly coherenceGainStandardError: number;
  /** Share of neurons with pValue < alpha; null for a method without p-values (random). */
  readonly significantShare: number | null;
}

/** Share of rows whose permutation test rejects at `alpha`, over the rows that have a p-value. */
export function significantShare(rows: readonly SummarizedRow[], alpha = 0.05): number | null {
  const tested = rows.filter((row) => row.pValue !== null);
  if (tested.length === 0) return null;
  return tested.filter((row) => row.pValue! < alpha).length / tested.length;
}

/** One summary row per (method, nClusters) present, in method order then count. */
export function summarizeEvaluations(
  rows: readonly SummarizedRow[],
  options: SummaryOptions = {},
): EvaluationSummaryRow[] {
  const { alpha = 0.05 } = options;
  if (!(alpha > 0 && alpha < 1)) throw new Error(`alpha must lie in (0, 1), got ${alpha}`);
  const groups = groupBy(rows, (row) => `${row.method}\u0000${row.nClusters}`);
  const order = (method: EvaluationMethod) => EVALUATION_METHODS.indexOf(method);
  return [...groups.values()]
    .map((group) => summarizeGroup(group, alpha))
    .sort((a, b) => order(a.method) - order(b.method) || a.nClusters - b.nClusters);
}

function summarizeGroup(group: readonly SummarizedRow[], alpha: number): EvaluationSummaryRow {
  const inner = meanAndStandardError(group.map((row) => row.inner));
  const inter = meanAndStandardError(group.map((row) => row.inter));
  const gain = meanAndStandardError(
    group.map((row) => row.coherenceGain).filter((g): g is number => g !== null && Number.isFinite(g)),
  );
  return {
    method: group[0]!.method,
    nClusters: group[0]!.nClusters,
    neurons: group.length,
    innerMean: inner.mean,
    innerStandardError: inner.standardError,
    interMean: inter.mean,
    interStandardError: inter.standardError,
    coherenceGainMean: gain.mean,
    coherenceGainStandardError: gain.standardError,
    significantShare: significantShare(group, alpha),
  };
}
