import { defineTable, type TableRow } from './schema.js';

/**
 * The references table: one row per `rank`-th strongest activation of neuron (layer, neuron) over the
 * dataset (ActMax, step 1 of PURE). Column names are the Parquet schema (docs/outputs.md).
 */
export const referencesSchema = defineTable('references', [
  { name: 'layer', kind: 'utf8', field: 'layer', doc: 'Tensor name of the layer.' },
  { name: 'neuron', kind: 'int32', field: 'neuron', doc: 'Channel index.' },
  { name: 'rank', kind: 'int32', field: 'rank', doc: '1 = largest value.' },
  {
    name: 'sample_index',
    kind: 'int32',
    field: 'sampleIndex',
    doc: "Index into the run's sample manifest (stable: samples sorted by id).",
  },
  {
    name: 'sample_id',
    kind: 'utf8',
    field: 'sampleId',
    doc: 'Path of the image relative to the dataset root.',
  },
  {
    name: 'sample_uri',
    kind: 'utf8',
    field: 'sampleUri',
    doc: 'Absolute path of a local image, or its s3:// URI.',
  },
  {
    name: 'label',
    kind: 'utf8',
    field: 'label',
    nullable: true,
    doc: 'Class sub-folder name, null for a flat folder.',
  },
  {
    name: 'value',
    kind: 'float32',
    field: 'value',
    doc: "Max over space of the neuron's activation map on this sample.",
  },
  {
    name: 'h',
    kind: 'int32',
    field: 'h',
    doc: "Arg-max row in the layer's activation map.",
  },
  { name: 'w', kind: 'int32', field: 'w', doc: "Arg-max column in the layer's activation map." },
]);
/** One row of {@link referencesSchema}. */
export type ReferenceRow = TableRow<typeof referencesSchema>;

/** The samples table: one image of the dataset, in the order every stage uses (sorted by id). */
export const samplesSchema = defineTable('samples', [
  {
    name: 'sample_index',
    kind: 'int32',
    field: 'sampleIndex',
    doc: '0-based position; images sorted by id, then --limit applied (evenly spaced).',
  },
  { name: 'sample_id', kind: 'utf8', field: 'sampleId', doc: 'Path relative to the dataset root.' },
  {
    name: 'sample_uri',
    kind: 'utf8',
    field: 'sampleUri',
    doc: 'Absolute path of a local image, or its s3:// URI.',
  },
  { name: 'label', kind: 'utf8', field: 'label', nullable: true, doc: 'Class sub-folder, or null.' },
]);
/** One row of {@link samplesSchema}. */
export type SampleRow = TableRow<typeof samplesSchema>;

/** The skipped table: a sample a stage could not use (corrupt or unreadable image): recorded, never fatal. */
export const skippedSchema = defineTable('skipped', [
  { name: 'stage', kind: 'utf8', field: 'stage', doc: 'The stage that skipped it, e.g. references.' },
  { name: 'sample_index', kind: 'int32', field: 'sampleIndex', doc: 'Which image: its position in samples.' },
  { name: 'sample_id', kind: 'utf8', field: 'sampleId', doc: 'Which image: its path.' },
  { name: 'error', kind: 'utf8', field: 'error', doc: 'What went wrong.' },
]);
/** One row of {@link skippedSchema}. */
export type SkippedRow = TableRow<typeof skippedSchema>;

/**
 * The relevance table: one reference image's circuit for neuron (layer, neuron), R over the channels of
 * `lowerLayer` (step 2).
 */
