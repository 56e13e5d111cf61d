import { defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type { ReferenceActivities } from '../activities/references.js';
import type { LayerShape, SweepConfig } from '../core/run/config.js';
import { mapWindowed } from './window.js';

export const TASK_QUEUES = { inference: 'pure-inference', cpu: 'pure-cpu' } as const;

export interface SweepInput {
  config: SweepConfig;
  /** Task queue names; defaults to TASK_QUEUES. */
  taskQueues?: { inference: string; cpu: string };
}

export interface StageProgress {
  stage: string;
  done: number;
  total: number;
  unit: string;
}

export interface SweepProgress {
  state: 'preparing' | 'running' | 'done';
  numSamples: number;
  stages: StageProgress[];
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
}

export const progressQuery = defineQuery<SweepProgress>('progress');

/**
 * A full-model sweep. Holds only URIs, names and counts (never tensors): each activity reads and
 * writes the run's store itself. References: one activity per dataset shard on the inference queue,
 * at most `window` in flight, then one merge per layer on the CPU queue.
 */
export async function sweepWorkflow(input: SweepInput): Promise<SweepResult> {
  const { config } = input;
  const queues = input.taskQueues ?? TASK_QUEUES;
  const inference = proxyActivities<ReferenceActivities>({
    taskQueue: queues.inference,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '5 minutes',
    retry: { maximumAttempts: 5, initialInterval: '2 seconds', nonRetryableErrorTypes: ['InvalidConfig'] },
  });
  const cpu = proxyActivities<ReferenceActivities>({
    taskQueue: queues.cpu,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '5 minutes',
    retry: { maximumAttempts: 5, initialInterval: '2 seconds' },
  });

  const progress: SweepProgress = { state: 'preparing', numSamples: 0, stages: [] };
  setHandler(progressQuery, () => progress);

  const prepared = await inference.prepareSweep(config);
  progress.numSamples = prepared.numSamples;
  progress.state = 'running';
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

  const shardResults = await mapWindowed(
    prepared.shards,
    config.window,
    (shard) => inference.referencesShard({ config, shard }),
    (_, i) => {
      const shard = prepared.shards[i]!;
      shardStage.done += shard.end - shard.first;
    },
  );
  const merged = await mapWindowed(
    prepared.layers,
    config.window,
    (layer) => cpu.mergeReferences({ config, layer, shards: prepared.shards }),
    () => {
      mergeStage.done += 1;
    },
  );
  const finished = await cpu.finishReferences({ config, shards: prepared.shards, merged });
  progress.state = 'done';
  return {
    runUri: finished.runUri,
    numSamples: prepared.numSamples,
    layers: prepared.layers,
    references: merged.map((m) => ({ layer: m.layer, key: m.key })),
    skipped: finished.skipped,
    shardsReused: shardResults.filter((r) => r.reused).length,
    shardsComputed: shardResults.filter((r) => !r.reused).length,
  };
}
