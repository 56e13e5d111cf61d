import type { ActivityOptions } from '@temporalio/workflow';

export const DEFAULT_RETRY_WINDOW_MINUTES = 15;
const INITIAL_INTERVAL_S = 2;
const BACKOFF = 2;
const MAXIMUM_INTERVAL_S = 60;

/**
 * Attempts whose backoff intervals (2 s, 4 s, ... capped at 60 s) add up to at least `minutes`: 20 for
 * the default 15. Permanent failures never use them (activities/failures.ts); the attempts' own
 * durations come on top, so the window is a lower bound on how long an outage is ridden out.
 */
export function attemptsWithin(minutes: number): number {
  let waited = 0;
  let interval = INITIAL_INTERVAL_S;
  let attempts = 1;
  while (waited < minutes * 60) {
    waited += interval;
    interval = Math.min(MAXIMUM_INTERVAL_S, interval * BACKOFF);
    attempts++;
  }
  return attempts;
}

/**
 * How every pure activity is scheduled (docs/reliability.md). Activities heartbeat while they make
 * progress (activities/io.ts), so a 30 s heartbeat timeout notices a dead worker quickly while a long
 * onnxruntime call is still alive. Transient failures are retried with exponential backoff through the
 * outage window; retries are safe because every activity skips work whose output already exists.
 */
export function activityOptions(
  taskQueue: string,
  startToCloseTimeout: ActivityOptions['startToCloseTimeout'],
  retryWindowMinutes: number = DEFAULT_RETRY_WINDOW_MINUTES,
): ActivityOptions {
  return {
    taskQueue,
    startToCloseTimeout,
    heartbeatTimeout: '30 seconds',
    retry: {
      initialInterval: `${INITIAL_INTERVAL_S} seconds`,
      backoffCoefficient: BACKOFF,
      maximumInterval: `${MAXIMUM_INTERVAL_S} seconds`,
      maximumAttempts: attemptsWithin(retryWindowMinutes),
    },
  };
}

/**
 * Workflow task timeout of every pure workflow. Workers run inference and k-means in the same process as
 * workflow tasks; on a saturated machine (2 cores, onnxruntime on both) a task was seen taking 5.6 s, close
 * to Temporal's 10 s default, past which the task would be retried over and over.
 */
export const WORKFLOW_TASK_TIMEOUT = '60 seconds';
