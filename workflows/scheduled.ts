import { executeChild, proxyActivities } from '@temporalio/workflow';
import type { CpuActivities } from '../activities/index.js';
import type { ComparePreviousResult } from '../activities/inputs.js';
import { sweepWorkflowId, type TaskQueues } from '../core/compute/run/temporal-names.js';
import type { SweepRequest } from '../core/stages/configure.js';
import { activityOptions, WORKFLOW_TASK_TIMEOUT } from './activity-options.js';
import { type SweepResult, sweepWorkflow } from './sweep.js';

export interface ScheduledSweepInput {
  request: SweepRequest;
  taskQueues: TaskQueues;
  /** With `--compare-previous`: the schedule's id, under which it remembers its last run. */
  comparePrevious?: { scheduleId: string };
}

/** The sweep's result, and with `--compare-previous` its comparison with the previous firing's run. */
export interface ScheduledSweepResult extends SweepResult {
  previous?: ComparePreviousResult;
}

/**
 * What a schedule starts (`pure schedule create`): configure the sweep from the stored request (reading the
 * checkpoint that is there now), then run it as the child `pure-sweep-<run id>`. An unchanged checkpoint
 * gives the same run id, whose sweep finds every output present and finishes in seconds; a new
 * checkpoint gives a new run, which `--compare-previous` then compares with the previous firing's run
 * (the compare tables go into the new run; docs/outputs.md, "compare").
 */
export async function scheduledSweepWorkflow(input: ScheduledSweepInput): Promise<ScheduledSweepResult> {
  const cpu = proxyActivities<CpuActivities>(activityOptions(input.taskQueues.cpu, '30 minutes'));
  const config = await cpu.configureScheduledSweep(input.request);
  const result = await executeChild(sweepWorkflow, {
    workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
    workflowId: sweepWorkflowId(config.runId),
    taskQueue: input.taskQueues.cpu,
    args: [{ config, taskQueues: input.taskQueues }],
  });
  if (!input.comparePrevious) return result;
  const previous = await cpu.compareWithPrevious({
    outUri: config.outUri,
    scheduleId: input.comparePrevious.scheduleId,
    runId: config.runId,
  });
  return { ...result, previous };
}
