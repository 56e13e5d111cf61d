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
