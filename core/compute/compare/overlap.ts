/**
 * How far two runs agree on a neuron's reference images (its top-k by activation, in rank order). Images
 * are named by their sample id, so the measures are meaningful only when both runs saw the same images
 * (core/compute/compare/layers.ts decides that).
 */

/** |A ∩ B| / |A ∪ B| of the two sets of images; 1 when both are empty. Order does not matter. */
export function jaccard(a: readonly string[], b: readonly string[]): number {
  const setA = new Set(a);
  const setB = new Set(b);
  let shared = 0;
  for (const id of setA) if (setB.has(id)) shared++;
  const union = setA.size + setB.size - shared;
  return union === 0 ? 1 : shared / union;
}

/**
 * Average overlap of two rankings: the mean over depths d = 1..D of |A[:d] ∩ B[:d]| / d, D the longer
 * list's length. 1 iff the lists are equal; a change near the top (what a reader sees first) weighs more
 * than one near rank k, since it enters every depth below it. Lists are assumed free of repeats.
 */
export function rankOverlap(a: readonly string[], b: readonly string[]): number {
  const depth = Math.max(a.length, b.length);
  if (depth === 0) return 1;
  const seenA = new Set<string>();
  const seenB = new Set<string>();
  let shared = 0;
  let sum = 0;
  for (let d = 0; d < depth; d++) {
    const x = a[d];
    const y = b[d];
    if (x !== undefined) {
      if (seenB.has(x)) shared++;
      seenA.add(x);
    }
    if (y !== undefined) {
      if (seenA.has(y)) shared++;
      seenB.add(y);
    }
    sum += shared / (d + 1);
  }
  return sum / depth;
}

/**
 * How the neuron's activation level moved: mean reference value of B over that of A (1 = unchanged; 3 for
 * a channel whose weights and bias were tripled ahead of a ReLU). 1 when the means are equal (a neuron
 * dead in both runs); null when A's mean is not positive otherwise (a ratio of a dead or negative level
 * means nothing: the references, all ties, show such a change instead).
 */
export function valueRatio(valuesA: readonly number[], valuesB: readonly number[]): number | null {
  const mean = (values: readonly number[]) =>
    values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length;
  const a = mean(valuesA);
  const b = mean(valuesB);
  if (a === b) return 1;
  return a > 0 ? b / a : null;
}
