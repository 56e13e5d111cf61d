import type { Client } from '@temporalio/client';
import { scheduleTriggerCommand } from '../../cli/schedule.js';

/**
 * Triggers schedule `scheduleId` (through the CLI, as a user would) and waits for the result of its
 * `firing`-th run (1 = the first): the workflow the schedule started, read from its recent actions.
 */
export async function fireSchedule<R>(
  client: Client,
  scheduleId: string,
  temporal: string,
  firing: number,
): Promise<R> {
  await scheduleTriggerCommand(scheduleId, { temporal, namespace: 'default' });
  const handle = client.schedule.getHandle(scheduleId);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const actions = (await handle.describe()).info.recentActions;
    if (actions.length >= firing) {
      const started = actions[firing - 1]!.action.workflow;
      return client.workflow
        .getHandle(started.workflowId, started.firstExecutionRunId)
        .result() as Promise<R>;
    }
    if (Date.now() > deadline) throw new Error(`firing ${firing} did not start`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
