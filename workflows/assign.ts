import {
  type ActivityInterfaceFor,
  continueAsNew,
  defineQuery,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { CpuActivities, InferenceActivities } from '../activities/index.js';
import type { AssignSummary, CentroidsResult, PreparedAssign } from '../activities/inputs.js';
import type { AssignConfig } from '../core/compute/assign/config.js';
import { shardRanges } from '../core/compute/run/ranges.js';
import { TASK_QUEUES, type TaskQueues } from '../core/compute/run/temporal-names.js';
import { activityOptions } from './activity-options.js';
import type { StageProgress } from './sweep.js';
import { mapWindowed } from './window.js';

export interface AssignWorkflowInput {
  config: AssignConfig;
  /** Task queue names; defaults to TASK_QUEUES. */
  taskQueues?: TaskQueues;
  /** What earlier runs of this workflow did (continue-as-new): the set-up, and the shards done. */
  resume?: AssignResume;
  /** Shards per workflow run before continuing as new (default SHARDS_PER_RUN). */
  shardsPerRun?: number;
}

export interface AssignResume {
  prepared: PreparedAssign;
  centroids: CentroidsResult[];
  nextShard: number;
  imagesDone: number;
  reused: number;
  computed: number;
}

export interface AssignResult extends AssignSummary {
  /** Shards whose output already existed (a repeated command) vs. computed now. */
  shardsReused: number;
  shardsComputed: number;
}

export const assignProgressQuery = defineQuery<StageProgress[]>('assignProgress');

/** Shards per run: ~6 history events each, well below the server's 4,096-event suggestion. */
export const SHARDS_PER_RUN = 500;

/**
 * `pure assign` (docs/outputs.md, "Assigning new images"), orchestration only: the checks and image
 * manifest, each layer's centroids (CPU queue; a mean per virtual neuron, no model), then one inference
 * activity per image shard, at most `window` in flight, and the summary. The nearest-centroid step runs
 * inside the shard's activity, beside the circuits it needs: a centroid table is small, while the
 * circuits of every (image, neuron) pair would be images x neurons x channels floats to store and move.
 * Shards follow from the image count; the workflow continues as new every SHARDS_PER_RUN shards.
 */
export async function assignWorkflow(input: AssignWorkflowInput): Promise<AssignResult> {
  const { config } = input;
  const queues = input.taskQueues ?? TASK_QUEUES;
  const cpu = proxyActivities<CpuActivities>(
    activityOptions(queues.cpu, '1 hour', config.retryWindowMinutes),
  );
  const inference = proxyActivities<InferenceActivities>(
    activityOptions(queues.inference, '2 hours', config.retryWindowMinutes),
  );
  const centroidStage: StageProgress = {
    stage: 'centroids',
    done: 0,
    total: config.layers.length,
    unit: 'layers',
  };
  const imageStage: StageProgress = { stage: 'assign', done: 0, total: 0, unit: 'images' };
  setHandler(assignProgressQuery, () => [centroidStage, imageStage]);

  const resume = input.resume ?? (await setUp(config, cpu, centroidStage));
  centroidStage.done = centroidStage.total;
  imageStage.total = resume.prepared.numSamples;
  imageStage.done = resume.imagesDone;
  const shards = shardRanges(resume.prepared.numSamples, config.shardSize);
  const thisRun = shards.slice(resume.nextShard, resume.nextShard + (input.shardsPerRun ?? SHARDS_PER_RUN));
  const counts = { reused: resume.reused, computed: resume.computed };
  const { started } = await mapWindowed(
    thisRun,
    config.window,
    (shard) => inference.assignShard({ config, layers: resume.prepared.layers, shard }),
    (result) => {
      imageStage.done += result.images;
      if (result.reused) counts.reused += 1;
      else counts.computed += 1;
    },
    { stopWhen: () => workflowInfo().continueAsNewSuggested },
  );
  if (resume.nextShard + started < shards.length) {
    return continueAsNew<typeof assignWorkflow>({
      ...input,
      resume: { ...resume, ...counts, nextShard: resume.nextShard + started, imagesDone: imageStage.done },
    });
  }
  const layers = resume.prepared.layers.map((layer, i) => {
    const { neurons, split } = resume.centroids[i]!;
    return { ...layer, neurons, split };
  });
  const summary = await cpu.finishAssign({ config, numSamples: resume.prepared.numSamples, layers });
  return { ...summary, shardsReused: counts.reused, shardsComputed: counts.computed };
}

/** The checks and manifest, then every layer's centroids (at most `window` layers at once). */
async function setUp(
  config: AssignConfig,
  cpu: ActivityInterfaceFor<CpuActivities>,
  progress: StageProgress,
): Promise<AssignResume> {
  const prepared = await cpu.prepareAssign(config);
  const { results: centroids } = await mapWindowed(
    prepared.layers,
    config.window,
    (layer) => cpu.assignCentroids({ config, layer }),
    () => {
      progress.done += 1;
    },
  );
  return { prepared, centroids, nextShard: 0, imagesDone: 0, reused: 0, computed: 0 };
}
