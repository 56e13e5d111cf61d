/**
 * One neuron of two runs, compared: its reference images, their activation level, its cluster count and
 * its circuits (the mean circuit, and each virtual neuron matched to its counterpart).
 */
import {
  cosine,
  matchVirtualNeurons,
  meanVector,
  type ReferenceCircuit,
  type VirtualNeuronMatch,
  virtualNeuronCentroids,
} from './circuits.js';
import { jaccard, rankOverlap, valueRatio } from './overlap.js';
import {
  COMPARE_THRESHOLDS,
  type CompareThresholds,
  type NeuronMeasures,
  type NeuronVerdict,
  neuronVerdict,
} from './verdict.js';

/** A neuron as one run holds it. */
export interface NeuronSide {
  /** Its reference images (sample ids) in rank order, and their values. */
  sampleIds: string[];
  values: number[];
  /**
   * Its circuits, when its layer was explained (not the first layer): the automatic cluster count and
   * each reference's relevance vector with its PURE cluster at that count (all 0 for a count of 1).
   */
  circuits: { nClusters: number; references: ReferenceCircuit[] } | null;
}

/** What may be compared between the two runs (core/compute/compare/layers.ts). */
export interface Comparability {
  /** Both runs saw the same images, so references can be compared by sample id. */
  sameImages: boolean;
  /** The circuits run over the same lower layer, of the same width, in both runs. */
  sameCircuitSpace: boolean;
}

export interface NeuronComparison extends NeuronVerdict {
  measures: NeuronMeasures;
  /** Rank-weighted overlap of the references (average overlap); null where references are not compared. */
  referenceOverlap: number | null;
  /** The virtual neurons matched across the runs; empty where circuits are not compared. */
  virtualNeurons: VirtualNeuronMatch[];
}

/**
 * A neuron's virtual neurons are those of the run's own decision: its PURE clusters at its automatic
 * count, or, for a monosemantic neuron (count 1), one virtual neuron of all references, whose centroid is
 * the mean circuit. A monosemantic neuron's split at its best count cuts one cloud in arbitrary places,
 * so matching those pieces would measure k-means' whims, not the model.
 */
export function compareNeuron(
  a: NeuronSide,
  b: NeuronSide,
  comparability: Comparability,
  thresholds: CompareThresholds = COMPARE_THRESHOLDS,
): NeuronComparison {
  const circuits =
    comparability.sameCircuitSpace && a.circuits && b.circuits ? { a: a.circuits, b: b.circuits } : null;
  const virtualNeurons = circuits
    ? matchVirtualNeurons(
        virtualNeuronCentroids(circuits.a.references, circuits.a.nClusters),
        virtualNeuronCentroids(circuits.b.references, circuits.b.nClusters),
      )
    : [];
  const matched = virtualNeurons.flatMap((m) => (m.similarity === null ? [] : [m.similarity]));
  const measures: NeuronMeasures = {
    sameImages: comparability.sameImages,
    referenceJaccard: comparability.sameImages ? jaccard(a.sampleIds, b.sampleIds) : null,
    valueRatio: comparability.sameImages ? valueRatio(a.values, b.values) : null,
    nClustersA: circuits?.a.nClusters ?? null,
    nClustersB: circuits?.b.nClusters ?? null,
    meanCircuitCosine: circuits
      ? cosine(meanCircuit(circuits.a.references), meanCircuit(circuits.b.references))
      : null,
    matchedSimilarity: matched.length > 0 ? Math.min(...matched) : null,
  };
  return {
    ...neuronVerdict(measures, thresholds),
    measures,
    referenceOverlap: comparability.sameImages ? rankOverlap(a.sampleIds, b.sampleIds) : null,
    virtualNeurons,
  };
}

function meanCircuit(references: readonly ReferenceCircuit[]): Float64Array {
  return meanVector(references.map((r) => r.relevance));
}
