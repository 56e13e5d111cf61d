/**
 * 2-D coordinates for a neuron's circuit map (specs.ts `circuitMap`): one point per reference sample,
 * placed by its circuit vector (relevance over the lower layer's channels).
 *
 * UMAP (umap-js) for 10 points or more, seeded with the project's mulberry32 generator so that a run's
 * report draws the same picture every time. The distance is Euclidean, not cosine: PURE clusters the raw
 * circuit vectors with k-means, which is Euclidean, so neighbours on the map are the neighbours the
 * clustering saw (a cosine map would hide a split that differs only in the vectors' size).
 *
 * Under 10 points UMAP's neighbour graph would have 2 or 3 neighbours per point and its layout says
 * little (and it needs more points than neighbours), so the map is the exact projection on the first two
 * principal components instead, which needs no seed.
 */

import { UMAP } from 'umap-js';
import { createRandom } from '../../core/compute/random.js';

/** Fewer points than this are placed by principal components instead of UMAP. */
export const UMAP_MIN_POINTS = 10;

/**
 * Optimisation epochs, fixed (umap-js takes 500 for small data) because the maps are small and many and
 * the epochs are most of a map's time (~0.3 ms each for 100 points). On 120 points in four overlapping
 * blobs, the share of each point's 10 nearest neighbours that are also its 10 nearest on the map was
 * 0.20 after 100 epochs, 0.21 after 150, 0.22 after 200 and 0.23 after 500 (3 seeds each), and the
 * pictures alike: 100 it is.
 */
export const UMAP_EPOCHS = 100;

/**
 * UMAP's neighbourhood size for n points: 15 (UMAP's default) from 45 points up; a third of the points
 * under that, so that a cluster of a few samples still has its own neighbourhood.
 */
export function umapNeighbours(n: number): number {
  return Math.min(15, Math.floor(n / 3));
}

/** The map's coordinates of each vector, in order. All vectors must have the same, finite entries. */
export function circuitMapCoordinates(
  vectors: readonly ArrayLike<number>[],
  seed: number,
): [number, number][] {
  const points = vectors.map((v, i) => {
    const point = Array.from(v);
    if (point.length !== (vectors[0]?.length ?? 0)) throw new RangeError('circuit vectors differ in length');
    if (!point.every(Number.isFinite))
      throw new RangeError(`circuit vector ${i} has a value that is not finite`);
    return point;
  });
  if (points.length < UMAP_MIN_POINTS) return principalCoordinates(points);
  const neighbours = umapNeighbours(points.length);
  const umap = withKnownCurve(
    new UMAP({ nComponents: 2, nNeighbors: neighbours, nEpochs: UMAP_EPOCHS, random: createRandom(seed) }),
  );
  const { indices, distances } = exactNeighbours(points, neighbours);
  umap.setPrecomputedKNN(indices, distances);
  return umap.fit(points).map(([x, y]) => [x ?? 0, y ?? 0]);
}

/**
 * UMAP's curve parameters for umap-js's defaults (spread 1, minDist 0.1), as its `findABParams` fits
 * them (Levenberg-Marquardt, 30 ms and more: a third of a map's time).
 */
const CURVE = { a: 1.5694704762346365, b: 0.8941996053733949 };

/** The parts of a umap-js 1.4.0 UMAP that `withKnownCurve` replaces and uses (private in its types). */
interface UmapInternals {
  initializeOptimization(): void;
  getNEpochs(): number;
  assignOptimizationStateParameters(state: Record<string, unknown>): void;
  embedding: number[][];
  graph: { nCols: number };
  optimizationState: { head: number[]; tail: number[]; epochsPerSample: number[] };
}

/**
 * The UMAP with its optimisation set up from CURVE instead of refitting it on every fit, which umap-js
 * does though the fit depends on nothing but spread and minDist. The replacement is umap-js 1.4.0's
 * `initializeOptimization` (the version package.json pins) with the fitted values; a unit test checks
 * that maps come out identical to umap-js's own.
 */
function withKnownCurve(umap: UMAP): UMAP {
  const internals = umap as unknown as UmapInternals;
  internals.initializeOptimization = function (this: UmapInternals) {
    const { head, tail, epochsPerSample } = this.optimizationState;
    this.assignOptimizationStateParameters({
      headEmbedding: this.embedding,
      tailEmbedding: this.embedding,
      head,
      tail,
      epochsPerSample,
      ...CURVE,
      nEpochs: this.getNEpochs(),
      nVertices: this.graph.nCols,
    });
  };
  return umap;
}

