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
    doc: "Max over space of the neuron's activation map on this sample (over tokens for a token layer).",
  },
  {
    name: 'h',
    kind: 'int32',
    field: 'h',
    doc: "Arg-max row in the layer's activation map (0 for a token layer).",
  },
  {
    name: 'w',
    kind: 'int32',
    field: 'w',
    doc: "Arg-max column in the layer's activation map (the token index for a token layer).",
  },
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
    doc: 'Mean over space (or tokens) of ReLU(a_L) per channel of L (length: its channel count).',
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
  {
    name: 'best_count',
    kind: 'int32',
    field: 'bestCount',
    doc: 'The candidate count with the best silhouette: what the neuron is split into if it is split (0: none fits).',
  },
  {
    name: 'evidence',
    kind: 'float32',
    field: 'evidence',
    doc: 'max over candidates of the evidence against one Gaussian cloud, in null standard deviations (docs/clustering.md).',
  },
  {
    name: 'candidate_evidence',
    kind: 'float32[]',
    field: 'candidateEvidence',
    doc: 'The evidence of each candidate count (index as silhouettes).',
  },
  {
    name: 'candidate_polysemanticity',
    kind: 'float32[]',
    field: 'candidatePolysemanticity',
    doc: 'P of each candidate count (index as silhouettes).',
  },
  {
    name: 'evidence_threshold',
    kind: 'float32',
    field: 'evidenceThreshold',
    doc: 'The evidence a split needed in this run.',
  },
  {
    name: 'polysemanticity_threshold',
    kind: 'float32',
    field: 'polysemanticityThreshold',
    doc: 'The polysemanticity a split needed in this run.',
  },
  {
    name: 'coherence_gain',
    kind: 'float32',
    field: 'coherenceGain',
    nullable: true,
    doc: "With an evaluator: the PURE split's coherence gain at best_count in the encoder's space (as evaluation).",
  },
  {
    name: 'coherence_p_value',
    kind: 'float32',
    field: 'coherencePValue',
    nullable: true,
    doc: 'Its permutation p-value; null without an evaluator.',
  },
  {
    name: 'verdict_by',
    kind: 'utf8',
    field: 'verdictBy',
    values: ['circuits', 'evaluation'],
    doc: 'What decided n_clusters: the circuit gates alone, or the coherence of the PURE split (with an evaluator).',
  },
  {
    name: 'decision',
    kind: 'utf8',
    field: 'decision',
    doc: 'Why the neuron was or was not split, in words, e.g. "split in 2: evidence 6.1 >= 4, P 0.55 >= 0.5".',
  },
]);
/** One row of {@link neuronsSchema}. */
export type NeuronRow = TableRow<typeof neuronsSchema>;

/**
 * The crops table (step 4): for every reference of every explained neuron, the part of the image the
 * neuron looks at, as the authors crop the images they embed (docs/design.md "Feature visualisation").
 */
export const cropsSchema = defineTable('crops', [
  { name: 'layer', kind: 'utf8', field: 'layer', doc: "The neuron's layer." },
  { name: 'neuron', kind: 'int32', field: 'neuron', doc: "The neuron's channel." },
  { name: 'rank', kind: 'int32', field: 'rank', doc: "The reference's rank (as in references)." },
  { name: 'sample_index', kind: 'int32', field: 'sampleIndex', doc: 'The reference image.' },
  { name: 'sample_id', kind: 'utf8', field: 'sampleId', doc: "The reference image's path." },
  {
    name: 'x0',
    kind: 'int32',
    field: 'x0',
    doc: "First column of the crop, in the model input's pixels (after resize and centre crop).",
  },
  { name: 'y0', kind: 'int32', field: 'y0', doc: 'First row of the crop.' },
  { name: 'x1', kind: 'int32', field: 'x1', doc: 'Column after the last one (half-open box).' },
  { name: 'y1', kind: 'int32', field: 'y1', doc: 'Row after the last one (half-open box).' },
  {
    name: 'cropped',
    kind: 'int32',
    field: 'cropped',
    doc: '1 if cropped; 0 where the authors fall back to the whole image (no heat, or nothing kept in the box).',
  },
  {
    name: 'heat_max',
    kind: 'float32',
    field: 'heatMax',
    doc: "Max |blurred heat| of the neuron's arg-max heatmap (EpsilonPlusFlat, relevance units).",
  },
  {
    name: 'heat_inside',
    kind: 'float32',
    field: 'heatInside',
    doc: 'Share of the |blurred heat| that lies inside the box.',
  },
]);
/** One row of {@link cropsSchema}. */
export type CropRow = TableRow<typeof cropsSchema>;

