import type { NeuronRow } from '../../core/compute/tables/schemas.js';

/** The verdict columns of a neurons row, for tests that build rows by hand: a monosemantic verdict. */
export function monosemanticVerdict(
  candidates = 2,
): Omit<
  NeuronRow,
  | 'layer'
  | 'lowerLayer'
  | 'neuron'
  | 'nClusters'
  | 'polysemanticity'
  | 'silhouettes'
  | 'activationSilhouettes'
  | 'references'
> {
  return {
    bestCount: 2,
    evidence: 1,
    candidateEvidence: new Float32Array(candidates).fill(1),
    candidatePolysemanticity: new Float32Array(candidates).fill(0.1),
    evidenceThreshold: 4,
    polysemanticityThreshold: 0.5,
    coherenceGain: null,
    coherencePValue: null,
    verdictBy: 'circuits',
    decision: 'monosemantic: evidence 1.0 < 4',
  };
}
