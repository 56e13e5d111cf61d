import { resolve } from 'node:path';
import {
  ActivityFailure,
  ChildWorkflowFailure,
  Client,
  Connection,
  WorkflowFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { RetryState } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { type Device, executionProvidersFor } from '../core/adapters/onnxruntime/session.js';
import { connectTemporal, temporalConnectionOptions } from '../core/adapters/settings/temporal.js';
import { runStore } from '../core/adapters/storage/index.js';
import type { SweepConfig } from '../core/compute/run/config.js';
import { runKeys, runUri } from '../core/compute/run/layout.js';
import { sweepWorkflowId, type TaskQueues, taskQueues } from '../core/compute/run/temporal-names.js';
import { configureSweepWithModel, type SweepRequest } from '../core/stages/configure.js';
import { preflightSweep } from '../core/stages/preflight.js';
import { createPureWorkers, runWorkers } from '../workers/create.js';
import { WORKFLOW_TASK_TIMEOUT } from '../workflows/activity-options.js';
import type { StageProgress } from '../workflows/sweep.js';
import { type SweepResult, sweepWorkflow } from '../workflows/sweep.js';
import { type EmbeddedTemporal, startEmbeddedTemporal } from './embedded-temporal.js';
import { interruptions } from './interrupt.js';
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

/** Raised when the user stops `pure run` (Ctrl-C, SIGTERM); the CLI prints its message and exits 130. */
export class RunInterrupted extends Error {
  override readonly name = 'RunInterrupted';
}

/**
 * A Temporal failure as a user needs it: our own error first (the outermost application failure: "S3
 * PutObject s3://... failed: ..."), then what caused it, then where it happened ("Child Workflow
 * execution failed" alone says nothing). Temporal's wrappers (workflow, child, activity failures) only
 * say where.
 */
export function failureChain(error: Error): string {
  const chain: Error[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) chain.push(e);
  const isWrapper = (e: Error) =>
    e instanceof WorkflowFailedError || e instanceof ChildWorkflowFailure || e instanceof ActivityFailure;
  const ours = chain.filter((e) => !isWrapper(e));
  const headline = ours[0] ?? chain.at(-1)!;
  const causes = ours
    .slice(1)
    .map((e) => e.message)
    .filter((m) => m && !headline.message.includes(m));
  const where = chain
    .filter((e) => e !== error && isWrapper(e))
    .map((e) => e.message)
    .filter(Boolean);
  const exhausted = chain.some(
    (e) => e instanceof ActivityFailure && e.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED,
  );
  return (
    headline.message +
    (causes.length > 0 ? ` [cause: ${causes.join(' <- ')}]` : '') +
    (where.length > 0 ? ` (${where.join(' <- ')})` : '') +
    (exhausted ? '; retried until the retry window (--retry-window) ran out' : '')
  );
}

const say = (line: string) => process.stderr.write(`[pure] ${line}\n`);

/**
 * `pure run`: configure and check everything first (docs/design.md, "Preflight"), so a set-up mistake
 * costs seconds and starts nothing; then start (or join) the sweep and follow it to the end.
 */
export async function runCommand(options: RunOptions): Promise<SweepResult> {
  if (options.worker) executionProvidersFor(options.device); // before any server starts
  if (!options.worker && !options.temporal) {
    throw new Error(
      '--no-worker needs --temporal (or TEMPORAL_ADDRESS): the embedded dev server lives in this process, ' +
        'so no other worker could ever reach it',
    );
  }
  const started = Date.now();
  const { config, model } = await configureSweepWithModel(options);
  const checked = await preflightSweep(config, model, options.preprocess);
  say(
    `checked in ${((Date.now() - started) / 1000).toFixed(1)} s: model, ${config.layers.length} layers, ` +
      `${checked.images} images, output root ${config.outUri}`,
  );
  const embedded = options.temporal
    ? undefined
    : await startEmbeddedTemporal(resolve(options.stateDir, 'embedded-temporal'));
  try {
    return await runOnServer(options, config, embedded);
  } finally {
    await embedded?.stop();
  }
}

async function runOnServer(
  options: RunOptions,
  config: SweepConfig,
  embedded: EmbeddedTemporal | undefined,
): Promise<SweepResult> {
  const address = options.temporal ?? embedded!.address;
  say(
    `run ${config.runId}: ${config.layers.length} layers, k=${config.k}, Temporal at ${address}` +
      `${embedded ? ` (embedded dev server, log ${embedded.logFile})` : ''}`,
  );
  // An embedded dev server is plain; a remote one may need TLS or an API key (TEMPORAL_* variables).
  const connectionOptions = embedded ? { address } : temporalConnectionOptions(address);
  const connection = await connectTemporal(address, (o) => Connection.connect(o), connectionOptions);
  const client = new Client({ connection, namespace: options.namespace });
  const queues = taskQueues(options.queuePrefix);
  const abort = new AbortController();
  let workersDone: Promise<void> | undefined;
  let workerConnection: NativeConnection | undefined;
  try {
    if (embedded) await retireInterruptedSweeps(client, config);
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
    const handle = await client.workflow.start(sweepWorkflow, {
      workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
      taskQueue: queues.cpu,
      workflowId: sweepWorkflowId(config.runId),
      args: [{ config, taskQueues: queues }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return await followSweep({ client, connection, handle, config, embedded, address, queues, options });
  } finally {
    abort.abort();
    await workersDone?.catch(() => undefined);
    await workerConnection?.close();
    await connection.close();
  }
}

/**
 * Sweeps left running in an embedded server's state by a `pure run` that died without stopping them
 * (kill -9, a crash): this command would otherwise finish them silently beside its own. Each is stopped
 * and named; its finished parts stay in its output folder, so its own command resumes from them.
 */
async function retireInterruptedSweeps(client: Client, config: SweepConfig): Promise<void> {
  const ours = sweepWorkflowId(config.runId);
  for await (const execution of client.workflow.list({
    query: `WorkflowType = '${sweepWorkflow.name}' AND ExecutionStatus = 'Running'`,
  })) {
    if (execution.workflowId === ours) {
      // Its earlier stages are done in the workflow's history but their files are gone (the output
      // folder was deleted or moved): resuming would look for them forever. Start over instead.
      if (await runStore(config).exists(runKeys.config)) {
        say(`resuming run ${config.runId}, interrupted earlier; finished parts are reused`);
        continue;
      }
      await client.workflow
        .getHandle(execution.workflowId)
        .terminate(`stopped by pure run ${config.runId}: its output under ${config.outUri} is gone`);
      say(`run ${config.runId} was interrupted earlier and its output is gone since: starting it over`);
      continue;
    }
    await client.workflow
      .getHandle(execution.workflowId)
      .terminate(
        `stopped by pure run ${config.runId}: left running by an earlier pure run that did not stop`,
      );
    say(
      `stopped ${execution.workflowId}, left running in this state folder by an earlier \`pure run\` ` +
        'that was killed; run that command again to resume it from its finished parts',
    );
  }
}

interface FollowInput {
  client: Client;
  connection: Connection;
  handle: WorkflowHandle<typeof sweepWorkflow>;
  config: SweepConfig;
  embedded: EmbeddedTemporal | undefined;
  address: string;
  queues: TaskQueues;
  options: RunOptions;
}

/** Progress until the sweep ends, or until the user interrupts: then says what was left and what to do. */
async function followSweep(input: FollowInput): Promise<SweepResult> {
  const { client, connection, handle } = input;
  const view = progressView();
  let last: readonly StageProgress[] = [];
  // A deadline bounds the client's own retries of a query, so stopping the poller never waits long.
  const refresh = () =>
    connection
      .withDeadline(Date.now() + QUERY_DEADLINE_MS, () => sweepStages(client, handle))
      .then((stages) => {
        last = stages;
        view.update(stages);
      });
  // A query can race the workflow's first task, or a child that has not started; the next poll retries.
  const poller = startPolling(refresh, 500);
  const interrupt = interruptions();
  try {
    const result = await Promise.race([resultThroughOutages(input), interrupt.signalled]);
    if (result === 'interrupted') throw await stopOnInterrupt(input, last);
    await refresh().catch(() => undefined);
    return result;
  } catch (error) {
    if (error instanceof WorkflowFailedError) throw new Error(`sweep failed: ${failureChain(error)}`);
    throw error;
  } finally {
    interrupt.dispose();
    await poller.stop();
    view.stop();
  }
}

/** How long `pure run` waits for a Temporal server that went away before it gives up (and says how to re-attach). */
const REATTACH_WINDOW_MS = 30 * 60_000;

/** True for "the server is not there" (restart, network), as opposed to an answer from it. */
function isUnavailable(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 14 || code === 4) return true; // gRPC UNAVAILABLE, DEADLINE_EXCEEDED
    if (/UNAVAILABLE|ECONNREFUSED|ECONNRESET|Failed to get Workflow execution history/.test(e.message))
      return true;
  }
  return false;
}

/**
 * The sweep's result, riding out a Temporal restart: the sweep itself lives on the server, so the
 * client only has to ask again once the server is back (docs/reliability.md).
 */
async function resultThroughOutages(input: FollowInput): Promise<SweepResult> {
  let lostSince: number | undefined;
  let announced = false;
  for (;;) {
    try {
      const result = await input.handle.result();
      if (lostSince !== undefined) say(`Temporal is back; run ${input.config.runId} finished`);
      return result;
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      lostSince ??= Date.now();
      if (Date.now() - lostSince > REATTACH_WINDOW_MS) {
        throw new Error(
          `lost Temporal at ${input.address} for ${REATTACH_WINDOW_MS / 60_000} minutes (${(error as Error).message}); ` +
            `the sweep goes on once the server is back: run the same pure run command again to re-attach`,
        );
      }
      if (!announced) {
        say(`lost Temporal at ${input.address}; waiting for it to come back (Ctrl-C to stop waiting)`);
        announced = true;
      }
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

/**
 * What an interrupt means depends on where the sweep lives. In an embedded server it would stop with
 * this process anyway: it is terminated now, so it cannot come back inside an unrelated later run; its
 * finished parts are kept and the same command resumes from them. On a shared server it goes on.
 */
async function stopOnInterrupt(input: FollowInput, last: readonly StageProgress[]): Promise<RunInterrupted> {
  const { config, embedded, address, options } = input;
  const left = last.filter((s) => s.done < s.total).map((s) => `${s.stage} ${s.done}/${s.total} ${s.unit}`);
  const where = runUri(config.outUri, config.runId);
  const progress = left.length > 0 ? ` Not finished: ${left.join(', ')}.` : '';
  if (embedded) {
    await input.handle.terminate('interrupted (Ctrl-C in pure run)').catch(() => undefined);
    return new RunInterrupted(
      `interrupted: run ${config.runId} stopped.${progress} Finished parts are kept under ${where}/; ` +
        'run the same command again to resume from them.',
    );
  }
  const server = `--temporal ${address} --namespace ${options.namespace}`;
  const workers = options.worker
    ? ` with the workers that serve ${input.queues.inference} and ${input.queues.cpu} (this process's worker stopped)`
    : '';
  return new RunInterrupted(
    `detached from run ${config.runId}; it goes on at ${address}${workers}.${progress} ` +
      `Watch it: pure status ${config.runId} ${server}. Stop it: pure cancel ${config.runId} ${server}. ` +
      'Re-attach: run the same pure run command again.',
  );
}
