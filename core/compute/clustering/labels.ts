/** Cluster label bookkeeping shared by k-means, the silhouette and the metrics. */

/** Cluster labels: any integers, one per point (Int32Array from k-means, number[] from tables). */
export type Labels = ArrayLike<number>;

/** Labels renumbered 0..count-1 by first appearance in point order, and how many distinct there are. */
export interface DenseLabels {
  readonly ids: Int32Array;
  readonly count: number;
}

export function denseLabels(labels: Labels): DenseLabels {
  const ids = new Int32Array(labels.length);
  const seen = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label)) throw new Error(`label ${i} is not an integer (${label})`);
    let id = seen.get(label);
    if (id === undefined) {
      id = seen.size;
      seen.set(label, id);
    }
    ids[i] = id;
  }
  return { ids, count: seen.size };
}

/**
 * Renumber k clusters by first appearance in point order, so the same partition gets the same labels
 * whatever the seed or restart found it. Clusters no point belongs to keep their relative order after
 * the others. `order[newId]` is the old id.
 */
export function canonicalOrder(
  labels: Int32Array,
  clusterCount: number,
): { labels: Int32Array; order: Int32Array } {
  const newIdOf = new Int32Array(clusterCount).fill(-1);
  const order = new Int32Array(clusterCount);
  let next = 0;
  for (let i = 0; i < labels.length; i++) {
    const old = labels[i]!;
    if (newIdOf[old] === -1) {
      newIdOf[old] = next;
      order[next++] = old;
    }
  }
  for (let old = 0; old < clusterCount; old++) {
    if (newIdOf[old] === -1) {
      newIdOf[old] = next;
      order[next++] = old;
    }
  }
  const renumbered = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) renumbered[i] = newIdOf[labels[i]!]!;
  return { labels: renumbered, order };
}

/**
 * True if two labelings of 0..k-1 are the same partition up to renaming (scikit-learn's
 * `_is_same_clustering`, used so a restart that finds the same partition with a rounding-level lower
 * inertia does not replace the earlier one).
 */
export function isSameClustering(a: Int32Array, b: Int32Array, clusterCount: number): boolean {
  const mapping = new Int32Array(clusterCount).fill(-1);
  for (let i = 0; i < a.length; i++) {
    const from = a[i]!;
    const to = b[i]!;
    if (mapping[from] === -1) mapping[from] = to;
    else if (mapping[from] !== to) return false;
  }
  return true;
}
