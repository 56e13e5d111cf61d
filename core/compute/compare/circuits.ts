/**
 * Circuits compared across runs. A neuron's circuit vectors (one per reference: relevance over the lower
 * layer's channels, docs/design.md step 2) are summarised by their mean (the neuron's circuit) and by one
 * centroid per virtual neuron (the mean over its members); centroids of the two runs are matched one to
 * one by cosine similarity (Hungarian method), so cluster ids, which k-means numbers arbitrarily, do not
 * matter.
 */
import { maxWeightAssignment } from './hungarian.js';

/** The element-wise mean of vectors of one length (all zero for none). */
export function meanVector(
  vectors: readonly ArrayLike<number>[],
  width = vectors[0]?.length ?? 0,
): Float64Array {
  const mean = new Float64Array(width);
  for (const v of vectors) {
    if (v.length !== width) throw new Error(`vectors of lengths ${width} and ${v.length}`);
    for (let j = 0; j < width; j++) mean[j]! += v[j]!;
  }
  if (vectors.length > 0) for (let j = 0; j < width; j++) mean[j]! /= vectors.length;
  return mean;
}

/**
 * Cosine similarity; scale does not matter, which suits circuits (each normalised to sum |R| = 1). Two zero
 * vectors (a neuron dead on its references in both runs) are the same circuit: 1; one zero vector is
 * nothing like any other: 0.
 */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosine of vectors of lengths ${a.length} and ${b.length}`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let j = 0; j < a.length; j++) {
    dot += a[j]! * b[j]!;
    normA += a[j]! * a[j]!;
    normB += b[j]! * b[j]!;
  }
  if (normA === 0 || normB === 0) return normA === normB ? 1 : 0;
  return Math.min(1, Math.max(-1, dot / Math.sqrt(normA * normB)));
}

/** A virtual neuron of one run: its cluster id, members and centroid. */
export interface VirtualNeuronCentroid {
  cluster: number;
  /** Its reference images (sample ids), in rank order. */
  members: string[];
  centroid: Float64Array;
}

/** One circuit of a neuron: the reference image, its virtual neuron and its relevance vector. */
export interface ReferenceCircuit {
  sampleId: string;
  cluster: number;
  relevance: ArrayLike<number>;
}

/** The virtual neurons of a neuron, in cluster order (clusters 0..count-1; one without members is left out). */
export function virtualNeuronCentroids(
  circuits: readonly ReferenceCircuit[],
  count: number,
): VirtualNeuronCentroid[] {
  const width = circuits[0]?.relevance.length ?? 0;
  const result: VirtualNeuronCentroid[] = [];
  for (let cluster = 0; cluster < count; cluster++) {
    const members = circuits.filter((c) => c.cluster === cluster);
    if (members.length === 0) continue;
    result.push({
      cluster,
      members: members.map((m) => m.sampleId),
      centroid: meanVector(
        members.map((m) => m.relevance),
        width,
      ),
    });
  }
  return result;
}

/** A virtual neuron of A matched to one of B; an unmatched one (the runs' counts differ) has null on the other side. */
export interface VirtualNeuronMatch {
  a: VirtualNeuronCentroid | null;
  b: VirtualNeuronCentroid | null;
  /** Cosine similarity of the two centroids; null when unmatched. */
  similarity: number | null;
}

/**
 * Matches A's virtual neurons to B's so that the summed centroid similarity is largest: min(|A|, |B|)
 * pairs, then the leftovers of the larger side alone. Pairs come in A's cluster order, leftovers of B last.
 */
export function matchVirtualNeurons(
  a: readonly VirtualNeuronCentroid[],
  b: readonly VirtualNeuronCentroid[],
): VirtualNeuronMatch[] {
  const similarity = a.map((x) => b.map((y) => cosine(x.centroid, y.centroid)));
  const assignment = a.length > 0 && b.length > 0 ? maxWeightAssignment(similarity) : a.map(() => -1);
  const matches: VirtualNeuronMatch[] = a.map((x, i) => {
    const j = assignment[i]!;
    return j < 0 ? { a: x, b: null, similarity: null } : { a: x, b: b[j]!, similarity: similarity[i]![j]! };
  });
  const usedB = new Set(assignment.filter((j) => j >= 0));
  b.forEach((y, j) => {
    if (!usedB.has(j)) matches.push({ a: null, b: y, similarity: null });
  });
  return matches;
}
