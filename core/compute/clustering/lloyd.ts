/**
 * k-means in Gram space, step for step as scikit-learn's `KMeans(init="k-means++", algorithm="lloyd")`:
 * greedy k-means++ seeding with 2 + floor(ln k) local trials per centre, Lloyd iterations until the
 * labels stop changing or the squared centre shift drops to `tol` times the mean feature variance, empty
 * clusters re-seeded from the points farthest from their centres, and the best of `nInit` restarts by
 * inertia (a restart that finds the same partition never replaces an earlier one).
 *
 * Every centre is the mean of a set of points (k-means++ picks points; each Lloyd update averages a
 * cell), so a centre c is held as its inner products with the points, dot[c][i] = x_i . c, and its
 * squared norm. Then |x_i - c|^2 = G_ii - 2 dot[c][i] + |c|^2 and one Lloyd iteration costs O(n^2 + kn)
 * whatever the number of features. Random draws use one stream for all restarts, as scikit-learn.
 */

import type { RandomSource } from '../random.js';
import { isSameClustering } from './labels.js';
import type { GramSpace } from './points.js';

export interface LloydSettings {
  /** Restarts; the one with the least inertia wins. */
  readonly nInit: number;
  /** Lloyd iterations per restart. */
  readonly maxIter: number;
  /** Relative tolerance: convergence when the summed squared centre shift <= tol x mean feature variance. */
  readonly tol: number;
}

/** The best restart, in the point order of the Gram matrix; labels are not yet canonical. */
export interface GramClustering {
  readonly labels: Int32Array;
  /**
   * The cells whose means are the final centres: point i is averaged into centre `cells[i]`. They equal
   * the labels except after a re-seeded empty cluster in the last iteration, exactly as scikit-learn's
   * `cluster_centers_` need not be the means of `labels_`. A centre with an empty cell is the data mean.
   */
  readonly cells: Int32Array;
  /** Sum of squared distances to the assigned centres, from the Gram matrix. */
  readonly withinSS: number;
  readonly iterations: number;
}

export function kmeansOnGram(
  space: GramSpace,
  clusterCount: number,
  settings: LloydSettings,
  random: RandomSource,
): GramClustering {
  if (clusterCount > space.size) {
    throw new Error(
      `k-means with ${clusterCount} clusters needs at least ${clusterCount} points, got ${space.size}`,
    );
  }
  const work = new Workspace(space, clusterCount);
  // scikit-learn's _tolerance: tol times the mean over features of the per-feature variance.
  const tolerance = settings.tol === 0 ? 0 : (settings.tol * space.total) / (space.size * space.featureCount);
  let best: GramClustering | undefined;
  for (let run = 0; run < settings.nInit; run++) {
    work.seedPlusPlus(random);
    const { withinSS, iterations } = work.lloyd(settings.maxIter, tolerance);
    if (
      best === undefined ||
      (withinSS < best.withinSS && !isSameClustering(work.labels, best.labels, clusterCount))
    ) {
      best = { labels: work.labels.slice(), cells: work.cells.slice(), withinSS, iterations };
    }
  }
  return best!;
}

/** Buffers for one k-means call, reused by every restart and iteration. */
class Workspace {
  private readonly n: number;
  private readonly k: number;
  private readonly gram: Float64Array;
  /**
   * Centre c is the mean of its cell: sums[c] (k x n) holds sum over the cell of x_j . x_i, so
   * x_i . centre = sums[c][i] / counts[c]. After seeding the "cell" of a centre is its one point. Later
   * updates only move the Gram rows of points that changed cell, O(n) per move instead of O(n^2).
   */
  private readonly sums: Float64Array;
  private readonly counts: Int32Array;
  private readonly inverseCounts: Float64Array;
  private normSq: Float64Array;
  private nextNormSq: Float64Array;
  private readonly cross: Float64Array;
  /** Whether `sums` are sums over `cells` (false right after seeding). */
  private cellSums = false;
  readonly labels: Int32Array;
  readonly cells: Int32Array;
  private readonly nextCells: Int32Array;
  private readonly nextCounts: Int32Array;
  private readonly previousLabels: Int32Array;
  private readonly nearest: Float64Array;
  private readonly cumulative: Float64Array;
  /** Seeding: the points picked as centres; relocation: the empty clusters. */
  private readonly picks: Int32Array;

