/**
 * Step 5 of PURE for one neuron: are its virtual neurons coherent in an independent embedding space
 * (CLIP)? For each method and cluster count: the authors' pooled inner/inter distances
 * (eval_CLIP_alignment.py), label purity, and a permutation test against random splits of the same
 * sizes, which turns the raw distances (whose level depends on the neuron and on the sizes) into a
 * neuron-comparable gain and a p-value. One distance matrix per neuron serves every statistic.
 */
import { kmeansPrepared, preparePoints } from '../clustering/kmeans.js';
import { clusterDistancesFromMatrix, mean } from '../clustering/metrics.js';
import { pairwiseDistances, type RowMatrix, toRowMatrix } from '../clustering/points.js';
import { assertSeed, deriveSeed } from '../random.js';
import { type Partition, partitionOf, sizesDescending, totalDistanceSum } from './partition.js';
import {
  drawNullDistribution,
  type NullDistribution,
  partitionDistances,
  permutationPValue,
  type ReferenceSpace,
  sampleStandardDeviation,
} from './permutation.js';
import { partitionPurity, referenceClassesOf } from './purity.js';
import {
  type Clustering,
  type ClusteringMethod,
  EVALUATION_METHODS,
  type EvaluationOptions,
  type EvaluationRow,
  type NeuronEvaluation,
  type NeuronEvaluationInput,
  type NeuronIdentity,
  type VirtualNeuronEvaluationRow,
} from './types.js';
import { virtualNeuronRows } from './virtual-neurons.js';

/** Defaults applied and checked before any work. */
export function evaluationSettings(options: EvaluationOptions): { seed: number; randomSamples: number } {
  const { seed = 0, randomSamples = 100 } = options;
  assertSeed(seed);
  // Two draws at least: the null's standard deviation needs them.
  if (!Number.isInteger(randomSamples) || randomSamples < 2)
    throw new Error(`randomSamples must be an integer >= 2, got ${randomSamples}`);
  return { seed, randomSamples };
}

/** FNV-1a over the UTF-16 code units: a stable 32-bit number for a layer name. */
function stringHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** The neuron's root seed: its identity mixed in, so neurons draw unrelated permutation streams. */
export function neuronSeed(seed: number, neuron: NeuronIdentity | undefined): number {
  if (neuron === undefined) return seed;
  return deriveSeed(deriveSeed(seed, stringHash(neuron.layer)), neuron.neuron);
}

/** The stream of one (method, count): independent of which other methods and counts are evaluated. */
function drawSeed(rootSeed: number, method: ClusteringMethod, nClusters: number): number {
  return deriveSeed(deriveSeed(rootSeed, EVALUATION_METHODS.indexOf(method)), nClusters);
}

/** Given clusterings, checked against the references and in row order (method, then count). */
function checkedClusterings(input: NeuronEvaluationInput, referenceCount: number): Clustering[] {
  const seen = new Set<string>();
  for (const { method, nClusters, labels } of input.clusterings) {
    const name = `${method} k = ${nClusters}`;
    if (method !== 'pure' && method !== 'activation') throw new Error(`unknown method ${method}`);
    if (!Number.isInteger(nClusters) || nClusters < 1) throw new Error(`${name}: bad cluster count`);
    if (seen.has(name)) throw new Error(`${name} is given twice`);
    seen.add(name);
    if (labels.length !== referenceCount)
      throw new Error(`${name}: ${labels.length} labels for ${referenceCount} references`);
    const count = partitionOf(labels).count;
    if (count > nClusters) throw new Error(`${name}: labels name ${count} clusters`);
  }
  const order = (method: ClusteringMethod) => EVALUATION_METHODS.indexOf(method);
  return [...input.clusterings].sort(
    (a, b) => order(a.method) - order(b.method) || a.nClusters - b.nClusters,
  );
}

