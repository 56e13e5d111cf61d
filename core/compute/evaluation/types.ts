/** Inputs and rows of the evaluation (docs/design.md step 5); field names are the tables' camelCase fields. */
import type { Labels } from '../clustering/labels.js';
import type { PointsInput } from '../clustering/points.js';

/** Clusterings computed upstream (step 3): k-means on circuit vectors, and on activation features. */
export type GivenMethod = 'pure' | 'activation';
/** Methods with labels of their own; `embedding` is k-means on the embeddings, the upper bound. */
export type ClusteringMethod = GivenMethod | 'embedding';
/** `random`: random splits with the cluster sizes of `pure`, the chance level. */
export type EvaluationMethod = ClusteringMethod | 'random';

/** Row order of {@link NeuronEvaluation.evaluations}, and the stream number of each method's draws. */
export const EVALUATION_METHODS: readonly EvaluationMethod[] = ['pure', 'activation', 'embedding', 'random'];

/** One labelling of the neuron's references. */
export interface GivenClustering {
  readonly method: GivenMethod;
  readonly nClusters: number;
  /** Cluster of each reference, in the order of the embeddings' rows. */
  readonly labels: Labels;
}

/** A labelling of the references by one method at one count, given or computed by k-means here. */
export interface Clustering {
  readonly method: ClusteringMethod;
  readonly nClusters: number;
  readonly labels: Labels;
}

/** Which neuron: mixed into the permutation seed so neurons get independent draws. */
export interface NeuronIdentity {
  readonly layer: string;
  readonly neuron: number;
}

export interface NeuronEvaluationInput {
  /** n x D embeddings of the neuron's reference crops (an image encoder such as CLIP), one row each. */
  readonly embeddings: PointsInput;
  /** Labels per (method, nClusters); counts the neuron has too few references for are simply absent. */
  readonly clusterings: readonly GivenClustering[];
  /** Class of each reference (null: unknown); omit when the dataset has no classes. */
  readonly classLabels?: readonly (string | null)[];
  readonly neuron?: NeuronIdentity;
}

export interface EvaluationOptions {
  /** Seed of k-means on the embeddings (as the other methods', default 0) and root of the permutation seeds. */
  readonly seed?: number;
  /** Random same-size partitions per (method, nClusters): the random method and each null (default 100). */
  readonly randomSamples?: number;
}

/** How coherent one method's clusters are in embedding space, for one cluster count. */
export interface EvaluationRow {
  readonly method: EvaluationMethod;
  readonly nClusters: number;
  /** Mean distance over pairs in the same cluster (pooled over pairs, as clusterDistancesFromMatrix). */
  readonly inner: number;
  /** Mean distance over pairs in different clusters. */
  readonly inter: number;
  /** Mean distance over all pairs: the same for every method, the scale of the neuron's references. */
  readonly overall: number;
  /** Sizes of the non-empty clusters, largest first. */
  readonly clusterSizes: Int32Array;
  /** Share of labelled references in their cluster's majority class; null without classes. */
  readonly labelPurity: number | null;
  /** Mean inner distance of random permutations of this method's labels (same sizes). */
  readonly nullInnerMean: number;
  /** Their sample standard deviation. */
  readonly nullInnerSd: number;
  /** 1 - inner / nullInnerMean: the share of chance-level within-cluster distance removed; > 0 = coherent. */
  readonly coherenceGain: number;
  /** One-sided permutation p-value of inner; null for `random`, which has no observed partition. */
  readonly pValue: number | null;
}

/** One virtual neuron (a cluster of one method at one count). */
export interface VirtualNeuronEvaluationRow {
  readonly method: ClusteringMethod;
  readonly nClusters: number;
  /** The cluster's label as given (k-means numbers clusters 0..k-1 by first appearance). */
  readonly cluster: number;
  readonly size: number;
  /** Mean pairwise distance inside the cluster; NaN for a single reference. */
  readonly inner: number;
  readonly majorityLabel: string | null;
  /** Share of the cluster's labelled references in its majority class; null when none has a class. */
  readonly labelPurity: number | null;
}

export interface NeuronEvaluation {
  readonly evaluations: EvaluationRow[];
  readonly virtualNeurons: VirtualNeuronEvaluationRow[];
}