export const relevanceSchema = defineTable('relevance', [
  { name: 'layer', kind: 'utf8', field: 'layer', doc: "L, the neuron's layer." },
  {
    name: 'lower_layer',
    kind: 'utf8',
    field: 'lowerLayer',
    doc: "L', the layer before L in --layers: the circuit runs over its channels.",
  },
  { name: 'neuron', kind: 'int32', field: 'neuron', doc: 'Channel c of L.' },
  { name: 'rank', kind: 'int32', field: 'rank', doc: "The reference's rank (as in references)." },
  { name: 'sample_index', kind: 'int32', field: 'sampleIndex', doc: 'The reference image.' },
  { name: 'sample_id', kind: 'utf8', field: 'sampleId', doc: "The reference image's path." },
  {
    name: 'value',
    kind: 'float32',
    field: 'value',
    doc: "The neuron's reference value (max over space), as in references.",
  },
  {
    name: 'relevance',
    kind: 'float32[]',
    field: 'relevance',
    doc: "R_j, j over the lower layer's channels; sum |R_j| = 1 (all zero if the neuron is dead on the image).",
  },
]);
/** One row of {@link relevanceSchema}. */
export type RelevanceRow = TableRow<typeof relevanceSchema>;

/**
 * The activations table: the Activation baseline's features of one image at one layer, mean over space
 * of ReLU(a_L), all channels.
 */
export const activationFeaturesSchema = defineTable('activation_features', [
  { name: 'layer', kind: 'utf8', field: 'layer', doc: 'L.' },
  { name: 'sample_index', kind: 'int32', field: 'sampleIndex', doc: 'The image.' },
  {
    name: 'features',
    kind: 'float32[]',
    field: 'features',
    doc: 'Mean over space of ReLU(a_L) per channel of L (length: its channel count).',
  },
]);
/** One row of {@link activationFeaturesSchema}. */
export type ActivationFeaturesRow = TableRow<typeof activationFeaturesSchema>;

/** The clusters table: which virtual neuron (cluster) a reference image belongs to, per method and count (step 3). */
export const clustersSchema = defineTable('clusters', [
  { name: 'layer', kind: 'utf8', field: 'layer', doc: "The neuron's layer." },
  { name: 'neuron', kind: 'int32', field: 'neuron', doc: "The neuron's channel." },
  {
    name: 'method',
    kind: 'utf8',
    field: 'method',
    values: ['pure', 'activation'],
    doc: 'pure (clustered circuits) or activation (clustered baseline features).',
  },
  { name: 'n_clusters', kind: 'int32', field: 'nClusters', doc: 'The cluster count of this clustering.' },
  { name: 'rank', kind: 'int32', field: 'rank', doc: "The reference image's rank." },
  { name: 'sample_index', kind: 'int32', field: 'sampleIndex', doc: 'The reference image.' },
  { name: 'cluster', kind: 'int32', field: 'cluster', doc: '0..n_clusters-1: its virtual neuron.' },
]);
/** One row of {@link clustersSchema}. */
export type ClusterRow = TableRow<typeof clustersSchema>;

export type ClusterMethod = ClusterRow['method'];

/** The neurons table: per neuron, the chosen number of virtual neurons and how polysemantic it is. */
export const neuronsSchema = defineTable('neurons', [
  { name: 'layer', kind: 'utf8', field: 'layer', doc: "The neuron's layer." },
  {
    name: 'lower_layer',
    kind: 'utf8',
    field: 'lowerLayer',
    doc: 'The layer its circuits run over.',
  },
  { name: 'neuron', kind: 'int32', field: 'neuron', doc: "The neuron's channel." },
  {
    name: 'n_clusters',
    kind: 'int32',
    field: 'nClusters',
    doc: 'Automatic choice over the candidate counts; 1 = monosemantic.',
  },
  {
    name: 'polysemanticity',
    kind: 'float32',
    field: 'polysemanticity',
    doc: '0..1, comparable across neurons and layers (docs/clustering.md).',
  },
  {
    name: 'silhouettes',
    kind: 'float32[]',
    field: 'silhouettes',
    doc: 'Silhouette of the PURE clustering for each candidate count (index 0 = the smallest count >= 2).',
  },
  {
    name: 'activation_silhouettes',
    kind: 'float32[]',
    field: 'activationSilhouettes',
    doc: 'Same for the Activation baseline.',
  },
  {
    name: 'references',
    kind: 'int32',
    field: 'references',
    doc: 'Reference images used (k, fewer if some could not be decoded).',
  },
]);
/** One row of {@link neuronsSchema}. */
export type NeuronRow = TableRow<typeof neuronsSchema>;