/** The embeddings table (step 5): each crop of `crops` through the run's evaluator (image encoder). */
export const embeddingsSchema = defineTable('embeddings', [
  { name: 'layer', kind: 'utf8', field: 'layer', doc: "The neuron's layer." },
  { name: 'neuron', kind: 'int32', field: 'neuron', doc: "The neuron's channel." },
  { name: 'rank', kind: 'int32', field: 'rank', doc: "The reference's rank." },
  { name: 'sample_index', kind: 'int32', field: 'sampleIndex', doc: 'The reference image.' },
  {
    name: 'embedding',
    kind: 'float32[]',
    field: 'embedding',
    doc: "The encoder's embedding of the crop (its --evaluator-output, pooled over tokens or space).",
  },
]);
/** One row of {@link embeddingsSchema}. */
export type EmbeddingRow = TableRow<typeof embeddingsSchema>;

/**
 * The evaluation table (step 5): per neuron, method and cluster count, how close a virtual neuron's crops
 * are in the encoder's space (inner) and how far apart different virtual neurons' are (inter).
 */
export const evaluationSchema = defineTable('evaluation', [
  { name: 'layer', kind: 'utf8', field: 'layer', doc: "The neuron's layer." },
  { name: 'neuron', kind: 'int32', field: 'neuron', doc: "The neuron's channel." },
  {
    name: 'method',
    kind: 'utf8',
    field: 'method',
    values: ['pure', 'activation', 'embedding', 'random'],
    doc: 'pure, activation, embedding (k-means on the embeddings: the upper bound) or random (partitions of the sizes of pure: the null).',
  },
  { name: 'n_clusters', kind: 'int32', field: 'nClusters', doc: 'The cluster count.' },
  {
    name: 'inner',
    kind: 'float32',
    field: 'inner',
    doc: 'Mean Euclidean distance over pairs of crops in the same cluster (lower is better).',
  },
  {
    name: 'inter',
    kind: 'float32',
    field: 'inter',
    doc: 'Mean distance over pairs in different clusters (higher is better).',
  },
  { name: 'overall', kind: 'float32', field: 'overall', doc: 'Mean distance over all pairs.' },
  {
    name: 'label_purity',
    kind: 'float32',
    field: 'labelPurity',
    nullable: true,
    doc: "Share of references whose class is their cluster's majority class; null without class labels.",
  },
  {
    name: 'null_inner_mean',
    kind: 'float32',
    field: 'nullInnerMean',
    nullable: true,
    doc: "Mean inner distance of random partitions of this clustering's cluster sizes.",
  },
  {
    name: 'null_inner_sd',
    kind: 'float32',
    field: 'nullInnerSd',
    nullable: true,
    doc: 'Their standard deviation.',
  },
  {
    name: 'coherence_gain',
    kind: 'float32',
    field: 'coherenceGain',
    nullable: true,
    doc: '1 - inner / null_inner_mean: how much tighter the clusters are than chance (0 = not at all).',
  },
  {
    name: 'p_value',
    kind: 'float32',
    field: 'pValue',
    nullable: true,
    doc: 'One-sided permutation p-value of inner against those random partitions.',
  },
]);
/** One row of {@link evaluationSchema}. */
export type EvaluationRow = TableRow<typeof evaluationSchema>;

/** The virtual_neurons table (step 5): each cluster of each clustering, with its size and label purity. */
export const virtualNeuronsSchema = defineTable('virtual_neurons', [
  { name: 'layer', kind: 'utf8', field: 'layer', doc: "The neuron's layer." },
  { name: 'neuron', kind: 'int32', field: 'neuron', doc: "The neuron's channel." },
  {
    name: 'method',
    kind: 'utf8',
    field: 'method',
    values: ['pure', 'activation', 'embedding'],
    doc: 'Which clustering.',
  },
  { name: 'n_clusters', kind: 'int32', field: 'nClusters', doc: 'The cluster count.' },
  { name: 'cluster', kind: 'int32', field: 'cluster', doc: 'The virtual neuron (as in clusters).' },
  { name: 'size', kind: 'int32', field: 'size', doc: 'Its reference images.' },
  {
    name: 'inner',
    kind: 'float32',
    field: 'inner',
    nullable: true,
    doc: 'Mean distance between its crops in the encoder space; null for a single image.',
  },
  {
    name: 'majority_label',
    kind: 'utf8',
    field: 'majorityLabel',
    nullable: true,
    doc: 'Its most frequent class; null without labels.',
  },
  {
    name: 'label_purity',
    kind: 'float32',
    field: 'labelPurity',
    nullable: true,
    doc: 'Share of its images of that class.',
  },
]);
/** One row of {@link virtualNeuronsSchema}. */
export type VirtualNeuronRow = TableRow<typeof virtualNeuronsSchema>;

