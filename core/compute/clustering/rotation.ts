/**
 * Null reference data for "one Gaussian cluster", by random rotation (a Gaussian rotation test,
 * Langsrud 2005). If n points are drawn i.i.d. from one Gaussian of any mean and covariance, then given
 * their mean and sample covariance (the sufficient statistics) the centred n x d data matrix X is
 * uniformly distributed over {Q X : Q orthogonal on the (n-1)-dimensional space orthogonal to the
 * all-ones vector}. Rotating the data in sample space therefore draws from the exact conditional null
 * distribution: same mean, same sample covariance spectrum, same n, d and scale, nothing estimated. It
 * holds for d > n, where fitting a Gaussian (as a parametric bootstrap would) distorts the spectrum.
 *
 * Only the Gram matrix is needed: factor X = W R (W orthonormal, n x r, r = rank); then Q X = V R with
 * V a uniformly random orthonormal r-frame orthogonal to the ones vector, and the reference Gram matrix
 * is (V R)(V R)^T. Cost per reference O(n r^2 + n^2 r), independent of the number of features.
 */

import { normal, type RandomSource } from '../random.js';
import type { GramSpace } from './points.js';

/** A point set reduced to what its rotations need. */
export interface RotationNull {
  readonly size: number;
  readonly featureCount: number;
  readonly rank: number;
  /** r x r, row-major, upper triangular: the centred points X = W R in an orthonormal basis W of their span. */
  readonly factor: Float64Array;
}

/** Directions whose variance is below this fraction of the largest point variance count as rounding. */
const RANK_TOLERANCE = 1e-10;

export function prepareRotationNull(space: GramSpace): RotationNull {
  const lower = pivotedCholesky(space);
  return {
    size: space.size,
    featureCount: space.featureCount,
    rank: lower.rank,
    factor: triangularFactor(lower.columns, space.size, lower.rank),
  };
}

/**
 * One null reference: the Gram matrix of the points rotated by a uniformly random rotation. Both
 * products run over contiguous rows (the frame and the rotated points row-major, R by columns), with
 * the terms of every sum added in the same order as the column-major loops they replaced, so the
 * results are bit for bit the same, about twice as fast at n = 100 (docs/benchmarks.md, "Clustering").
 */
export function drawRotatedSpace(model: RotationNull, random: RandomSource): GramSpace {
  const { size: n, rank: r, factor } = model;
  const frame = randomFrame(n, r, random);
  const frameRows = new Float64Array(n * r);
  for (let c = 0; c < r; c++) for (let i = 0; i < n; i++) frameRows[i * r + c] = frame[c * n + i]!;
  const factorColumns = columnsOfUpperTriangular(factor, r);
  // Rotated points Y = V R, row-major (n x r): y_ic = sum_{j <= c} v_ij R_jc, R upper triangular.
  const rotated = new Float64Array(n * r);
  for (let i = 0; i < n; i++) {
    const row = i * r;
    for (let c = 0; c < r; c++) {
      const column = c * r;
      let sum = 0;
      for (let j = 0; j <= c; j++) sum += frameRows[row + j]! * factorColumns[column + j]!;
      rotated[row + c] = sum;
    }
  }
  const gram = new Float64Array(n * n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const rowI = i * r;
    for (let j = i; j < n; j++) {
      const rowJ = j * r;
      let sum = 0;
      for (let c = 0; c < r; c++) sum += rotated[rowI + c]! * rotated[rowJ + c]!;
      gram[i * n + j] = sum;
      gram[j * n + i] = sum;
    }
    total += gram[i * n + i]!;
  }
  return { size: n, featureCount: model.featureCount, gram, total };
}

/** The r x r row-major upper triangular R stored by columns (column c: R_0c .. R_cc, then zeros). */
function columnsOfUpperTriangular(factor: Float64Array, r: number): Float64Array {
  const columns = new Float64Array(r * r);
  for (let c = 0; c < r; c++) for (let j = 0; j <= c; j++) columns[c * r + j] = factor[j * r + c]!;
  return columns;
}