  constructor(space: GramSpace, clusterCount: number) {
    const n = space.size;
    const k = clusterCount;
    this.n = n;
    this.k = k;
    this.gram = space.gram;
    this.sums = new Float64Array(k * n);
    this.counts = new Int32Array(k);
    this.inverseCounts = new Float64Array(k);
    this.normSq = new Float64Array(k);
    this.nextNormSq = new Float64Array(k);
    this.cross = new Float64Array(k);
    this.labels = new Int32Array(n);
    this.cells = new Int32Array(n);
    this.nextCells = new Int32Array(n);
    this.nextCounts = new Int32Array(k);
    this.previousLabels = new Int32Array(n);
    this.nearest = new Float64Array(n);
    this.cumulative = new Float64Array(n);
    this.picks = new Int32Array(k);
  }

  private squaredDistance(a: number, b: number): number {
    const { gram, n } = this;
    const squared = gram[a * n + a]! + gram[b * n + b]! - 2 * gram[a * n + b]!;
    return Math.max(squared, 0);
  }

  /** Potential (summed squared distance to the nearest centre) if `candidate` were added. */
  private potentialWith(candidate: number): number {
    let potential = 0;
    for (let i = 0; i < this.n; i++)
      potential += Math.min(this.nearest[i]!, this.squaredDistance(candidate, i));
    return potential;
  }