/** k-means on the embeddings themselves at every count the other methods have: the best a split can do. */
function embeddingClusterings(matrix: RowMatrix, counts: readonly number[], seed: number): Clustering[] {
  if (counts.length === 0) return [];
  const prepared = preparePoints(matrix);
  return counts.map((nClusters) => ({
    method: 'embedding',
    nClusters,
    labels: kmeansPrepared(prepared, nClusters, { seed }).labels,
  }));
}

/** The row of a method with its own labels, tested against permutations of those labels. */
function methodRow(
  space: ReferenceSpace,
  clustering: Clustering,
  partition: Partition,
  draws: NullDistribution,
): EvaluationRow {
  const { inner, inter } = clusterDistancesFromMatrix(space.distances, clustering.labels);
  const nullInnerMean = mean(draws.inner);
  const classes = space.classes;
  return {
    method: clustering.method,
    nClusters: clustering.nClusters,
    inner,
    inter,
    // From the one sum over all pairs, so every method's row carries the same value to the last bit.
    overall: space.totalSum / ((space.size * (space.size - 1)) / 2),
    clusterSizes: sizesDescending(partition),
    labelPurity: classes === null ? null : partitionPurity(classes, partition.ids, partition.count),
    nullInnerMean,
    nullInnerSd: sampleStandardDeviation(draws.inner),
    coherenceGain: 1 - inner / nullInnerMean,
    // The observed inner in the draws' own summation, so an identical partition compares equal.
    pValue: permutationPValue(draws.inner, partitionDistances(space, partition).inner),
  };
}

/**
 * The random method: pure's permutation draws themselves, averaged. Its inner is pure's nullInnerMean,
 * its null fields describe its own draws (mean = inner, sd = the spread of one random split), so its
 * gain is 0 by construction; it has no single observed partition, hence no p-value.
 */
function randomRow(pureRow: EvaluationRow, draws: NullDistribution): EvaluationRow {
  const inner = mean(draws.inner);
  return {
    method: 'random',
    nClusters: pureRow.nClusters,
    inner,
    inter: mean(draws.inter),
    // Label-free: the same pairs as pure's, and the same sizes.
    overall: pureRow.overall,
    clusterSizes: Int32Array.from(pureRow.clusterSizes),
    labelPurity: draws.purity === null ? null : mean(draws.purity),
    nullInnerMean: inner,
    nullInnerSd: sampleStandardDeviation(draws.inner),
    coherenceGain: 1 - inner / inner,
    pValue: null,
  };
}

/** Evaluation and virtual-neuron rows of one neuron (rows: pure, activation, embedding, random; k ascending). */
export function evaluateNeuron(
  input: NeuronEvaluationInput,
  options: EvaluationOptions = {},
): NeuronEvaluation {
  const settings = evaluationSettings(options);
  const matrix = toRowMatrix(input.embeddings);
  const n = matrix.rows;
  if (n < 2) throw new Error(`the evaluation needs at least two references, got ${n}`);
  const given = checkedClusterings(input, n);
  const distances = pairwiseDistances(matrix);
  const classes = referenceClassesOf(input.classLabels, n);
  const space: ReferenceSpace = { size: n, distances, totalSum: totalDistanceSum(distances, n), classes };
  const counts = [...new Set(given.map((c) => c.nClusters))].sort((a, b) => a - b);
  const clusterings = [...given, ...embeddingClusterings(matrix, counts, settings.seed)];
  const root = neuronSeed(settings.seed, input.neuron);
  const evaluations: EvaluationRow[] = [];
  const randomRows: EvaluationRow[] = [];
  const virtualNeurons: VirtualNeuronEvaluationRow[] = [];
  for (const clustering of clusterings) {
    const partition = partitionOf(clustering.labels);
    const seed = drawSeed(root, clustering.method, clustering.nClusters);
    const draws = drawNullDistribution(space, partition, settings.randomSamples, seed);
    const row = methodRow(space, clustering, partition, draws);
    evaluations.push(row);
    virtualNeurons.push(...virtualNeuronRows(space, clustering, partition));
    if (clustering.method === 'pure') randomRows.push(randomRow(row, draws));
  }
  return { evaluations: [...evaluations, ...randomRows], virtualNeurons };
}
