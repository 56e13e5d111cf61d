/**
 * Clustering for virtual neurons (docs/design.md steps 3 and 5), plain functions without I/O:
 *
 *   const choice = chooseClusterCount(circuitVectors);            // k = 2..5, auto count, score
 *   const twoWay = kmeans(circuitVectors, 2, { seed: 0 });        // the authors' setting
 *   const { inner, inter } = clusterDistances(embeddings, twoWay.labels);
 *
 * Definitions and their reasons: docs/clustering.md.
 */

export { createRandom, type RandomSource } from '../random.js';
export {
  type CandidateEvaluation,
  type ClusterCountChoice,
  type ClusterCountOptions,
  chooseClusterCount,
  DEFAULT_CANDIDATES,
} from './choose.js';
export {
  type KMeansOptions,
  type KMeansResult,
  kmeans,
  kmeansPrepared,
  type PreparedPoints,
  preparePoints,
} from './kmeans.js';
export type { Labels } from './labels.js';
export {
  adjustedRandIndex,
  type ClusterDistances,
  clusterDistances,
  clusterDistancesFromMatrix,
  mean,
  paperErrorBar,
  standardError,
} from './metrics.js';
export type { PointsInput, RowMatrix } from './points.js';
export { silhouetteFromDistances, silhouetteSamplesFromDistances, silhouetteScore } from './silhouette.js';
