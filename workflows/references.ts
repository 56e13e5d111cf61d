import { continueAsNew, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { InferenceActivities } from '../activities/index.js';
import type { SweepConfig } from '../core/compute/run/config.js';
import { shardRanges } from '../core/compute/run/ranges.js';
import type { TaskQueues } from '../core/compute/run/temporal-names.js';
import { activityOptions } from './activity-options.js';
import { mapWindowed } from './window.js';

export interface ReferencesWorkflowInput {
  config: SweepConfig;
  numSamples: number;
  taskQueues: TaskQueues;
  /** Index of the first shard this run handles (continue-as-new carries it over). */
  nextShard?: number;
  /** What earlier runs of this workflow did (continue-as-new), for progress and the result. */
  doneBefore?: ReferencesCounts;
  /** Shards per workflow run before continuing as new (default SHARDS_PER_RUN). */
  shardsPerRun?: number;
}

export interface ReferencesCounts {
  images: number;
  reused: number;
  computed: number;
  /** Workflow runs so far (1 + continue-as-new count). */
  runs: number;
}

export interface ReferencesProgress {
  done: number;
  total: number;
}

export const referencesProgressQuery = defineQuery<ReferencesProgress>('referencesProgress');

/** Shards per run: ~6 history events each, so a run stays well below the server's 4,096-event suggestion. */
export const SHARDS_PER_RUN = 500;

/**
 * Step 1's fan-out (a child of the sweep): one referencesShard activity per dataset shard, at most
 * `window` in flight. The shards are computed from counts, not carried in payloads, and the workflow
 * continues as new every SHARDS_PER_RUN shards (or when the server suggests it), so its history and
 * payloads stay bounded whatever the dataset's size (docs/reliability.md).
 */
export async function referencesWorkflow(input: ReferencesWorkflowInput): Promise<ReferencesCounts> {
  const { config } = input;
  const inference = proxyActivities<InferenceActivities>(
    activityOptions(input.taskQueues.inference, '2 hours', config.retryWindowMinutes),
  );
  const shards = shardRanges(input.numSamples, config.shardSize);
  const start = input.nextShard ?? 0;
  const counts: ReferencesCounts = { images: 0, reused: 0, computed: 0, runs: 0, ...input.doneBefore };
  counts.runs += 1;
  setHandler(referencesProgressQuery, () => ({ done: counts.images, total: input.numSamples }));

  const thisRun = shards.slice(start, start + (input.shardsPerRun ?? SHARDS_PER_RUN));
  const { started } = await mapWindowed(
    thisRun,
    config.window,
    (shard) => inference.referencesShard({ config, shard }),
    (result, i) => {
      const shard = thisRun[i]!;
      counts.images += shard.end - shard.first;
      if (result.reused) counts.reused += 1;
      else counts.computed += 1;
    },
    { stopWhen: () => workflowInfo().continueAsNewSuggested },
  );
  if (start + started < shards.length) {
    return continueAsNew<typeof referencesWorkflow>({
      ...input,
      nextShard: start + started,
      doneBefore: counts,
    });
  }
  return counts;
}
