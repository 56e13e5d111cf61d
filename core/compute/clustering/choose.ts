/**
 * The automatic cluster count of a neuron (1 = monosemantic) and its polysemanticity score.
 * docs/clustering.md has the reasons and the measurements behind the defaults.
 *
 * Null references. k-means also runs on B "one Gaussian cluster" versions of the points: the points
 * rotated at random in sample space (rotation.ts), exact draws of one Gaussian cloud with this very
 * mean and sample covariance, for any width. Everything below compares the data with them.
 *
 * Evidence (is there more than one cluster at all?). With F_k = W_k / T (inertia over total sum of
 * squares) and L_k = log F_k, L_k^b on reference b:
 *
 *   evidence_k = (mean_b L_k^b - L_k) / (sd_b L_k^b * sqrt(1 + 1/B)),  evidence = max_k evidence_k
 *
 * the gap statistic (Tibshirani, Walther & Hastie 2001) against this null, in units of its prediction
 * standard deviation: a test like SigClust (Liu et al. 2008), which tests a 2-means split against one
 * Gaussian. It answers "not one Gaussian", which skewed or heavy-tailed single clouds also are.
 *
 * Polysemanticity (how strongly?). Measured inside the subspace the k cluster means span
 * (separation.ts), so that dimensions without cluster structure do not dilute it as a layer widens:
 *
 *   P_k = clamp(1 - Fsub_k / mean_b Fsub_k^b, 0, 1),
 *
 * i.e. (R^2 - R0^2) / (1 - R0^2): the share of the variance left by a k-means split of one Gaussian
 * cloud (R0^2, which depends strongly on n, d and the spectrum) that the clusters do explain. About 0
 * for one Gaussian cloud at any width, 1 for clusters that are points.
 *
 * Choice. k* = the candidate with the largest mean silhouette (ties: the smaller k), the standard
 * criterion among k >= 2 (the silhouette cannot score one cluster). The neuron is split into k*
 * virtual neurons iff evidence >= 4 and P_k* >= 0.5, else it gets 1; its score is P_k* either way.
 * The P threshold is what keeps skewed, heavy-tailed or flat single clouds whole; the evidence
 * threshold is 4, not the nominal 3, as k-means local optima make L heavier-tailed than normal.
 */

import { createRandom, deriveSeed } from '../random.js';
import {
  assertClusterCount,
  finishClustering,
  type KMeansOptions,
  type KMeansResult,
  lloydSettings,
  type PreparedPoints,
  preparePoints,
} from './kmeans.js';
import { denseLabels } from './labels.js';
import { kmeansOnGram } from './lloyd.js';
import { distancesFromGram, type PointsInput } from './points.js';
import { drawRotatedSpace, prepareRotationNull } from './rotation.js';
import { subspaceWithinFraction } from './separation.js';
import { silhouetteFromDistances } from './silhouette.js';

export interface ClusterCountOptions extends KMeansOptions {
  /** Cluster counts to consider besides 1 (default 2..5, the authors' range); counts >= n are skipped. */
  readonly candidates?: readonly number[];
  /** Null references B (default 10); each costs one k-means per candidate. */
  readonly nullSamples?: number;
  /** Evidence needed to split (default 4). */
  readonly evidenceThreshold?: number;
  /** Polysemanticity needed to split (default 0.5). */
  readonly polysemanticityThreshold?: number;
}

export interface CandidateEvaluation {
  readonly clusters: number;
  readonly result: KMeansResult;
  /** Mean silhouette; NaN if k-means found fewer than two distinct clusters. */
  readonly silhouette: number;
  /** F_k = inertia / total sum of squares. */
  readonly withinFraction: number;
  /** mean_b F_k^b on the null references. */
  readonly nullWithinFraction: number;
  /** Fsub_k: the within-cluster share of variance inside the span of the cluster means. */
  readonly subspaceWithinFraction: number;
  /** mean_b Fsub_k^b on the null references. */
  readonly nullSubspaceWithinFraction: number;
  readonly evidence: number;
  /** P_k. */
  readonly polysemanticity: number;
}

export interface ClusterCountChoice {
  /** 1 = monosemantic, else the number of virtual neurons. */
  readonly clusters: number;
  /** P at the best candidate, in [0, 1], comparable across neurons and layers. */
  readonly polysemanticity: number;
  /** max_k evidence_k. */
  readonly evidence: number;
  /** The best candidate by silhouette, where P is measured (0 if no candidate has a silhouette). */
  readonly bestCandidate: number;
  /** One entry per candidate that fits the number of points, in increasing k. */
  readonly candidates: readonly CandidateEvaluation[];
  /** What a split needed: the rule's thresholds, stored with each verdict. */
  readonly thresholds: { readonly evidence: number; readonly polysemanticity: number };
}

