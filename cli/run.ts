import { resolve } from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { type Device, executionProvidersFor } from '../core/adapters/onnxruntime/session.js';
import { temporalConnectionOptions } from '../core/adapters/settings/temporal.js';
import { sweepWorkflowId, taskQueues } from '../core/compute/run/temporal-names.js';
import { configureSweep, type SweepRequest } from '../core/stages/configure.js';
import { createPureWorkers, runWorkers } from '../workers/create.js';
import { WORKFLOW_TASK_TIMEOUT } from '../workflows/activity-options.js';
import { type SweepResult, sweepWorkflow } from '../workflows/sweep.js';
import { startEmbeddedTemporal } from './embedded-temporal.js';
import { progressView, startPolling, sweepStages } from './progress.js';

const QUERY_DEADLINE_MS = 5000;

export interface RunOptions extends SweepRequest {
  temporal?: string;
  namespace: string;
  worker: boolean;
  threads?: number;
  device: Device;
  stateDir: string;
  queuePrefix: string;
}

/**
 * A Temporal failure as a user needs it: the root cause first (an activity's own message), then where it
 * happened ("Child Workflow execution failed" alone says nothing).
 */
export function failureChain(error: Error): string {
  const chain: Error[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) chain.push(e);
  const root = chain.at(-1)!;
  const where = chain
    .slice(1, -1)
    .map((e) => e.message)
    .filter((m) => m && m !== root.message);
  return where.length > 0 ? `${root.message} (${where.join(' <- ')})` : root.message;
}

export async function runCommand(options: RunOptions): Promise<SweepResult> {
  if (options.worker) executionProvidersFor(options.device); // before any server starts
  if (!options.worker && !options.temporal) {
    throw new Error(
      '--no-worker needs --temporal (or TEMPORAL_ADDRESS): the embedded dev server lives in this process, ' +
        'so no other worker could ever reach it',
    );
  }
  const config = await configureSweep(options);
  const embedded = options.temporal
    ? undefined
    : await startEmbeddedTemporal(resolve(options.stateDir, 'embedded-temporal'));
  const address = options.temporal ?? embedded!.address;
  process.stderr.write(
    `[pure] run ${config.runId}: ${config.layers.length} layers, k=${config.k}, Temporal at ${address}${embedded ? ' (embedded dev server)' : ''}\n`,
  );
  const queues = taskQueues(options.queuePrefix);
  const abort = new AbortController();
  let workersDone: Promise<void> | undefined;
  let workerConnection: NativeConnection | undefined;
  // An embedded dev server is plain; a remote one may need TLS or an API key (TEMPORAL_* variables).
  const connectionOptions = embedded ? { address } : temporalConnectionOptions(address);
  const connection = await Connection.connect(connectionOptions);
  try {
    if (options.worker) {
      workerConnection = await NativeConnection.connect(connectionOptions);
      const workers = await createPureWorkers({
        connection: workerConnection,
        namespace: options.namespace,
        roles: ['inference', 'cpu'],
        taskQueues: queues,
        inference: { ...(options.threads ? { threads: options.threads } : {}), device: options.device },
      });
      workersDone = runWorkers(workers, abort.signal);
    }
    const client = new Client({ connection, namespace: options.namespace });
    const handle = await client.workflow.start(sweepWorkflow, {
      workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
      taskQueue: queues.cpu,
      workflowId: sweepWorkflowId(config.runId),
      args: [{ config, taskQueues: queues }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const view = progressView();
    // A deadline bounds the client's own retries of a query, so stopping the poller never waits long.
    const refresh = () =>
      connection
        .withDeadline(Date.now() + QUERY_DEADLINE_MS, () => sweepStages(client, handle))
        .then((stages) => view.update(stages));
    // A query can race the workflow's first task, or a child that has not started; the next poll retries.
    const poller = startPolling(refresh, 500);
    try {
      const result = await handle.result();
      await refresh().catch(() => undefined);
      return result;
    } catch (error) {
      if (error instanceof WorkflowFailedError) throw new Error(`sweep failed: ${failureChain(error)}`);
      throw error;
    } finally {
      await poller.stop();
      view.stop();
    }
  } finally {
    abort.abort();
    await workersDone?.catch(() => undefined);
    await workerConnection?.close();
    await connection.close();
    await embedded?.stop();
  }
}