/**
 * Each point's k nearest points by Euclidean distance, itself first (as UMAP expects), ties broken by
 * index. Exact, by all pairwise distances: for a few hundred points this is faster than umap-js's
 * approximate search (NN-descent over random projection trees), which was most of a map's time.
 */
export function exactNeighbours(
  points: readonly number[][],
  k: number,
): { indices: number[][]; distances: number[][] } {
  const n = points.length;
  const distance = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = points[i]!;
      const b = points[j]!;
      let sum = 0;
      for (let d = 0; d < a.length; d++) sum += (a[d]! - b[d]!) ** 2;
      distance[i * n + j] = distance[j * n + i] = Math.sqrt(sum);
    }
  }
  const indices = points.map((_, i) =>
    points
      .map((_, j) => j)
      .sort((a, b) => (a === i ? -1 : b === i ? 1 : distance[i * n + a]! - distance[i * n + b]! || a - b))
      .slice(0, k),
  );
  const distances = indices.map((row, i) => row.map((j) => distance[i * n + j]!));
  return { indices, distances };
}

/**
 * The projection of the points on their first two principal components, from the eigenvectors of the
 * centred Gram matrix (n × n: cheap for the few points it serves). Each axis's sign is fixed so that its
 * largest coordinate is positive; a missing component (n ≤ 2, or points on a line) is 0.
 */
export function principalCoordinates(points: readonly number[][]): [number, number][] {
  const n = points.length;
  const dims = points[0]?.length ?? 0;
  const mean = Array.from({ length: dims }, (_, d) => points.reduce((sum, p) => sum + p[d]!, 0) / n);
  const centred = points.map((p) => p.map((x, d) => x - mean[d]!));
  const gram = centred.map((a) => centred.map((b) => a.reduce((sum, x, d) => sum + x * b[d]!, 0)));
  const { values, vectors } = symmetricEigen(gram);
  const byValue = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]! || a - b);
  const axes = [byValue[0], byValue[1]].map((k) => {
    if (k === undefined || !(values[k]! > 1e-12 * Math.max(1, values[byValue[0]!]!)))
      return points.map(() => 0);
    const axis = vectors.map((row) => row[k]! * Math.sqrt(values[k]!));
    const largest = axis.reduce((best, x) => (Math.abs(x) > Math.abs(best) ? x : best), 0);
    return largest < 0 ? axis.map((x) => -x) : axis;
  });
  return points.map((_, i) => [axes[0]![i]!, axes[1]![i]!]);
}

/**
 * Eigenvalues and eigenvectors (the columns of `vectors`) of a small symmetric matrix by cyclic Jacobi
 * rotations: exact to rounding and deterministic.
 */
function symmetricEigen(matrix: readonly number[][]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = matrix.map((row) => [...row]);
  const v = a.map((_, i) => a.map((_, j) => (i === j ? 1 : 0)));
  const scale = a.reduce((sum, row) => sum + row.reduce((s, x) => s + x * x, 0), 0);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off <= 1e-30 * scale) break;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) rotate(a, v, p, q);
  }
  return { values: a.map((row, i) => row[i]!), vectors: v };
}

/** One Jacobi rotation zeroing a[p][q] (and a[q][p]), applied to the matrix and the eigenvectors. */
function rotate(a: number[][], v: number[][], p: number, q: number): void {
  const apq = a[p]![q]!;
  if (apq === 0) return;
  const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;
  for (let k = 0; k < a.length; k++) {
    const akp = a[k]![p]!;
    const akq = a[k]![q]!;
    a[k]![p] = c * akp - s * akq;
    a[k]![q] = s * akp + c * akq;
  }
  for (let k = 0; k < a.length; k++) {
    const apk = a[p]![k]!;
    const aqk = a[q]![k]!;
    a[p]![k] = c * apk - s * aqk;
    a[q]![k] = s * apk + c * aqk;
  }
  for (let k = 0; k < v.length; k++) {
    const vkp = v[k]![p]!;
    const vkq = v[k]![q]!;
    v[k]![p] = c * vkp - s * vkq;
    v[k]![q] = s * vkp + c * vkq;
  }
}