export const DEFAULT_CANDIDATES: readonly number[] = [2, 3, 4, 5];

/**
 * Points whose total variance is below this fraction of their mean squared norm count as identical:
 * the test and the score are scale-free, so float32 rounding differences between equal circuit vectors
 * (a fraction ~1e-15) would otherwise be clustered like real variation.
 */
const NEGLIGIBLE_SPREAD = 1e-10;

/** The k-means settings of every run here, data and null references alike. */
type KMeansSettings = ReturnType<typeof lloydSettings>;

/** sum_i |x_i|^2 = T + n |mean|^2. */
function secondMoment(prepared: PreparedPoints): number {
  let meanNormSq = 0;
  for (const value of prepared.centered.mean) meanNormSq += value * value;
  return prepared.space.total + prepared.space.size * meanNormSq;
}

/**
 * For one neuron's vectors (e.g. its 100 circuit vectors): k-means for every candidate count with the
 * given k-means options, the automatic count and the polysemanticity score (module comment above).
 */
export function chooseClusterCount(
  points: PointsInput,
  options: ClusterCountOptions = {},
): ClusterCountChoice {
  const settings = lloydSettings(options);
  const rule = choiceRule(options);
  const prepared = preparePoints(points);
  // The silhouette needs k <= n - 1 (ClusterCountOptions.candidates): larger counts are skipped.
  const counts = [...rule.candidates].sort((a, b) => a - b).filter((k) => k <= prepared.space.size - 1);
  const dataRuns = clusterData(prepared, counts, settings);
  const nullRuns = clusterNullReferences(prepared, counts, settings, rule.nullSamples);
  const evaluations = dataRuns.map((run, index) => evaluateCandidate(run, nullRuns[index]!));
  return choose(evaluations, rule);
}

/** The options that decide the count, with their defaults, checked. */
interface ChoiceRule {
  readonly candidates: readonly number[];
  readonly nullSamples: number;
  readonly evidenceThreshold: number;
  readonly polysemanticityThreshold: number;
}

function choiceRule(options: ClusterCountOptions): ChoiceRule {
  const {
    candidates = DEFAULT_CANDIDATES,
    nullSamples = 10,
    evidenceThreshold = 4,
    polysemanticityThreshold = 0.5,
  } = options;
  for (const k of candidates) {
    if (!Number.isInteger(k) || k < 2)
      throw new Error(`candidate cluster counts must be integers >= 2, got ${k}`);
  }
  if (new Set(candidates).size !== candidates.length)
    throw new Error(`duplicate candidate counts: ${candidates}`);
  // The evidence divides by the null references' standard deviation, which needs two of them.
  if (!Number.isInteger(nullSamples) || nullSamples < 2) {
    throw new Error(`nullSamples must be an integer >= 2, got ${nullSamples}`);
  }
  if (!Number.isFinite(evidenceThreshold))
    throw new Error(`evidenceThreshold must be finite, got ${evidenceThreshold}`);
  if (!Number.isFinite(polysemanticityThreshold)) {
    throw new Error(`polysemanticityThreshold must be finite, got ${polysemanticityThreshold}`);
  }
  return { candidates, nullSamples, evidenceThreshold, polysemanticityThreshold };
}

/** k-means of the points themselves at one candidate count, with what the evaluation needs of it. */
interface DataRun {
  readonly k: number;
  readonly result: KMeansResult;
  readonly silhouette: number;
  /** F_k. */
  readonly withinFraction: number;
  /** Fsub_k. */
  readonly subspaceFraction: number;
}

function clusterData(
  prepared: PreparedPoints,
  counts: readonly number[],
  settings: KMeansSettings,
): DataRun[] {
  const { space } = prepared;
  const distances = distancesFromGram(space);
  return counts.map((k) => {
    assertClusterCount(k, space.size);
    const clustering = kmeansOnGram(space, k, settings, createRandom(settings.seed));
    const result = finishClustering(prepared.centered, clustering, k);
    // The silhouette needs two clusters; k-means finds fewer when the points coincide.
    const silhouette =
      denseLabels(result.labels).count >= 2 ? silhouetteFromDistances(distances, result.labels) : Number.NaN;
    return {
      k,
      result,
      silhouette,
      withinFraction: clustering.withinSS / space.total,
      subspaceFraction: subspaceWithinFraction(space, clustering.labels, k),
    };
  });
}

