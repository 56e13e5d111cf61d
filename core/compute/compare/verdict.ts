/**
 * Whether a neuron changed between two runs, and why. Each measure is turned into a severity: its change
 * divided by the smallest change that counts (the threshold), so 1 is the line and the severities of
 * different measures can be ranked together; a neuron changed iff a severity reaches 1. The thresholds
 * and the measurements they were chosen from: docs/outputs.md, "compare".
 */

/** What can change: the reference images, their activation level, the cluster count, the circuits. */
export const CHANGE_REASONS = ['references', 'values', 'count', 'circuits'] as const;
export type ChangeReason = (typeof CHANGE_REASONS)[number];

/** The smallest change of each measure that counts as a change. */
export interface CompareThresholds {
  /** Reference images changed when the Jaccard index of the two sets is at or below this. */
  referenceJaccard: number;
  /** Activation level changed when the mean reference value moved by this factor or more, either way. */
  valueRatio: number;
  /**
   * Circuits changed when a virtual neuron's centroid is at most this similar (cosine) to its match in
   * the other run, on the same images...
   */
  circuitSimilarity: number;
  /** ...and on different images, whose references alone move the centroids (sampling). */
  circuitSimilarityOtherImages: number;
}

/** Chosen from measured runs: docs/outputs.md, "compare". */
export const COMPARE_THRESHOLDS: CompareThresholds = {
  referenceJaccard: 0.9,
  valueRatio: 1.05,
  circuitSimilarity: 0.99,
  circuitSimilarityOtherImages: 0.9,
};

/** A neuron's measures; null where a measure does not apply (see compareNeuron). */
export interface NeuronMeasures {
  /** Whether both runs saw the same images (which circuit threshold applies). */
  sameImages: boolean;
  referenceJaccard: number | null;
  valueRatio: number | null;
  nClustersA: number | null;
  nClustersB: number | null;
  /**
   * Reported, not judged: for a monosemantic neuron it is the matched similarity; for a split one it also
   * moves when the mix of its virtual neurons among the references does, which the references show.
   */
  meanCircuitCosine: number | null;
  /** The smallest centroid similarity over the matched virtual neurons. */
  matchedSimilarity: number | null;
}

export interface NeuronVerdict {
  changed: boolean;
  /** The reasons whose severity reached 1, in CHANGE_REASONS order. */
  reasons: ChangeReason[];
  /** The largest severity over all measures: >= 1 iff changed; 0 when identical. */
  severity: number;
}

/** The verdict on one neuron's measures. */
export function neuronVerdict(
  m: NeuronMeasures,
  thresholds: CompareThresholds = COMPARE_THRESHOLDS,
): NeuronVerdict {
  const severities: Record<ChangeReason, number> = {
    references:
      m.referenceJaccard === null ? 0 : (1 - m.referenceJaccard) / (1 - thresholds.referenceJaccard),
    values: m.valueRatio === null ? 0 : Math.abs(Math.log(m.valueRatio)) / Math.log(thresholds.valueRatio),
    count: m.nClustersA === null || m.nClustersB === null ? 0 : Math.abs(m.nClustersA - m.nClustersB),
    circuits:
      m.matchedSimilarity === null
        ? 0
        : (1 - m.matchedSimilarity) /
          (1 - (m.sameImages ? thresholds.circuitSimilarity : thresholds.circuitSimilarityOtherImages)),
  };
  // A hair below 1 from rounding (1 - 0.9 is not 0.1 in floating point) still counts: at the threshold is a change.
  const reasons = CHANGE_REASONS.filter((r) => severities[r] >= 1 - 1e-9);
  const severity = Math.max(...CHANGE_REASONS.map((r) => severities[r]));
  return { changed: reasons.length > 0, reasons, severity };
}