  /** Greedy k-means++ (scikit-learn's `_kmeans_plusplus`); leaves the picked points as current centres. */
  seedPlusPlus(random: RandomSource): void {
    const { n, k, nearest, cumulative, picks } = this;
    const localTrials = 2 + Math.floor(Math.log(k));
    const first = Math.floor(random() * n);
    picks[0] = first;
    let potential = 0;
    for (let i = 0; i < n; i++) {
      nearest[i] = this.squaredDistance(first, i);
      potential += nearest[i]!;
    }
    const candidates = new Int32Array(localTrials);
    for (let c = 1; c < k; c++) {
      let running = 0;
      for (let i = 0; i < n; i++) {
        running += nearest[i]!;
        cumulative[i] = running;
      }
      // All draws first, then the evaluation, so the random stream is consumed as scikit-learn does.
      for (let t = 0; t < localTrials; t++)
        candidates[t] = searchSortedLeft(cumulative, random() * potential);
      let bestCandidate = candidates[0]!;
      let bestPotential = Number.POSITIVE_INFINITY;
      for (let t = 0; t < localTrials; t++) {
        const trialPotential = this.potentialWith(candidates[t]!);
        if (trialPotential < bestPotential) {
          bestPotential = trialPotential;
          bestCandidate = candidates[t]!;
        }
      }
      for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i]!, this.squaredDistance(bestCandidate, i));
      potential = bestPotential;
      picks[c] = bestCandidate;
    }
    const { gram, sums, counts, inverseCounts, normSq } = this;
    for (let c = 0; c < k; c++) {
      const point = picks[c]!;
      sums.set(gram.subarray(point * n, point * n + n), c * n);
      counts[c] = 1;
      inverseCounts[c] = 1;
      normSq[c] = gram[point * n + point]!;
    }
    this.cellSums = false;
  }

  /** Lloyd iterations from the current centres; returns the inertia and the iterations run. */
  lloyd(maxIter: number, tolerance: number): { withinSS: number; iterations: number } {
    const { labels, previousLabels } = this;
    previousLabels.fill(-1);
    let strictConvergence = false;
    let iterations = 0;
    for (let iteration = 0; iteration < maxIter; iteration++) {
      this.assign();
      this.nextCells.set(labels);
      this.relocateEmptyClusters();
      const shift = this.moveCentres();
      iterations = iteration + 1;
      if (equalLabels(labels, previousLabels)) {
        strictConvergence = true;
        break;
      }
      if (shift <= tolerance) break;
      previousLabels.set(labels);
    }
    // As scikit-learn: without strict convergence the labels are recomputed for the final centres.
    if (!strictConvergence) this.assign();
    let withinSS = 0;
    for (let i = 0; i < this.n; i++) withinSS += this.nearest[i]!;
    return { withinSS, iterations };
  }

  /** E-step: each point to its nearest centre (first on ties); `nearest` gets the squared distance. */
  private assign(): void {
    const { n, k, gram, sums, inverseCounts, normSq, labels, nearest } = this;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestScore = normSq[0]! - 2 * sums[i]! * inverseCounts[0]!;
      for (let c = 1; c < k; c++) {
        const score = normSq[c]! - 2 * sums[c * n + i]! * inverseCounts[c]!;
        if (score < bestScore) {
          bestScore = score;
          best = c;
        }
      }
      labels[i] = best;
      const squared = gram[i * n + i]! + bestScore;
      nearest[i] = Math.max(squared, 0);
    }
  }

  /**
   * scikit-learn's `_relocate_empty_clusters_dense`, on `nextCells`: the j-th empty cluster (in index
   * order) takes the j-th farthest point from its centre, which leaves its old cluster. Equal distances
   * go to the lower point index (numpy's argpartition leaves that order unspecified).
   */
  private relocateEmptyClusters(): void {
    const { n, k, labels, nextCells, nextCounts, nearest, picks } = this;
    nextCounts.fill(0);
    for (let i = 0; i < n; i++) nextCounts[labels[i]!]!++;
    // The empty clusters are listed before any move: a cluster emptied by a move stays empty this time.
    let emptyCount = 0;
    for (let c = 0; c < k; c++) if (nextCounts[c] === 0) picks[emptyCount++] = c;
    for (let e = 0; e < emptyCount; e++) {
      const emptyCluster = picks[e]!;
      let far = -1;
      for (let i = 0; i < n; i++) {
        if (far !== -1 && nearest[i]! <= nearest[far]!) continue;
        if (nextCells[i] !== labels[i]) continue; // already moved to an earlier empty cluster
        far = i;
      }
      nextCounts[labels[far]!]!--;
      nextCounts[emptyCluster] = 1;
      nextCells[far] = emptyCluster;
    }
  }

  /**
   * M-step: every centre becomes the mean of its cell in `nextCells` (the data mean, i.e. 0, for an
   * empty cell). Returns the summed squared centre shift, using old . new = mean over the new cell of
   * x_i . old, taken before the sums change.
   */
  private moveCentres(): number {
    const { n, k, gram, sums, counts, inverseCounts, cells, nextCells, nextCounts, cross } = this;
    cross.fill(0);
    let moves = 0;
    for (let i = 0; i < n; i++) {
      const c = nextCells[i]!;
      cross[c]! += sums[c * n + i]!;
      if (c !== cells[i]) moves++;
    }
    for (let c = 0; c < k; c++) {
      cross[c]! *= inverseCounts[c]! * (nextCounts[c]! > 0 ? 1 / nextCounts[c]! : 0);
    }
    if (!this.cellSums || 2 * moves > n) {
      sums.fill(0);
      for (let i = 0; i < n; i++) addRow(sums, nextCells[i]! * n, gram, i * n, n, 1);
    } else if (moves > 0) {
      for (let i = 0; i < n; i++) {
        const from = cells[i]!;
        const to = nextCells[i]!;
        if (from === to) continue;
        addRow(sums, from * n, gram, i * n, n, -1);
        addRow(sums, to * n, gram, i * n, n, 1);
      }
    }
    this.cellSums = true;
    cells.set(nextCells);
    counts.set(nextCounts);
    const norms = this.nextNormSq;
    norms.fill(0);
    for (let c = 0; c < k; c++) {
      inverseCounts[c] = counts[c]! > 0 ? 1 / counts[c]! : 0;
      if (counts[c] === 0) sums.fill(0, c * n, c * n + n); // exact zero, not accumulated rounding
    }
    for (let i = 0; i < n; i++) {
      const c = cells[i]!;
      norms[c]! += sums[c * n + i]!;
    }
    let shift = 0;
    for (let c = 0; c < k; c++) {
      norms[c]! *= inverseCounts[c]! * inverseCounts[c]!;
      const squared = norms[c]! + this.normSq[c]! - 2 * cross[c]!;
      shift += Math.max(squared, 0);
    }
    this.nextNormSq = this.normSq;
    this.normSq = norms;
    return shift;
  }
}

/** target[targetOffset ..] += sign * source[sourceOffset ..], over `length` entries. */
function addRow(
  target: Float64Array,
  targetOffset: number,
  source: Float64Array,
  sourceOffset: number,
  length: number,
  sign: number,
): void {
  for (let j = 0; j < length; j++) target[targetOffset + j]! += sign * source[sourceOffset + j]!;
}

/** numpy's searchsorted(side="left"), clipped to the last index as scikit-learn does against rounding. */
function searchSortedLeft(sorted: Float64Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return Math.min(low, sorted.length - 1);
}

function equalLabels(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
