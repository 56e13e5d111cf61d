/**
 * The split verdicts of step 3 checked against step 5 (docs/clustering.md, "Calibration against
 * embeddings"): a neuron called polysemantic should have PURE clusters more coherent in the encoder's space
 * than random splits of the same sizes; a neuron called monosemantic should not have a clear such gain at
 * the count it would have been split into.
 */
import { mean, standardError } from '../clustering/metrics.js';
import type { EvaluationRow, NeuronRow } from '../tables/schemas.js';

/** Significance level of the per-neuron permutation tests. */
export const VERDICT_ALPHA = 0.05;
/**
 * A "clear" coherence gain: the PURE clusters' mean inner distance at least this share below random
 * splits'. Calibrated on the demo runs (docs/clustering.md).
 */
export const CLEAR_GAIN = 0.05;

export interface VerdictCheck {
  /** Neurons split into virtual neurons, and of those, the ones whose PURE split is significantly coherent. */
  readonly split: number;
  readonly splitConfirmed: number;
  /** Mean coherence gain of the split neurons' PURE clusters (at their count), and its standard error. */
  readonly splitGainMean: number;
  readonly splitGainStandardError: number;
  /** Neurons kept whole, and of those, the ones with a clear, significant gain at their best count. */
  readonly monosemantic: number;
  readonly monosemanticWithClearGain: number;
}

/** The PURE evaluation of a neuron at `count` clusters, if there is one. */
function pureAt(rows: ReadonlyMap<string, EvaluationRow>, neuron: number, count: number) {
  return rows.get(`${neuron}:${count}`);
}

export function hasClearGain(row: Pick<EvaluationRow, 'coherenceGain' | 'pValue'> | undefined): boolean {
  return row?.pValue != null && row.pValue < VERDICT_ALPHA && (row.coherenceGain ?? 0) >= CLEAR_GAIN;
}

export function checkVerdicts(
  neurons: readonly NeuronRow[],
  evaluation: readonly EvaluationRow[],
): VerdictCheck {
  const pure = new Map(
    evaluation.filter((e) => e.method === 'pure').map((e) => [`${e.neuron}:${e.nClusters}`, e] as const),
  );
  const split = neurons.filter((n) => n.nClusters > 1);
  const splitRows = split.map((n) => pureAt(pure, n.neuron, n.nClusters));
  const gains = splitRows
    .map((r) => r?.coherenceGain)
    .filter((g): g is number => g != null && Number.isFinite(g));
  const whole = neurons.filter((n) => n.nClusters === 1);
  return {
    split: split.length,
    splitConfirmed: splitRows.filter((r) => r?.pValue != null && r.pValue < VERDICT_ALPHA).length,
    splitGainMean: gains.length > 0 ? mean(gains) : Number.NaN,
    splitGainStandardError: gains.length > 1 ? standardError(gains) : Number.NaN,
    monosemantic: whole.length,
    monosemanticWithClearGain: whole.filter((n) => hasClearGain(pureAt(pure, n.neuron, n.bestCount))).length,
  };
}
