import {
  type ActivityInterfaceFor,
  defineQuery,
  executeChild,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { CpuActivities, InferenceActivities } from '../activities/index.js';
import type {
  FinishReferencesResult,
  LayerSummary,
  MergeReferencesResult,
  PrepareSweepResult,
} from '../activities/inputs.js';
import type { LayerShape, SweepConfig } from '../core/compute/run/config.js';
import { runsStage } from '../core/compute/run/stages.js';
import {
  layerWorkflowId,
  referencesWorkflowId,
  TASK_QUEUES,
  type TaskQueues,
} from '../core/compute/run/temporal-names.js';
import { activityOptions, WORKFLOW_TASK_TIMEOUT } from './activity-options.js';
import { layerWorkflow } from './layer.js';
import { type ReferencesCounts, referencesWorkflow } from './references.js';
import { mapWindowed } from './window.js';

export interface SweepInput {
  config: SweepConfig;
  /** Task queue names; defaults to TASK_QUEUES. */
  taskQueues?: TaskQueues;
}

export interface StageProgress {
  stage: string;
  done: number;
  total: number;
  unit: string;
}

export interface SweepProgress {
  state: 'preparing' | 'references' | 'virtual-neurons' | 'done';
  numSamples: number;
  stages: StageProgress[];
  /** The references fan-out's child workflow: query it with `referencesProgressQuery` for images done. */
  referencesWorkflowId?: string;
  /** One child workflow per explained layer; query each with `layerProgressQuery` for neuron counts. */
  layers: { workflowId: string; layer: string; lowerLayer: string; done: boolean }[];
}

export interface SweepResult {
  runUri: string;
  numSamples: number;
  layers: LayerShape[];
  references: { layer: string; key: string }[];
  skipped: number;
  /** Shards whose output already existed (a resumed or repeated run) vs. computed now. */
  shardsReused: number;
  shardsComputed: number;
  /** Per explained layer (every layer but the first): virtual-neuron counts. */
  virtualNeurons: LayerSummary[];
}

export const progressQuery = defineQuery<SweepProgress>('progress');

/**
 * A full-model sweep. Holds only URIs, names and counts (never tensors): each activity reads and writes
 * the run's store itself.
 * 1. References: one activity per dataset shard on the inference queue, at most `window` in flight, then
 *    one merge per layer on the CPU queue.
 * 2-3. For each consecutive pair (L', L) of the layer list, a child workflow (layerWorkflow) computes the
 *    circuits and virtual neurons of every neuron of L; children run side by side.
 */
export async function sweepWorkflow(input: SweepInput): Promise<SweepResult> {
  const { config } = input;
  const queues = input.taskQueues ?? TASK_QUEUES;
  const inference = proxyActivities<InferenceActivities>(
    activityOptions(queues.inference, '2 hours', config.retryWindowMinutes),
  );
  const cpu = proxyActivities<CpuActivities>(
    activityOptions(queues.cpu, '1 hour', config.retryWindowMinutes),
  );

  const progress: SweepProgress = { state: 'preparing', numSamples: 0, stages: [], layers: [] };
  setHandler(progressQuery, () => progress);

  const prepared = await inference.prepareSweep(config);
  progress.numSamples = prepared.numSamples;
  const { counts, merged, finished } = await computeReferences(config, prepared, queues, cpu, progress);
  const virtualNeurons = runsStage(config, 'virtual-neurons')
    ? await explainLayers(config, prepared.layers, queues, progress)
    : [];
  progress.state = 'done';
  return {
    runUri: finished.runUri,
    numSamples: prepared.numSamples,
    layers: prepared.layers,
    references: merged.map((m) => ({ layer: m.layer, key: m.key })),
    skipped: finished.skipped,
    shardsReused: counts.reused,
    shardsComputed: counts.computed,
    virtualNeurons,
  };
}

interface ReferencesDone {
  counts: ReferencesCounts;
  merged: MergeReferencesResult[];
  finished: FinishReferencesResult;
}

/**
 * Step 1: the shards' ActMax in a child workflow (referencesWorkflow: bounded history at any dataset
 * size), then one merge per layer and the run's manifest on the CPU queue.
 */
async function computeReferences(
  config: SweepConfig,
  prepared: PrepareSweepResult,
  queues: TaskQueues,
  cpu: ActivityInterfaceFor<CpuActivities>,
  progress: SweepProgress,
): Promise<ReferencesDone> {
  progress.state = 'references';
  const shardStage: StageProgress = {
    stage: 'references',
    done: 0,
    total: prepared.numSamples,
    unit: 'images',
  };
  const mergeStage: StageProgress = {
    stage: 'references-merge',
    done: 0,
    total: prepared.layers.length,
    unit: 'layers',
  };
  progress.stages.push(shardStage, mergeStage);
  progress.referencesWorkflowId = referencesWorkflowId(workflowInfo().workflowId);

  const counts = await executeChild(referencesWorkflow, {
    workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
    workflowId: progress.referencesWorkflowId,
    taskQueue: queues.cpu,
    args: [{ config, numSamples: prepared.numSamples, taskQueues: queues }],
  });
  shardStage.done = counts.images;
  const { results: merged } = await mapWindowed(
    prepared.layers,
    config.window,
    (layer) => cpu.mergeReferences({ config, layer, numSamples: prepared.numSamples }),
    () => {
      mergeStage.done += 1;
    },
  );
  const finished = await cpu.finishReferences({ config, numSamples: prepared.numSamples, merged });
  return { counts, merged, finished };
}

/** Steps 2-3: one child layerWorkflow per consecutive pair (L', L) of the layer list, all side by side. */
async function explainLayers(
  config: SweepConfig,
  layers: LayerShape[],
  queues: TaskQueues,
  progress: SweepProgress,
): Promise<LayerSummary[]> {
  progress.state = 'virtual-neurons';
  const pairs = layers.slice(1).map((layer, i) => ({ layer, lowerLayer: layers[i]!.name, index: i + 1 }));
  progress.layers = pairs.map(({ layer, lowerLayer, index }) => ({
    workflowId: layerWorkflowId(workflowInfo().workflowId, index),
    layer: layer.name,
    lowerLayer,
    done: false,
  }));
  return Promise.all(
    pairs.map(async ({ layer, lowerLayer }, i) => {
      const summary = await executeChild(layerWorkflow, {
        workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
        workflowId: progress.layers[i]!.workflowId,
        taskQueue: queues.cpu,
        args: [{ config, lowerLayer, layer, taskQueues: queues }],
      });
      progress.layers[i]!.done = true;
      return summary;
    }),
  );
}
