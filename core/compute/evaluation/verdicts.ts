/**
 * The split verdict when the run has an evaluator, and its check (docs/clustering.md, "Calibration
 * against embeddings").
 *
 * Measured on the demo runs, the circuit statistics (evidence, P) rank neurons only loosely by how
 * coherent their PURE split is in an encoder's space (Spearman 0.0-0.3), and no fixed pair of circuit
 * thresholds both splits only coherent neurons and keeps no clearly coherent one whole. So with an
 * evaluator the verdict is the PURE split's coherence itself: a neuron is split into its best count
 * (the circuits' silhouette choice) iff that split is significantly (permutation p < VERDICT_ALPHA) and
 * clearly (coherence gain >= CLEAR_GAIN) tighter than random splits of the same sizes. Without one, the
 * circuit gates of choose.ts decide. The check that does not reuse the encoder is label purity: split
 * neurons' PURE clusters must be purer than chance, and more so than the neurons kept whole.
 */
import { type MeanAndError, meanAndStandardError } from '../clustering/metrics.js';

export type { MeanAndError };

import type { EvaluationRow, NeuronRow } from '../tables/schemas.js';

/** Significance level of the per-neuron permutation tests. */
export const VERDICT_ALPHA = 0.05;
/**
 * A clear coherence gain: the PURE clusters' mean inner distance at least 3 % below random splits'
 * (random labelings reach |gain| <= 0.033 in 40 of 40 unit-test draws; on the demo, neurons at or above
 * it have 3-4 times the label-purity gain of those below).
 */
export const CLEAR_GAIN = 0.03;

type Coherence = Pick<EvaluationRow, 'coherenceGain' | 'pValue'>;

export function isCoherent(row: Coherence | undefined): boolean {
  return row?.pValue != null && row.pValue < VERDICT_ALPHA && (row.coherenceGain ?? 0) >= CLEAR_GAIN;
}

/**
 * The final verdict of a neuron from its circuits' verdict and the evaluation of its PURE split at the
 * best count (undefined when it has none: no count gives two clusters).
 */
export function coherenceVerdict(circuits: NeuronRow, pureAtBest: Coherence | undefined): NeuronRow {
  const gain = pureAtBest?.coherenceGain ?? null;
  const p = pureAtBest?.pValue ?? null;
  const split = circuits.bestCount >= 2 && isCoherent(pureAtBest);
  return {
    ...circuits,
    nClusters: split ? circuits.bestCount : 1,
    coherenceGain: gain,
    coherencePValue: p,
    verdictBy: 'evaluation',
    decision: coherenceText(circuits, split, gain, p),
  };
}

/** The final verdicts of a neuron batch: each from its PURE split's evaluation at its best count. */
export function coherenceVerdicts(
  circuits: readonly NeuronRow[],
  evaluation: readonly EvaluationRow[],
): NeuronRow[] {
  const pure = rowsByNeuronAndCount(evaluation, 'pure');
  return circuits.map((n) => coherenceVerdict(n, pure.get(`${n.neuron}:${n.bestCount}`)));
}

/** One method's evaluation rows by `${neuron}:${nClusters}`. */
function rowsByNeuronAndCount(
  evaluation: readonly EvaluationRow[],
  method: EvaluationRow['method'],
): Map<string, EvaluationRow> {
  return new Map(evaluation.filter((e) => e.method === method).map((e) => [`${e.neuron}:${e.nClusters}`, e]));
}

function coherenceText(circuits: NeuronRow, split: boolean, gain: number | null, p: number | null): string {
  const circuitSide = `circuits: evidence ${circuits.evidence.toFixed(1)}, P ${circuits.polysemanticity.toFixed(2)}`;
  if (circuits.bestCount < 2 || gain === null || p === null)
    return 'monosemantic: no candidate count gives two distinct clusters';
  const g = `gain ${gain.toFixed(3)} ${gain >= CLEAR_GAIN ? '>=' : '<'} ${CLEAR_GAIN}`;
  const q = `p ${p.toFixed(3)} ${p < VERDICT_ALPHA ? '<' : '>='} ${VERDICT_ALPHA}`;
  if (split)
    return `split in ${circuits.bestCount}: its PURE clusters are coherent in the encoder's space (${g}, ${q}); ${circuitSide}`;
  return `monosemantic: its PURE ${circuits.bestCount}-split is not clearly more coherent than chance (${g}, ${q}); ${circuitSide}`;
}

export interface VerdictCheck {
  /** Neurons split, and of those, the ones whose PURE split is significantly coherent. */
  readonly split: number;
  readonly splitConfirmed: number;
  /** Mean coherence gain of the split neurons' PURE clusters (at their count), and its standard error. */
  readonly splitGainMean: number;
  readonly splitGainStandardError: number;
  /** Neurons kept whole, and of those, the ones with a clear, significant gain at their best count. */
  readonly monosemantic: number;
  readonly monosemanticWithClearGain: number;
  /**
   * Label purity of the PURE split at the best count minus random splits' (chance), mean and standard
   * error over split and over whole neurons; NaN without class labels. Independent of the encoder.
   */
  readonly splitPurityGain: MeanAndError;
  readonly wholePurityGain: MeanAndError;
}

export function checkVerdicts(
  neurons: readonly NeuronRow[],
  evaluation: readonly EvaluationRow[],
): VerdictCheck {
  const pure = rowsByNeuronAndCount(evaluation, 'pure');
  const random = rowsByNeuronAndCount(evaluation, 'random');
  const purityGain = (n: NeuronRow) => {
    const key = `${n.neuron}:${n.bestCount}`;
    const own = pure.get(key)?.labelPurity;
    const chance = random.get(key)?.labelPurity;
    return own == null || chance == null ? undefined : own - chance;
  };
  const split = neurons.filter((n) => n.nClusters > 1);
  const splitRows = split.map((n) => pure.get(`${n.neuron}:${n.nClusters}`));
  const gains = meanAndStandardError(
    splitRows.map((r) => r?.coherenceGain).filter((g): g is number => g != null && Number.isFinite(g)),
  );
  const whole = neurons.filter((n) => n.nClusters === 1);
  const purity = (list: readonly NeuronRow[]) =>
    meanAndStandardError(list.map(purityGain).filter((g): g is number => g !== undefined));
  return {
    split: split.length,
    splitConfirmed: splitRows.filter((r) => r?.pValue != null && r.pValue < VERDICT_ALPHA).length,
    splitGainMean: gains.mean,
    splitGainStandardError: gains.standardError,
    monosemantic: whole.length,
    monosemanticWithClearGain: whole.filter((n) => isCoherent(pure.get(`${n.neuron}:${n.bestCount}`))).length,
    splitPurityGain: purity(split),
    wholePurityGain: purity(whole.filter((n) => n.bestCount >= 2)),
  };
}
