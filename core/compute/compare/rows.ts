/** A neuron's comparison as rows of the compare tables (core/compute/tables/schemas.ts). */
import type { CompareRow, CompareVirtualNeuronRow } from '../tables/schemas.js';
import type { NeuronComparison } from './neuron.js';
import { jaccard } from './overlap.js';

/** Which neuron of which two runs a comparison is. */
export interface ComparedNeuron {
  runA: string;
  runB: string;
  layer: string;
  neuron: number;
  lowerLayer: string | null;
}

/** The neuron's row of `compare`. */
export function compareRow(at: ComparedNeuron, c: NeuronComparison): CompareRow {
  const m = c.measures;
  return {
    ...at,
    referenceJaccard: m.referenceJaccard,
    referenceOverlap: c.referenceOverlap,
    valueRatio: m.valueRatio,
    nClustersA: m.nClustersA,
    nClustersB: m.nClustersB,
    meanCircuitCosine: m.meanCircuitCosine,
    matchedSimilarity: m.matchedSimilarity,
    changed: c.changed ? 1 : 0,
    reasons: c.reasons.join(','),
    severity: c.severity,
  };
}

/** The neuron's rows of `compare_virtual_neurons`: one per matched pair, one per virtual neuron left unmatched. */
export function compareVirtualNeuronRows(
  at: ComparedNeuron,
  c: NeuronComparison,
  sameImages: boolean,
): CompareVirtualNeuronRow[] {
  return c.virtualNeurons.map((match) => ({
    runA: at.runA,
    runB: at.runB,
    layer: at.layer,
    neuron: at.neuron,
    clusterA: match.a?.cluster ?? null,
    clusterB: match.b?.cluster ?? null,
    sizeA: match.a?.members.length ?? null,
    sizeB: match.b?.members.length ?? null,
    similarity: match.similarity,
    memberJaccard: sameImages && match.a && match.b ? jaccard(match.a.members, match.b.members) : null,
  }));
}