/**
 * Pivoted Cholesky G ~ L L^T with L n x r (column-major), stopping when the largest remaining diagonal
 * is rounding-sized: r is the numerical rank (at most n - 1, as the points are centred).
 */
function pivotedCholesky(space: GramSpace): { columns: Float64Array; rank: number } {
  const { size: n, gram } = space;
  const maxRank = Math.max(0, n - 1);
  const remaining = new Float64Array(n);
  let largest = 0;
  for (let i = 0; i < n; i++) {
    remaining[i] = gram[i * n + i]!;
    largest = Math.max(largest, remaining[i]!);
  }
  const threshold = RANK_TOLERANCE * largest;
  const used = new Uint8Array(n);
  const columns = new Float64Array(n * maxRank);
  let rank = 0;
  for (; rank < maxRank; rank++) {
    let pivot = -1;
    for (let i = 0; i < n; i++)
      if (used[i] === 0 && (pivot === -1 || remaining[i]! > remaining[pivot]!)) pivot = i;
    if (pivot === -1 || !(remaining[pivot]! > threshold)) break;
    const pivotValue = Math.sqrt(remaining[pivot]!);
    const column = rank * n;
    for (let i = 0; i < n; i++) {
      let value = gram[i * n + pivot]!;
      for (let m = 0; m < rank; m++) value -= columns[m * n + i]! * columns[m * n + pivot]!;
      columns[column + i] = value / pivotValue;
    }
    columns[column + pivot] = pivotValue;
    used[pivot] = 1;
    for (let i = 0; i < n; i++) remaining[i]! -= columns[column + i]! ** 2;
  }
  return { columns, rank };
}

/** R of a Householder QR of the n x r column-major matrix L, as r x r row-major upper triangular. */
function triangularFactor(columnsIn: Float64Array, n: number, r: number): Float64Array {
  const a = columnsIn.slice(0, n * r);
  const factor = new Float64Array(r * r);
  for (let j = 0; j < r; j++) {
    const column = j * n;
    let norm = 0;
    for (let i = j; i < n; i++) norm += a[column + i]! ** 2;
    norm = Math.sqrt(norm);
    if (norm > 0) {
      // v = x - alpha e_1 with alpha = -sign(x_0) |x|, so no cancellation; H = I - 2 v v^T / (v^T v).
      const alpha = a[column + j]! >= 0 ? -norm : norm;
      a[column + j]! -= alpha;
      let vNormSq = 0;
      for (let i = j; i < n; i++) vNormSq += a[column + i]! ** 2;
      for (let c = j + 1; c < r; c++) {
        const other = c * n;
        let projection = 0;
        for (let i = j; i < n; i++) projection += a[column + i]! * a[other + i]!;
        const scale = (2 * projection) / vNormSq;
        for (let i = j; i < n; i++) a[other + i]! -= scale * a[column + i]!;
      }
      factor[j * r + j] = alpha;
    }
    for (let c = j + 1; c < r; c++) factor[j * r + c] = a[c * n + j]!;
  }
  return factor;
}

/**
 * A uniformly distributed orthonormal r-frame (n x r, column-major) orthogonal to the ones vector:
 * Gaussian columns projected off the ones vector, then modified Gram-Schmidt (Gaussian matrices are
 * well conditioned, so one pass is orthogonal to rounding); the Q factor of a Gaussian matrix with a
 * positive diagonal R is Haar-distributed.
 */
function randomFrame(n: number, r: number, random: RandomSource): Float64Array {
  const frame = new Float64Array(n * r);
  for (let c = 0; c < r; c++) {
    const column = c * n;
    let mean = 0;
    for (let i = 0; i < n; i++) {
      const value = normal(random);
      frame[column + i] = value;
      mean += value;
    }
    mean /= n;
    for (let i = 0; i < n; i++) frame[column + i]! -= mean;
    for (let m = 0; m < c; m++) {
      const other = m * n;
      let projection = 0;
      for (let i = 0; i < n; i++) projection += frame[other + i]! * frame[column + i]!;
      for (let i = 0; i < n; i++) frame[column + i]! -= projection * frame[other + i]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += frame[column + i]! ** 2;
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < n; i++) frame[column + i]! *= scale;
  }
  return frame;
}
