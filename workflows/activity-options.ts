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
