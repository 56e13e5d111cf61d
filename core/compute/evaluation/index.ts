/**
 * Evaluation of virtual neurons (docs/design.md step 5), plain functions without I/O:
 *
 *   const { evaluations, virtualNeurons } = evaluateNeuron(
 *     { embeddings, clusterings: [{ method: 'pure', nClusters: 2, labels }, ...], classLabels },
 *     { seed: 0, randomSamples: 100 },
 *   );
 *   const summary = summarizeEvaluations(rowsOfAllNeurons);
 */
export { evaluateNeuron, evaluationSettings, neuronSeed } from './neuron.js';
export { type NullDistribution, permutationPValue, shuffleInPlace } from './permutation.js';
export {
  type EvaluationSummaryRow,
  type SummarizedRow,
  type SummaryOptions,
  significantShare,
  summarizeEvaluations,
} from './summary.js';
export {
  type Clustering,
  type ClusteringMethod,
  EVALUATION_METHODS,
  type EvaluationMethod,
  type EvaluationOptions,
  type EvaluationRow,
  type GivenClustering,
  type GivenMethod,
  type NeuronEvaluation,
  type NeuronEvaluationInput,
  type NeuronIdentity,
  type VirtualNeuronEvaluationRow,
} from './types.js';
