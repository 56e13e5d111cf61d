import type { ActivityOptions } from '@temporalio/workflow';

/**
 * How every pure activity is scheduled. Activities heartbeat every few seconds (activities/io.ts), so a
 * 30 s heartbeat timeout notices a dead worker quickly while a long onnxruntime call is still alive; retries
 * are safe because every activity skips work whose output already exists.
 */
export function activityOptions(
  taskQueue: string,
  startToCloseTimeout: ActivityOptions['startToCloseTimeout'],
): ActivityOptions {
  return {
    taskQueue,
    startToCloseTimeout,
    heartbeatTimeout: '30 seconds',
    retry: { maximumAttempts: 5, initialInterval: '2 seconds' },
  };
}

/**
 * Workflow task timeout of every pure workflow. Workers run inference and k-means in the same process as
 * workflow tasks; on a saturated machine (2 cores, onnxruntime on both) a task was seen taking 5.6 s, close
 * to Temporal's 10 s default, past which the task would be retried over and over.
 */
export const WORKFLOW_TASK_TIMEOUT = '60 seconds';