/**
 * The centroids table of `pure assign` (docs/outputs.md, "Assigning new images"): each virtual neuron of
 * a neuron at the count the images are assigned at, as the mean of its references' circuit vectors.
 */
export const centroidsSchema = defineTable('centroids', [
  { name: 'layer', kind: 'utf8', field: 'layer', doc: "The neuron's layer." },
  { name: 'lower_layer', kind: 'utf8', field: 'lowerLayer', doc: 'The layer its circuits run over.' },
  { name: 'neuron', kind: 'int32', field: 'neuron', doc: "The neuron's channel." },
  {
    name: 'n_clusters',
    kind: 'int32',
    field: 'nClusters',
    doc: 'The count of virtual neurons images are assigned among (1: the neuron is kept whole).',
  },
  { name: 'cluster', kind: 'int32', field: 'cluster', doc: 'The virtual neuron (as in clusters).' },
  { name: 'size', kind: 'int32', field: 'size', doc: 'Its reference images.' },
  {
    name: 'mean_distance',
    kind: 'float32',
    field: 'meanDistance',
    doc: "Mean Euclidean distance of its references' circuits to the centroid: how far a typical member lies.",
  },
  {
    name: 'centroid',
    kind: 'float32[]',
    field: 'centroid',
    doc: "Mean of its references' circuit vectors (length: channels of the lower layer).",
  },
]);
/** One row of {@link centroidsSchema}. */
export type CentroidRow = TableRow<typeof centroidsSchema>;

/**
 * The assignments table of `pure assign`: for a new image and an explained neuron, the neuron's
 * activation and the virtual neuron whose centroid is nearest to the image's circuit vector.
 */
export const assignmentsSchema = defineTable('assignments', [
  { name: 'layer', kind: 'utf8', field: 'layer', doc: "The neuron's layer." },
  { name: 'neuron', kind: 'int32', field: 'neuron', doc: "The neuron's channel." },
  {
    name: 'sample_index',
    kind: 'int32',
    field: 'sampleIndex',
    doc: "The image's position in this assignment's samples (sorted by id).",
  },
  {
    name: 'sample_id',
    kind: 'utf8',
    field: 'sampleId',
    doc: 'Path of the image relative to the images root.',
  },
  {
    name: 'sample_uri',
    kind: 'utf8',
    field: 'sampleUri',
    doc: 'Absolute path of a local image, or its s3:// URI.',
  },
  { name: 'label', kind: 'utf8', field: 'label', nullable: true, doc: 'Class sub-folder, or null.' },
  {
    name: 'activation',
    kind: 'float32',
    field: 'activation',
    doc: "Max over space of the neuron's activation map on the image (as references.value).",
  },
  {
    name: 'n_clusters',
    kind: 'int32',
    field: 'nClusters',
    doc: 'How many virtual neurons the image was assigned among (1: the neuron is kept whole).',
  },
  {
    name: 'virtual_neuron',
    kind: 'int32',
    field: 'virtualNeuron',
    nullable: true,
    doc: 'The virtual neuron (cluster id, as in clusters) with the nearest centroid; null when not assigned (activation <= the minimum: its circuit is zero).',
  },
  {
    name: 'distance',
    kind: 'float32',
    field: 'distance',
    nullable: true,
    doc: 'Euclidean distance of the circuit vector to that centroid (compare centroids.mean_distance).',
  },
  {
    name: 'margin',
    kind: 'float32',
    field: 'margin',
    nullable: true,
    doc: 'Distance to the second-nearest centroid minus distance; null with one virtual neuron or when not assigned.',
  },
]);
/** One row of {@link assignmentsSchema}. */
export type AssignmentRow = TableRow<typeof assignmentsSchema>;

/** The two runs a comparison row belongs to: every compare table starts with them (unioned comparisons stay apart). */
const COMPARED_RUNS = [
  {
    name: 'run_a',
    kind: 'utf8',
    field: 'runA',
    doc: 'Run A, the earlier one: <out>/<run> (a path or s3:// URI).',
  },
  { name: 'run_b', kind: 'utf8', field: 'runB', doc: 'Run B, the one compared with A.' },
] as const;

