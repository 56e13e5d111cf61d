/**
 * Label purity of a partition against the references' classes (the dataset's class sub-folders): the
 * share of references whose class is the majority class of their cluster (standard clustering purity).
 * References without a class (null) take no part: they neither count nor vote, so purity is over the
 * labelled references only, and null where there are none.
 */

/** Classes of a neuron's references as dense ids; ids follow the sorted class names, -1 = no class. */
export interface ReferenceClasses {
  readonly ids: Int32Array;
  /** Class names in id order (sorted, so the smallest id of a tie is the alphabetically first name). */
  readonly names: readonly string[];
  /** Number of references with a class. */
  readonly labelled: number;
}

/** Dense class ids, or null when no reference has a class (purity undefined). */
export function referenceClassesOf(
  classLabels: readonly (string | null)[] | undefined,
  referenceCount: number,
): ReferenceClasses | null {
  if (classLabels === undefined) return null;
  if (classLabels.length !== referenceCount)
    throw new Error(`${classLabels.length} class labels for ${referenceCount} references`);
  const names = [...new Set(classLabels.filter((label): label is string => label !== null))].sort();
  if (names.length === 0) return null;
  const idOf = new Map(names.map((name, id) => [name, id]));
  const ids = Int32Array.from(classLabels, (label) => (label === null ? -1 : idOf.get(label)!));
  return { ids, names, labelled: ids.filter((id) => id >= 0).length };
}

/**
 * Purity of a partition given by dense cluster ids: sum over clusters of the majority count, over the
 * labelled references. `counts` is scratch space of clusterCount x classes (reused across permutations).
 */
export function partitionPurity(
  classes: ReferenceClasses,
  clusterIds: Int32Array,
  clusterCount: number,
  counts: Int32Array = new Int32Array(clusterCount * classes.names.length),
): number {
  const classCount = classes.names.length;
  counts.fill(0, 0, clusterCount * classCount);
  for (let i = 0; i < clusterIds.length; i++) {
    const label = classes.ids[i]!;
    if (label >= 0) counts[clusterIds[i]! * classCount + label]!++;
  }
  let majoritySum = 0;
  for (let c = 0; c < clusterCount; c++) {
    let best = 0;
    for (let label = 0; label < classCount; label++) best = Math.max(best, counts[c * classCount + label]!);
    majoritySum += best;
  }
  return majoritySum / classes.labelled;
}

/** One cluster's majority class and the share of its labelled members in it. */
export interface ClusterMajority {
  /** Alphabetically first among equally frequent classes; null when no member has a class. */
  readonly majorityLabel: string | null;
  readonly labelPurity: number | null;
}

export function clusterMajority(
  classes: ReferenceClasses | null,
  members: ArrayLike<number>,
): ClusterMajority {
  if (classes === null) return { majorityLabel: null, labelPurity: null };
  const counts = new Int32Array(classes.names.length);
  let labelled = 0;
  for (let m = 0; m < members.length; m++) {
    const label = classes.ids[members[m]!]!;
    if (label < 0) continue;
    counts[label]!++;
    labelled++;
  }
  if (labelled === 0) return { majorityLabel: null, labelPurity: null };
  let best = 0;
  // Strictly greater: on a tie the smaller id, i.e. the alphabetically first class, stays.
  for (let label = 1; label < counts.length; label++) if (counts[label]! > counts[best]!) best = label;
  return { majorityLabel: classes.names[best]!, labelPurity: counts[best]! / labelled };
}
