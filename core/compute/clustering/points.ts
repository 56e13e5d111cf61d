/**
 * Point sets for clustering and the one representation the algorithms share: the Gram matrix of the
 * centred points. With n = 100 reference samples and up to 2048 features, everything k-means and the
 * silhouette need (distances to points and to means of points) follows from the n x n inner products,
 * so the O(d) work is done once per neuron instead of once per Lloyd iteration.
 */

/** n points of d features, row-major. */
export interface RowMatrix {
  readonly values: Float32Array | Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** Either a row-major matrix or one array per point. */
export type PointsInput = RowMatrix | readonly (readonly number[])[];

/** Validate and normalise the input: equal row lengths, at least one point and feature, finite values. */
export function toRowMatrix(points: PointsInput): RowMatrix {
  const matrix = isRowArray(points) ? fromRowArrays(points) : points;
  const { values, rows, cols } = matrix;
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`need at least one point, got rows = ${rows}`);
  if (!Number.isInteger(cols) || cols < 1)
    throw new Error(`points need at least one feature, got cols = ${cols}`);
  if (values.length !== rows * cols) {
    throw new Error(`values has ${values.length} entries, expected rows x cols = ${rows} x ${cols}`);
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw new Error(`point ${Math.floor(i / cols)} feature ${i % cols} is not finite (${values[i]})`);
    }
  }
  return matrix;
}

/** Equal-length vectors (one per point, e.g. a neuron's circuits or embeddings) as one row-major matrix. */
export function stackRows(vectors: readonly Float32Array[]): RowMatrix {
  const cols = vectors[0]?.length ?? 0;
  const values = new Float32Array(vectors.length * cols);
  vectors.forEach((v, i) => {
    if (v.length !== cols) throw new Error(`vector ${i} has ${v.length} entries, expected ${cols}`);
    values.set(v, i * cols);
  });
  return { values, rows: vectors.length, cols };
}

function isRowArray(points: PointsInput): points is readonly (readonly number[])[] {
  return Array.isArray(points);
}

function fromRowArrays(rowsIn: readonly (readonly number[])[]): RowMatrix {
  const rows = rowsIn.length;
  const cols = rows > 0 ? rowsIn[0]!.length : 0;
  const values = new Float64Array(rows * cols);
  rowsIn.forEach((row, i) => {
    if (row.length !== cols) throw new Error(`point ${i} has ${row.length} features, point 0 has ${cols}`);
    values.set(row, i * cols);
  });
  return { values, rows, cols };
}

/** Points with their mean removed, in float64 (float32 inputs are widened before any arithmetic). */
export interface CenteredPoints {
  readonly rows: number;
  readonly cols: number;
  readonly centered: Float64Array;
  readonly mean: Float64Array;
}

export function centerPoints(matrix: RowMatrix): CenteredPoints {
  const { values, rows, cols } = matrix;
  const mean = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const offset = i * cols;
    for (let f = 0; f < cols; f++) mean[f]! += values[offset + f]!;
  }
  for (let f = 0; f < cols; f++) mean[f]! /= rows;
  const centered = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const offset = i * cols;
    for (let f = 0; f < cols; f++) centered[offset + f] = values[offset + f]! - mean[f]!;
  }
  return { rows, cols, centered, mean };
}

/**
 * The inner products of n centred points: all Euclidean geometry of the point set. `featureCount` is
 * the number of original features, which scikit-learn's tolerance is relative to.
 */
export interface GramSpace {
  readonly size: number;
  readonly featureCount: number;
  /** n x n, symmetric, row-major. */
  readonly gram: Float64Array;
  /** Trace of the Gram matrix: the total sum of squared distances to the mean. */
  readonly total: number;
}

export function gramOf(points: CenteredPoints): GramSpace {
  const { rows: n, cols: d, centered } = points;
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const a = i * d;
    let j = i;
    // Four rows against row i at once: each entry of row i is loaded once for four products.
    for (; j + 3 < n; j += 4) {
      const b0 = j * d;
      const b1 = b0 + d;
      const b2 = b1 + d;
      const b3 = b2 + d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let f = 0; f < d; f++) {
        const x = centered[a + f]!;
        s0 += x * centered[b0 + f]!;
        s1 += x * centered[b1 + f]!;
        s2 += x * centered[b2 + f]!;
        s3 += x * centered[b3 + f]!;
      }
      gram[i * n + j] = s0;
      gram[i * n + j + 1] = s1;
      gram[i * n + j + 2] = s2;
      gram[i * n + j + 3] = s3;
    }
    for (; j < n; j++) {
      let sum = 0;
      const b = j * d;
      for (let f = 0; f < d; f++) sum += centered[a + f]! * centered[b + f]!;
      gram[i * n + j] = sum;
    }
    for (let other = i + 1; other < n; other++) gram[other * n + i] = gram[i * n + other]!;
  }
  return { size: n, featureCount: d, gram, total: traceOf(gram, n) };
}

export function traceOf(gram: Float64Array, n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += gram[i * n + i]!;
  return total;
}

/**
 * Pairwise Euclidean distances (n x n) from a Gram matrix: |x_i - x_j|^2 = G_ii + G_jj - 2 G_ij, clamped
 * at zero against rounding, with an exact zero diagonal (as scikit-learn's euclidean_distances).
 */
export function distancesFromGram(space: GramSpace): Float64Array {
  const { size: n, gram } = space;
  const distances = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const gii = gram[i * n + i]!;
    for (let j = i + 1; j < n; j++) {
      const squared = gii + gram[j * n + j]! - 2 * gram[i * n + j]!;
      const distance = squared > 0 ? Math.sqrt(squared) : 0;
      distances[i * n + j] = distance;
      distances[j * n + i] = distance;
    }
  }
  return distances;
}

/** Pairwise Euclidean distances (n x n) computed from coordinate differences, for exactness. */
export function pairwiseDistances(matrix: RowMatrix): Float64Array {
  const { values, rows: n, cols: d } = matrix;
  const distances = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const a = i * d;
    for (let j = i + 1; j < n; j++) {
      const b = j * d;
      let squared = 0;
      for (let f = 0; f < d; f++) {
        const diff = values[a + f]! - values[b + f]!;
        squared += diff * diff;
      }
      const distance = Math.sqrt(squared);
      distances[i * n + j] = distance;
      distances[j * n + i] = distance;
    }
  }
  return distances;
}