/** One candidate count on the B null references: log F_k^b and Fsub_k^b, index b. */
interface NullRuns {
  readonly logWithinFractions: Float64Array;
  readonly subspaceWithinFractions: Float64Array;
}

/**
 * k-means of every candidate count on B null references (module comment above); reference b is drawn
 * from its own seed, so it does not depend on the candidates. Points that do not vary (below
 * NEGLIGIBLE_SPREAD) get no references: there is no structure to test, and evidence and P stay 0.
 */
function clusterNullReferences(
  prepared: PreparedPoints,
  counts: readonly number[],
  settings: KMeansSettings,
  nullSamples: number,
): NullRuns[] {
  const { space } = prepared;
  const varies = space.total > NEGLIGIBLE_SPREAD * secondMoment(prepared);
  const runs = counts.map(() => ({
    logWithinFractions: new Float64Array(varies ? nullSamples : 0),
    subspaceWithinFractions: new Float64Array(varies ? nullSamples : 0),
  }));
  if (!varies || counts.length === 0) return runs;
  const model = prepareRotationNull(space);
  for (let b = 0; b < nullSamples; b++) {
    // One draw per reference, shared by all candidate counts.
    const reference = drawRotatedSpace(model, createRandom(deriveSeed(settings.seed, b)));
    counts.forEach((k, index) => {
      const clustering = kmeansOnGram(reference, k, settings, createRandom(settings.seed));
      runs[index]!.logWithinFractions[b] = Math.log(clustering.withinSS / reference.total);
      runs[index]!.subspaceWithinFractions[b] = subspaceWithinFraction(reference, clustering.labels, k);
    });
  }
  return runs;
}

/** evidence_k and P_k of one candidate; without null references (points that do not vary) both are 0. */
function evaluateCandidate(run: DataRun, nulls: NullRuns): CandidateEvaluation {
  const logs = nulls.logWithinFractions;
  const nullSubspaceWithinFraction = logs.length > 0 ? meanOf(nulls.subspaceWithinFractions) : Number.NaN;
  return {
    clusters: run.k,
    result: run.result,
    silhouette: run.silhouette,
    withinFraction: run.withinFraction,
    nullWithinFraction: logs.length > 0 ? meanOf(logs.map(Math.exp)) : Number.NaN,
    subspaceWithinFraction: run.subspaceFraction,
    nullSubspaceWithinFraction,
    evidence: logs.length > 0 ? standardisedGap(Math.log(run.withinFraction), logs) : 0,
    polysemanticity:
      nullSubspaceWithinFraction > 0 ? clamp01(1 - run.subspaceFraction / nullSubspaceWithinFraction) : 0,
  };
}

/**
 * The choice of the module comment: k* by silhouette (ties: the smaller k, as candidates are in
 * increasing order), split iff the evidence for any k and P at k* both reach their thresholds.
 */
function choose(evaluations: CandidateEvaluation[], rule: ChoiceRule): ClusterCountChoice {
  let best: CandidateEvaluation | undefined;
  for (const evaluation of evaluations) {
    if (Number.isNaN(evaluation.silhouette)) continue;
    if (best === undefined || evaluation.silhouette > best.silhouette) best = evaluation;
  }
  const evidence = evaluations.length > 0 ? Math.max(...evaluations.map((e) => e.evidence)) : 0;
  const polysemanticity = best?.polysemanticity ?? 0;
  const split = evidence >= rule.evidenceThreshold && polysemanticity >= rule.polysemanticityThreshold;
  return {
    clusters: split && best !== undefined ? best.clusters : 1,
    polysemanticity,
    evidence,
    bestCandidate: best?.clusters ?? 0,
    candidates: evaluations,
    thresholds: { evidence: rule.evidenceThreshold, polysemanticity: rule.polysemanticityThreshold },
  };
}

/** (mean of null logs - data log) / (sd of null logs x sqrt(1 + 1/B)); +-Infinity when the null does not vary. */
function standardisedGap(dataLog: number, nullLogs: Float64Array): number {
  const count = nullLogs.length;
  const mean = meanOf(nullLogs);
  let squares = 0;
  for (const value of nullLogs) squares += (value - mean) ** 2;
  const spread = Math.sqrt(squares / (count - 1)) * Math.sqrt(1 + 1 / count);
  const gap = mean - dataLog;
  if (gap === 0 || Number.isNaN(gap)) return 0;
  return spread > 0 ? gap / spread : gap * Number.POSITIVE_INFINITY;
}

function meanOf(values: Float64Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** Clamped into [0, 1]; NaN (no variation to explain) counts as 0. */
function clamp01(value: number): number {
  return Number.isNaN(value) ? 0 : Math.min(1, Math.max(0, value));
}
