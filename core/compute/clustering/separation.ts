/**
 * How separated clusters are along the directions that separate them. The plain within-cluster share
 * of variance, W / T, is diluted by every feature that carries no cluster structure: the same two
 * clusters look ever less clustered as a layer gets wider. Measured inside the subspace spanned by the
 * cluster means (k - 1 dimensions), the share no longer depends on how many other dimensions there are:
 *
 *   F_sub = (T_sub - B) / T_sub,  T_sub = sum_i |proj_S x_i|^2,  B = sum_c n_c |mean_c|^2
 *
 * (the points centred; B lies wholly in S). Everything comes from the Gram matrix: with
 * p_ic = x_i . mean_c and M_ab = mean_a . mean_b, |proj_S x_i|^2 = p_i^T M^+ p_i.
 */
import type { GramSpace } from './points.js';

/** F_sub of a labelling (labels 0..k-1); NaN when the points do not vary inside the subspace. */
export function subspaceWithinFraction(space: GramSpace, labels: Int32Array, clusterCount: number): number {
  const { size: n, gram } = space;
  const counts = new Int32Array(clusterCount);
  for (let i = 0; i < n; i++) counts[labels[i]!]!++;
  const present: number[] = [];
  for (let c = 0; c < clusterCount; c++) if (counts[c]! > 0) present.push(c);
  const k = present.length;
  const slot = new Int32Array(clusterCount).fill(-1);
  present.forEach((c, s) => {
    slot[c] = s;
  });
  // projections[s][i] = x_i . mean_s
  const projections = new Float64Array(k * n);
  for (let j = 0; j < n; j++) {
    const s = slot[labels[j]!]!;
    const target = s * n;
    const row = j * n;
    for (let i = 0; i < n; i++) projections[target + i]! += gram[row + i]!;
  }
  for (let s = 0; s < k; s++) {
    const scale = 1 / counts[present[s]!]!;
    for (let i = 0; i < n; i++) projections[s * n + i]! *= scale;
  }
  const means = new Float64Array(k * k);
  for (let i = 0; i < n; i++) {
    const a = slot[labels[i]!]!;
    const weight = 1 / counts[present[a]!]!;
    for (let b = 0; b < k; b++) means[a * k + b]! += weight * projections[b * n + i]!;
  }
  // Symmetrise against rounding, then the pseudo-inverse by eigen-decomposition.
  let between = 0;
  for (let a = 0; a < k; a++) {
    between += counts[present[a]!]! * means[a * k + a]!;
    for (let b = a + 1; b < k; b++) {
      const value = (means[a * k + b]! + means[b * k + a]!) / 2;
      means[a * k + b] = value;
      means[b * k + a] = value;
    }
  }
  const inverse = pseudoInverse(means, k);
  let totalInSubspace = 0;
  const p = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) p[a] = projections[a * n + i]!;
    for (let a = 0; a < k; a++) {
      let row = 0;
      for (let b = 0; b < k; b++) row += inverse[a * k + b]! * p[b]!;
      totalInSubspace += p[a]! * row;
    }
  }
  if (!(totalInSubspace > 0)) return Number.NaN;
  return Math.min(1, Math.max(0, (totalInSubspace - between) / totalInSubspace));
}

/** Moore-Penrose pseudo-inverse of a small symmetric positive semi-definite matrix (cyclic Jacobi). */
export function pseudoInverse(matrix: Float64Array, size: number): Float64Array {
  const a = matrix.slice();
  const vectors = new Float64Array(size * size);
  for (let i = 0; i < size; i++) vectors[i * size + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let offDiagonal = 0;
    for (let p = 0; p < size; p++) for (let q = p + 1; q < size; q++) offDiagonal += a[p * size + q]! ** 2;
    if (offDiagonal === 0) break;
    for (let p = 0; p < size; p++) {
      for (let q = p + 1; q < size; q++) {
        const apq = a[p * size + q]!;
        if (apq === 0) continue;
        const theta = (a[q * size + q]! - a[p * size + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < size; r++) {
          const arp = a[r * size + p]!;
          const arq = a[r * size + q]!;
          a[r * size + p] = c * arp - s * arq;
          a[r * size + q] = s * arp + c * arq;
        }
        for (let r = 0; r < size; r++) {
          const apr = a[p * size + r]!;
          const aqr = a[q * size + r]!;
          a[p * size + r] = c * apr - s * aqr;
          a[q * size + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < size; r++) {
          const vrp = vectors[r * size + p]!;
          const vrq = vectors[r * size + q]!;
          vectors[r * size + p] = c * vrp - s * vrq;
          vectors[r * size + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  let largest = 0;
  for (let i = 0; i < size; i++) largest = Math.max(largest, Math.abs(a[i * size + i]!));
  const inverse = new Float64Array(size * size);
  for (let e = 0; e < size; e++) {
    const value = a[e * size + e]!;
    if (!(value > 1e-12 * largest)) continue;
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++)
        inverse[r * size + c]! += (vectors[r * size + e]! * vectors[c * size + e]!) / value;
    }
  }
  return inverse;
}
