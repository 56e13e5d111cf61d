import type { WorkflowHandle } from '@temporalio/client';
import { runStore } from '../core/adapters/storage/index.js';
import type { SweepConfig } from '../core/compute/run/config.js';
import { runKeys, runUri } from '../core/compute/run/layout.js';
import { sweepWorkflowId } from '../core/compute/run/temporal-names.js';
import { configureSweepWithModel, type SweepRequest } from '../core/stages/configure.js';
import { preflightSweep } from '../core/stages/preflight.js';
import { WORKFLOW_TASK_TIMEOUT } from '../workflows/activity-options.js';
import type { StageProgress } from '../workflows/sweep.js';
import { type SweepResult, sweepWorkflow } from '../workflows/sweep.js';
import { sweepStages } from './progress.js';
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

export { failureChain, RunInterrupted } from './temporal-session.js';

export interface RunOptions extends SweepRequest, ServerOptions {}

/**
 * `pure run`: configure and check everything first (docs/design.md, "Preflight"), so a set-up mistake
 * costs seconds and starts nothing; then start (or join) the sweep and follow it to the end.
 */
export async function runCommand(options: RunOptions): Promise<SweepResult> {
  await checkServerOptions(options); // before any server starts
  const started = Date.now();
  const { config, model } = await configureSweepWithModel(options);
  const checked = await preflightSweep(config, model, options.preprocess);
  say(
    `checked in ${((Date.now() - started) / 1000).toFixed(1)} s: model, ${config.layers.length} layers, ` +
      `${checked.images} images, output root ${config.outUri}`,
  );
  return withTemporalSession(
    options,
    {
      announce: (address, embedded) =>
        say(
          `run ${config.runId}: ${config.layers.length} layers, k=${config.k}, Temporal at ${address}` +
            `${embedded ? ` (embedded dev server, log ${embedded.logFile})` : ''}`,
        ),
      beforeWorkers: (session) =>
        retireLeftovers(session, {
          workflowId: sweepWorkflowId(config.runId),
          name: `run ${config.runId}`,
          command: 'pure run',
          outputExists: () => runStore(config).exists(runKeys.config),
          outUri: config.outUri,
        }),
    },
    async (session) => {
      const handle = await session.client.workflow.start(sweepWorkflow, {
        workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
        taskQueue: session.queues.cpu,
        workflowId: sweepWorkflowId(config.runId),
        args: [{ config, taskQueues: session.queues }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return followWorkflow({
        session,
        handle,
        stages: () => sweepStages(session.client, handle),
        kind: 'sweep',
        name: `run ${config.runId}`,
        command: 'pure run',
        onInterrupt: (last) => stopOnInterrupt(session, handle, config, last),
      });
    },
  );
}

/**
 * What an interrupt means depends on where the sweep lives: an embedded server's is stopped (the same
 * command resumes it); on a shared server it goes on, and the message says how to watch, stop or re-attach.
 */
async function stopOnInterrupt(
  session: TemporalSession,
  handle: WorkflowHandle<typeof sweepWorkflow>,
  config: SweepConfig,
  last: readonly StageProgress[],
): Promise<RunInterrupted> {
  const { embedded, address, options, queues } = session;
  if (embedded) {
    const where = runUri(config.outUri, config.runId);
    return stopEmbeddedOnInterrupt(
      handle,
      { name: `run ${config.runId}`, command: 'pure run', outUri: where },
      last,
    );
  }
  const progress = unfinished(last);
  const server = `--temporal ${address} --namespace ${options.namespace}`;
  const workers = options.worker
    ? ` with the workers that serve ${queues.inference} and ${queues.cpu} (this process's worker stopped)`
    : '';
  return new RunInterrupted(
    `detached from run ${config.runId}; it goes on at ${address}${workers}.${progress} ` +
      `Watch it: pure status ${config.runId} ${server}. Stop it: pure cancel ${config.runId} ${server}. ` +
      'Re-attach: run the same pure run command again.',
  );
}
