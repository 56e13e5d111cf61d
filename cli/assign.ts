import type { WorkflowHandle } from '@temporalio/client';
import { openStore } from '../core/adapters/storage/index.js';
import type { AssignConfig } from '../core/compute/assign/config.js';
import { assignKeys } from '../core/compute/run/layout.js';
import { assignWorkflowId } from '../core/compute/run/temporal-names.js';
import { type AssignRequest, configureAssign } from '../core/stages/assign-setup.js';
import { WORKFLOW_TASK_TIMEOUT } from '../workflows/activity-options.js';
import { type AssignResult, assignProgressQuery, assignWorkflow } from '../workflows/assign.js';
import type { StageProgress } from '../workflows/sweep.js';
import {
  checkServerOptions,
  followWorkflow,
  RunInterrupted,
  retireLeftovers,
  type ServerOptions,
  say,
  stopEmbeddedOnInterrupt,
  type TemporalSession,
  unfinished,
  withTemporalSession,
} from './temporal-session.js';

export interface AssignOptions extends AssignRequest, ServerOptions {}

/**
 * `pure assign RUN IMAGES`: the request checked against the finished run first (seconds, nothing
 * started), then the assign workflow on the same workers as sweeps (in this process on the embedded
 * server by default), followed to its end.
 */
export async function assignCommand(options: AssignOptions): Promise<AssignResult> {
  await checkServerOptions(options);
  const started = Date.now();
  const config = await configureAssign(options);
  say(
    `checked in ${((Date.now() - started) / 1000).toFixed(1)} s: run ${config.runUri}, ` +
      `${config.layers.length} layer${config.layers.length === 1 ? '' : 's'}, output ${config.assignUri}`,
  );
  const name = `assignment ${config.assignId}`;
  return withTemporalSession(
    options,
    {
      announce: (address, embedded) =>
        say(
          `${name}: images ${config.dataUri}, Temporal at ${address}` +
            `${embedded ? ` (embedded dev server, log ${embedded.logFile})` : ''}`,
        ),
      beforeWorkers: (session) =>
        retireLeftovers(session, {
          workflowId: assignWorkflowId(config.assignId),
          name,
          command: 'pure assign',
          outputExists: () => openStore(config.assignUri).exists(assignKeys.config),
          outUri: config.assignUri,
        }),
    },
    async (session) => {
      const handle = await session.client.workflow.start(assignWorkflow, {
        workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
        taskQueue: session.queues.cpu,
        workflowId: assignWorkflowId(config.assignId),
        args: [{ config, taskQueues: session.queues }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return followWorkflow({
        session,
        handle,
        stages: () => handle.query(assignProgressQuery),
        kind: 'assignment',
        name,
        command: 'pure assign',
        onInterrupt: (last) => stopOnInterrupt(session, handle, config, last),
      });
    },
  );
}

/** As `pure run`: an embedded server's workflow is stopped (the command resumes it), a shared one goes on. */
async function stopOnInterrupt(
  session: TemporalSession,
  handle: WorkflowHandle<typeof assignWorkflow>,
  config: AssignConfig,
  last: readonly StageProgress[],
): Promise<RunInterrupted> {
  if (session.embedded) {
    const own = { name: `assignment ${config.assignId}`, command: 'pure assign', outUri: config.assignUri };
    return stopEmbeddedOnInterrupt(handle, own, last);
  }
  const progress = unfinished(last);
  return new RunInterrupted(
    `detached from assignment ${config.assignId}; it goes on at ${session.address} (workflow ${handle.workflowId}).` +
      `${progress} Re-attach: run the same pure assign command again.`,
  );
}
