/**
 * Names on the Temporal server: the two task queues and the workflow ids of a run. Workflows, workers,
 * the CLI and tests all take them from here, so a deployment, its workers and `pure status` always agree.
 */

/** The two task queues (docs/design.md, "Queues"): model inference, and everything else. */
export const QUEUE_ROLES = ['inference', 'cpu'] as const;
export type QueueRole = (typeof QUEUE_ROLES)[number];
export type TaskQueues = Readonly<Record<QueueRole, string>>;

export const DEFAULT_QUEUE_PREFIX = 'pure';

/** Task queue names for a prefix: several deployments (or tests) can share one Temporal namespace. */
export function taskQueues(prefix: string = DEFAULT_QUEUE_PREFIX): TaskQueues {
  return { inference: `${prefix}-inference`, cpu: `${prefix}-cpu` };
}

const SWEEP_PREFIX = 'pure-sweep-';

/** The sweep workflow of a run: one per run id, so starting a run twice attaches to the first. */
export function sweepWorkflowId(runIdOrWorkflowId: string): string {
  return runIdOrWorkflowId.startsWith(SWEEP_PREFIX)
    ? runIdOrWorkflowId
    : `${SWEEP_PREFIX}${runIdOrWorkflowId}`;
}

/** The child workflow of the sweep that explains layer `index` of the layer list (1 = the second layer). */
export function layerWorkflowId(sweepId: string, index: number): string {
  return `${sweepId}/layer-${index}`;
}

/** The sweep's references fan-out (a child workflow that continues as new). */
export function referencesWorkflowId(sweepId: string): string {
  return `${sweepId}/references`;
}

const ASSIGN_PREFIX = 'pure-assign-';

/** The workflow of `pure assign`: one per assign id, so the same command twice attaches to the first. */
export function assignWorkflowId(assignIdOrWorkflowId: string): string {
  return assignIdOrWorkflowId.startsWith(ASSIGN_PREFIX)
    ? assignIdOrWorkflowId
    : `${ASSIGN_PREFIX}${assignIdOrWorkflowId}`;
}

/** The default deployment's queues: `pure-inference` and `pure-cpu`. */
export const TASK_QUEUES = taskQueues();
