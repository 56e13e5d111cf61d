import { openDataset } from '../core/adapters/datasets/dataset.js';
import { openStore, runStore } from '../core/adapters/storage/index.js';
import type { AssignConfig } from '../core/compute/assign/config.js';
import { asInputError } from '../core/compute/errors.js';
import { type SweepConfig, shardRanges } from '../core/compute/run/config.js';
import { runUri } from '../core/compute/run/layout.js';
import { finishAssign } from '../core/stages/assign.js';
import { centroidsLayer, type PreparedAssign, prepareAssign } from '../core/stages/assign-setup.js';
import { compareWithPrevious } from '../core/stages/compare-previous.js';
import { configureSweep, type SweepRequest } from '../core/stages/configure.js';
import { evaluationPart } from '../core/stages/evaluation.js';
import { finishReferences, mergeReferences } from '../core/stages/references.js';
import { finishLayer, virtualNeuronsPart } from '../core/stages/virtual-neurons.js';
import type {
  AssignCentroidsInput,
  AssignSummary,
  CentroidsResult,
  ComparePreviousInput,
  ComparePreviousResult,
  CropsInput,
  EvaluationResult,
  FinishAssignInput,
  FinishLayerInput,
  FinishReferencesInput,
  FinishReferencesResult,
  LayerSummary,
  MergeReferencesInput,
  MergeReferencesResult,
  VirtualNeuronsInput,
  VirtualNeuronsResult,
} from './inputs.js';
import { layerReferences } from './resources.js';

/**
 * The activities of the CPU task queue: merges, clustering, manifests and the configuration of
 * scheduled sweeps. Thin wrappers over core/stages.
 */
export function createCpuActivities() {
  const references = layerReferences();
  return {
    mergeReferences({ config, layer, numSamples }: MergeReferencesInput): Promise<MergeReferencesResult> {
      return mergeReferences(config, layer, shardRanges(numSamples, config.shardSize), runStore(config));
    },

    async finishReferences({
      config,
      numSamples,
      merged,
    }: FinishReferencesInput): Promise<FinishReferencesResult> {
      const shards = shardRanges(numSamples, config.shardSize);
      const finished = await finishReferences(config, shards, merged, runStore(config));
      return { runUri: runUri(config.outUri, config.runId), ...finished };
    },

    virtualNeurons({ config, layer, neurons }: VirtualNeuronsInput): Promise<VirtualNeuronsResult> {
      return virtualNeuronsPart(config, layer, neurons, runStore(config));
    },

    evaluate({ config, layer, neurons }: CropsInput): Promise<EvaluationResult> {
      return evaluationPart(config, layer.name, neurons, runStore(config), () =>
        references(config, layer.name),
      );
    },

    finishLayer({ config, lowerLayer, layer, batches }: FinishLayerInput): Promise<LayerSummary> {
      return finishLayer(config, lowerLayer, layer, batches, runStore(config));
    },

    /**
     * For scheduled sweeps: the request stored in a schedule becomes a fresh SweepConfig at every firing,
     * so each night's run reads the checkpoint that is there that night (its digest names the run). A bad
     * request (unknown layer, unreadable model) will not get better by retrying tonight.
     */
    configureScheduledSweep(request: SweepRequest): Promise<SweepConfig> {
      return asInputError('InvalidSweepRequest', () => configureSweep(request));
    },

    /** For schedules with --compare-previous: the firing's run against the schedule's previous run. */
    compareWithPrevious({ outUri, scheduleId, runId }: ComparePreviousInput): Promise<ComparePreviousResult> {
      return compareWithPrevious(outUri, scheduleId, runId);
    },

    ...assignActivities(),
  };
}

/** `pure assign`'s steps that do not run the model: checks and manifest, centroids, the summary. */
function assignActivities() {
  const store = (config: AssignConfig) => openStore(config.assignUri);
  return {
    prepareAssign(config: AssignConfig): Promise<PreparedAssign> {
      return prepareAssign(config, store(config), () => openDataset(config.dataUri));
    },

    assignCentroids({ config, layer }: AssignCentroidsInput): Promise<CentroidsResult> {
      return centroidsLayer(config, layer, openStore(config.runUri), store(config));
    },

    finishAssign({ config, numSamples, layers }: FinishAssignInput): Promise<AssignSummary> {
      return finishAssign(config, numSamples, layers, store(config));
    },
  };
}

export type CpuActivities = ReturnType<typeof createCpuActivities>;