/**
 * The compare table (`pure compare A B`): per neuron of a layer both runs explain, what changed from run A
 * to run B: its references, their activation level, its cluster count, its circuits (docs/outputs.md).
 */
export const compareSchema = defineTable('compare', [
  ...COMPARED_RUNS,
  { name: 'layer', kind: 'utf8', field: 'layer', doc: "The neuron's layer." },
  { name: 'neuron', kind: 'int32', field: 'neuron', doc: "The neuron's channel." },
  {
    name: 'lower_layer',
    kind: 'utf8',
    field: 'lowerLayer',
    nullable: true,
    doc: 'The layer its circuits run over; null for the first layer (references only).',
  },
  {
    name: 'reference_jaccard',
    kind: 'float32',
    field: 'referenceJaccard',
    nullable: true,
    doc: 'Jaccard index of the two sets of reference images; null when the runs saw different images.',
  },
  {
    name: 'reference_overlap',
    kind: 'float32',
    field: 'referenceOverlap',
    nullable: true,
    doc: 'Rank-weighted overlap (mean over depths d of the shared share of the top d); null as reference_jaccard.',
  },
  {
    name: 'value_ratio',
    kind: 'float32',
    field: 'valueRatio',
    nullable: true,
    doc: "Mean reference value in B / in A: how the neuron's activation level moved; null as reference_jaccard.",
  },
  {
    name: 'n_clusters_a',
    kind: 'int32',
    field: 'nClustersA',
    nullable: true,
    doc: 'Its automatic cluster count in A; null where circuits are not compared.',
  },
  { name: 'n_clusters_b', kind: 'int32', field: 'nClustersB', nullable: true, doc: 'The same in B.' },
  {
    name: 'mean_circuit_cosine',
    kind: 'float32',
    field: 'meanCircuitCosine',
    nullable: true,
    doc: 'Cosine of its mean circuit vectors (over all references) in A and B; null where circuits are not compared.',
  },
  {
    name: 'matched_similarity',
    kind: 'float32',
    field: 'matchedSimilarity',
    nullable: true,
    doc: 'The smallest centroid cosine over its virtual neurons matched across the runs (compare_virtual_neurons).',
  },
  {
    name: 'changed',
    kind: 'int32',
    field: 'changed',
    doc: '1 if any measure reached its threshold, else 0.',
  },
  {
    name: 'reasons',
    kind: 'utf8',
    field: 'reasons',
    doc: "What changed, comma-separated from references, values, count, circuits; '' when unchanged.",
  },
  {
    name: 'severity',
    kind: 'float32',
    field: 'severity',
    doc: "The largest measure's change over its threshold: >= 1 iff changed, 0 when identical.",
  },
]);
/** One row of {@link compareSchema}. */
export type CompareRow = TableRow<typeof compareSchema>;

/** The compare_virtual_neurons table: a neuron's virtual neurons in A matched to those in B. */
export const compareVirtualNeuronsSchema = defineTable('compare_virtual_neurons', [
  ...COMPARED_RUNS,
  { name: 'layer', kind: 'utf8', field: 'layer', doc: "The neuron's layer." },
  { name: 'neuron', kind: 'int32', field: 'neuron', doc: "The neuron's channel." },
  {
    name: 'cluster_a',
    kind: 'int32',
    field: 'clusterA',
    nullable: true,
    doc: "The virtual neuron in A (its PURE cluster at A's n_clusters); null for one of B left unmatched.",
  },
  {
    name: 'cluster_b',
    kind: 'int32',
    field: 'clusterB',
    nullable: true,
    doc: 'Its match in B; null if none.',
  },
  { name: 'size_a', kind: 'int32', field: 'sizeA', nullable: true, doc: 'Reference images of the one in A.' },
  { name: 'size_b', kind: 'int32', field: 'sizeB', nullable: true, doc: 'Reference images of the one in B.' },
  {
    name: 'similarity',
    kind: 'float32',
    field: 'similarity',
    nullable: true,
    doc: 'Cosine of the two centroids (mean circuit vectors); null when unmatched.',
  },
  {
    name: 'member_jaccard',
    kind: 'float32',
    field: 'memberJaccard',
    nullable: true,
    doc: 'Jaccard index of their reference images; null when unmatched or the runs saw different images.',
  },
]);
/** One row of {@link compareVirtualNeuronsSchema}. */
export type CompareVirtualNeuronRow = TableRow<typeof compareVirtualNeuronsSchema>;
