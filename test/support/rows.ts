import type { NeuronRow, ReferenceRow, SampleRow } from '../../core/compute/tables/schemas.js';

/**
 * References rows by hand: every neuron gets the samples as its references, ranked in their order,
 * value 1, position (0, `w(rank)`) (default 0).
 */
export function referenceRowsOf(
  layer: string,
  neurons: readonly number[],
  samples: readonly SampleRow[],
  w: (rank: number) => number = () => 0,
): ReferenceRow[] {
  return neurons.flatMap((neuron) =>
    samples.map((s, rank) => ({
      layer,
      neuron,
      rank: rank + 1,
      sampleIndex: s.sampleIndex,
      sampleId: s.sampleId,
      sampleUri: s.sampleUri,
      label: s.label,
      value: 1,
      h: 0,
      w: w(rank),
    })),
  );
}

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
