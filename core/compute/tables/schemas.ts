import { defineTable } from './schema.js';

/**
 * One row of the references table: the `rank`-th strongest activation of neuron (layer, neuron)
 * over the dataset (ActMax, step 1 of PURE). Column names are the Parquet schema (docs/outputs.md).
 */
export interface ReferenceRow {
  layer: string;
  neuron: number;
  /** 1 = largest value. */
  rank: number;
  /** Index into the run's sample manifest (stable: samples sorted by id). */
  sampleIndex: number;
  sampleId: string;
  sampleUri: string;
  label: string | null;
  /** Max over space of the neuron's activation map on this sample. */
  value: number;
  /** Arg-max position (row, column) in the layer's activation map. */
  h: number;
  w: number;
}

export const referencesSchema = defineTable<ReferenceRow>('references', [
  { name: 'layer', kind: 'utf8', field: 'layer' },
  { name: 'neuron', kind: 'int32', field: 'neuron' },
  { name: 'rank', kind: 'int32', field: 'rank' },
  { name: 'sample_index', kind: 'int32', field: 'sampleIndex' },
  { name: 'sample_id', kind: 'utf8', field: 'sampleId' },
  { name: 'sample_uri', kind: 'utf8', field: 'sampleUri' },
  { name: 'label', kind: 'utf8', field: 'label', nullable: true },
  { name: 'value', kind: 'float32', field: 'value' },
  { name: 'h', kind: 'int32', field: 'h' },
  { name: 'w', kind: 'int32', field: 'w' },
]);

/** One image of the dataset, in the order every stage uses (sorted by id). */
export interface SampleRow {
  sampleIndex: number;
  sampleId: string;
  sampleUri: string;
  label: string | null;
}

export const samplesSchema = defineTable<SampleRow>('samples', [
  { name: 'sample_index', kind: 'int32', field: 'sampleIndex' },
  { name: 'sample_id', kind: 'utf8', field: 'sampleId' },
  { name: 'sample_uri', kind: 'utf8', field: 'sampleUri' },
  { name: 'label', kind: 'utf8', field: 'label', nullable: true },
]);

/** A sample a stage could not use (corrupt or unreadable image): skipped, recorded, never fatal. */
export interface SkippedRow {
  stage: string;
  sampleIndex: number;
  sampleId: string;
  error: string;
}

export const skippedSchema = defineTable<SkippedRow>('skipped', [
  { name: 'stage', kind: 'utf8', field: 'stage' },
  { name: 'sample_index', kind: 'int32', field: 'sampleIndex' },
  { name: 'sample_id', kind: 'utf8', field: 'sampleId' },
  { name: 'error', kind: 'utf8', field: 'error' },
]);

/** One reference image's circuit for neuron (layer, neuron): R over the channels of `lowerLayer` (step 2). */
export interface RelevanceRow {
  layer: string;
  lowerLayer: string;
  neuron: number;
  rank: number;
  sampleIndex: number;
  sampleId: string;
  /** The neuron's reference value (max over space), as in `references`. */
  value: number;
  /** R_j, j over the lower layer's channels; sum |R_j| = 1 (all zero if the neuron is dead on the image). */
  relevance: Float32Array;
}

export const relevanceSchema = defineTable<RelevanceRow>('relevance', [
  { name: 'layer', kind: 'utf8', field: 'layer' },
  { name: 'lower_layer', kind: 'utf8', field: 'lowerLayer' },
  { name: 'neuron', kind: 'int32', field: 'neuron' },
  { name: 'rank', kind: 'int32', field: 'rank' },
  { name: 'sample_index', kind: 'int32', field: 'sampleIndex' },
  { name: 'sample_id', kind: 'utf8', field: 'sampleId' },
  { name: 'value', kind: 'float32', field: 'value' },
  { name: 'relevance', kind: 'float32[]', field: 'relevance' },
]);

/** The Activation baseline's features of one image at one layer: mean over space of ReLU(a_L), all channels. */
export interface ActivationFeaturesRow {
  layer: string;
  sampleIndex: number;
  features: Float32Array;
}

export const activationFeaturesSchema = defineTable<ActivationFeaturesRow>('activation_features', [
  { name: 'layer', kind: 'utf8', field: 'layer' },
  { name: 'sample_index', kind: 'int32', field: 'sampleIndex' },
  { name: 'features', kind: 'float32[]', field: 'features' },
]);

export type ClusterMethod = 'pure' | 'activation';

/** Which virtual neuron (cluster) a reference image belongs to, per method and cluster count (step 3). */
export interface ClusterRow {
  layer: string;
  neuron: number;
  method: ClusterMethod;
  nClusters: number;
  rank: number;
  sampleIndex: number;
  cluster: number;
}

export const clustersSchema = defineTable<ClusterRow>('clusters', [
  { name: 'layer', kind: 'utf8', field: 'layer' },
  { name: 'neuron', kind: 'int32', field: 'neuron' },
  { name: 'method', kind: 'utf8', field: 'method' },
  { name: 'n_clusters', kind: 'int32', field: 'nClusters' },
  { name: 'rank', kind: 'int32', field: 'rank' },
  { name: 'sample_index', kind: 'int32', field: 'sampleIndex' },
  { name: 'cluster', kind: 'int32', field: 'cluster' },
]);

/** Per neuron: the chosen number of virtual neurons and how polysemantic it is. */
export interface NeuronRow {
  layer: string;
  lowerLayer: string;
  neuron: number;
  /** Automatic choice over the candidate counts; 1 = monosemantic. */
  nClusters: number;
  polysemanticity: number;
  /** Silhouette of the PURE clustering for each candidate count (index 0 = the smallest count >= 2). */
  silhouettes: Float32Array;
  /** Same for the Activation baseline. */
  activationSilhouettes: Float32Array;
  references: number;
}

export const neuronsSchema = defineTable<NeuronRow>('neurons', [
  { name: 'layer', kind: 'utf8', field: 'layer' },
  { name: 'lower_layer', kind: 'utf8', field: 'lowerLayer' },
  { name: 'neuron', kind: 'int32', field: 'neuron' },
  { name: 'n_clusters', kind: 'int32', field: 'nClusters' },
  { name: 'polysemanticity', kind: 'float32', field: 'polysemanticity' },
  { name: 'silhouettes', kind: 'float32[]', field: 'silhouettes' },
  { name: 'activation_silhouettes', kind: 'float32[]', field: 'activationSilhouettes' },
  { name: 'references', kind: 'int32', field: 'references' },
]);
