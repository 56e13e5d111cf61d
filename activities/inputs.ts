/**
 * The activities' inputs and results: what travels in Temporal payloads between workflows and workers.
 * URIs, names, ranges and counts only, never tensors (docs/design.md, "Workflows hold references").
 */

import type { AssignConfig } from '../core/compute/assign/config.js';
import type { LayerShape, NeuronRange, ShardRange, SweepConfig } from '../core/compute/run/config.js';
import type { AssignLayer, CentroidsResult } from '../core/stages/assign-setup.js';
import type { MergedLayer } from '../core/stages/references.js';

export type {
  AssignShardResult,
  AssignSummary,
} from '../core/stages/assign.js';
export type { CentroidsResult, PreparedAssign } from '../core/stages/assign-setup.js';
export type { CircuitsPart as CircuitsResult } from '../core/stages/circuits.js';
export type { PreviousComparison as ComparePreviousResult } from '../core/stages/compare-previous.js';
export type { CropsPart as CropsResult } from '../core/stages/crops.js';
export type { EmbeddingsPart as EmbeddingsResult } from '../core/stages/embeddings.js';
export type { EvaluationPart as EvaluationResult } from '../core/stages/evaluation.js';
export type {
  MergedLayer as MergeReferencesResult,
  PreparedSweep as PrepareSweepResult,
  ShardPart as ReferencesShardResult,
} from '../core/stages/references.js';
export type {
  LayerSummary,
  VirtualNeuronsPart as VirtualNeuronsResult,
} from '../core/stages/virtual-neurons.js';

export interface ReferencesShardInput {
  config: SweepConfig;
  shard: ShardRange;
}

/** Shards are not listed in payloads (they would outgrow Temporal's 2 MB at ~60k shards): counts are. */
export interface MergeReferencesInput {
  config: SweepConfig;
  layer: LayerShape;
  numSamples: number;
}

export interface FinishReferencesInput {
  config: SweepConfig;
  numSamples: number;
  merged: MergedLayer[];
}

export interface FinishReferencesResult {
  runUri: string;
  skipped: number;
  manifestKey: string;
}

export interface CircuitsInput {
  config: SweepConfig;
  lowerLayer: string;
  upperLayer: LayerShape;
  neurons: NeuronRange;
}

export interface VirtualNeuronsInput {
  config: SweepConfig;
  lowerLayer: string;
  layer: LayerShape;
  neurons: NeuronRange;
}

export interface FinishLayerInput {
  config: SweepConfig;
  lowerLayer: string;
  layer: LayerShape;
  batches: NeuronRange[];
}

/** A neuron batch of one layer, for the stages after the virtual neurons (crops, embeddings, evaluation). */
export interface CropsInput {
  config: SweepConfig;
  layer: LayerShape;
  neurons: NeuronRange;
}

/** A layer of `pure assign` whose centroids are computed. */
export interface AssignCentroidsInput {
  config: AssignConfig;
  layer: AssignLayer;
}

/** A shard of `pure assign`'s images; shards follow from the image count (shardRanges), as the sweep's. */
export interface AssignShardInput {
  config: AssignConfig;
  layers: AssignLayer[];
  shard: ShardRange;
}

export interface FinishAssignInput {
  config: AssignConfig;
  numSamples: number;
  layers: (AssignLayer & Omit<CentroidsResult, 'reused' | 'layer'>)[];
}

/** A scheduled firing's run, to compare with the schedule's previous one (docs/outputs.md, "compare"). */
export interface ComparePreviousInput {
  outUri: string;
  scheduleId: string;
  runId: string;
}
