/**
 * What the commands that run a workflow (`pure run`, `pure assign`) share: a Temporal server (the
 * embedded dev server, or --temporal), a client, in-process workers for both queues unless --no-worker,
 * and following the workflow to its end with progress bars, through server restarts and Ctrl-C.
 */
import { resolve } from 'node:path';
import {
  ActivityFailure,
  ChildWorkflowFailure,
  Client,
  Connection,
  WorkflowFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { RetryState, type Workflow, type WorkflowResultType } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { checkDevice } from '../core/adapters/onnxruntime/device.js';
import type { Device } from '../core/adapters/onnxruntime/session.js';
import { connectTemporal, temporalConnectionOptions } from '../core/adapters/settings/temporal.js';
import { type TaskQueues, taskQueues } from '../core/compute/run/temporal-names.js';
import { createPureWorkers, runWorkers } from '../workers/create.js';
import { assignWorkflow } from '../workflows/assign.js';
import { type StageProgress, sweepWorkflow } from '../workflows/sweep.js';
import { type EmbeddedTemporal, startEmbeddedTemporal } from './embedded-temporal.js';
import { interruptions } from './interrupt.js';
import { progressView, startPolling } from './progress.js';

const QUERY_DEADLINE_MS = 5000;

/** Where a command's workflow runs, and whether this process serves its task queues. */
export interface ServerOptions {
  temporal?: string;
  namespace: string;
  worker: boolean;
  threads?: number;
  device: Device;
  stateDir: string;
  queuePrefix: string;
}

export const say = (line: string) => process.stderr.write(`[pure] ${line}\n`);

/** Raised when the user stops a command (Ctrl-C, SIGTERM); the CLI prints its message and exits 130. */
export class RunInterrupted extends Error {
  override readonly name = 'RunInterrupted';
}

/** Mistakes in the server options, found before any server starts. */
export async function checkServerOptions(options: ServerOptions): Promise<void> {
  if (!options.worker && !options.temporal) {
    throw new Error(
      '--no-worker needs --temporal (or TEMPORAL_ADDRESS): the embedded dev server lives in this process, ' +
        'so no other worker could ever reach it',
    );
  }
  if (options.worker) await checkDevice(options.device);
}

export interface TemporalSession {
  client: Client;
  connection: Connection;
  address: string;
  embedded: EmbeddedTemporal | undefined;
  queues: TaskQueues;
  options: ServerOptions;
}

export interface SessionHooks {
  /** Says where the workflow runs, once the server is known. */
  announce(address: string, embedded: EmbeddedTemporal | undefined): void;
  /** Runs once connected, before this process's workers poll (e.g. retire workflows left running). */
  beforeWorkers?(session: TemporalSession): Promise<void>;
}

/** Starts (or joins) the server, connects, runs the in-process workers, calls `body`; stops all of it after. */
export async function withTemporalSession<T>(
  options: ServerOptions,
  hooks: SessionHooks,
  body: (session: TemporalSession) => Promise<T>,
): Promise<T> {
  const embedded = options.temporal
    ? undefined
    : await startEmbeddedTemporal(resolve(options.stateDir, 'embedded-temporal'));
  try {
    const address = options.temporal ?? embedded!.address;
    hooks.announce(address, embedded);
    // An embedded dev server is plain; a remote one may need TLS or an API key (TEMPORAL_* variables).
    const connectionOptions = embedded ? { address } : temporalConnectionOptions(address);
    const connection = await connectTemporal(address, (o) => Connection.connect(o), connectionOptions);
    const session: TemporalSession = {
      client: new Client({ connection, namespace: options.namespace }),
      connection,
      address,
      embedded,
      queues: taskQueues(options.queuePrefix),
      options,
    };
    const abort = new AbortController();
    let workersDone: Promise<void> | undefined;
    let workerConnection: NativeConnection | undefined;
    try {
      await hooks.beforeWorkers?.(session);
      if (options.worker) {
        workerConnection = await NativeConnection.connect(connectionOptions);
        const workers = await createPureWorkers({
          connection: workerConnection,
          namespace: options.namespace,
          roles: ['inference', 'cpu'],
          taskQueues: session.queues,
          inference: { ...(options.threads ? { threads: options.threads } : {}), device: options.device },
        });
        workersDone = runWorkers(workers, abort.signal);
      }
      return await body(session);
    } finally {
      abort.abort();
      await workersDone?.catch(() => undefined);
      await workerConnection?.close();
      await connection.close();
    }
  } finally {
    await embedded?.stop();
  }
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

export interface FollowSpec<W extends Workflow> {
  session: TemporalSession;
  handle: WorkflowHandle<W>;
  /** The progress bars' stages, from the workflow's queries. */
  stages(): Promise<StageProgress[]>;
  /** What the workflow is, for messages: `sweep` ("sweep failed: ..."). */
  kind: string;
  /** Which one: `run <id>` ("Temporal is back; run <id> finished"). */
  name: string;
  /** The command that re-attaches: `pure run`. */
  command: string;
  /** Ctrl-C: stop or detach, and the message that says what was left and what to do. */
  onInterrupt(last: readonly StageProgress[]): Promise<RunInterrupted>;
}

/** Progress until the workflow ends, or until the user interrupts: then says what was left and what to do. */
export async function followWorkflow<W extends Workflow>(
  spec: FollowSpec<W>,
): Promise<WorkflowResultType<W>> {
  const view = progressView();
  let last: readonly StageProgress[] = [];
  // A deadline bounds the client's own retries of a query, so stopping the poller never waits long.
  const refresh = () =>
    spec.session.connection
      .withDeadline(Date.now() + QUERY_DEADLINE_MS, () => spec.stages())
      .then((stages) => {
        last = stages;
        view.update(stages);
      });
  // A query can race the workflow's first task, or a child that has not started; the next poll retries.
  const poller = startPolling(refresh, 500);
  const interrupt = interruptions();
  try {
    const result = await Promise.race([resultThroughOutages(spec), interrupt.signalled]);
    if (result === 'interrupted') throw await spec.onInterrupt(last);
    await refresh().catch(() => undefined);
    return result;
  } catch (error) {
    if (error instanceof WorkflowFailedError) throw new Error(`${spec.kind} failed: ${failureChain(error)}`);
    throw error;
  } finally {
    interrupt.dispose();
    await poller.stop();
    view.stop();
  }
}

/** How long a command waits for a Temporal server that went away before it gives up (and says how to re-attach). */
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
 * The workflow's result, riding out a Temporal restart: the workflow itself lives on the server, so the
 * client only has to ask again once the server is back (docs/reliability.md).
 */
async function resultThroughOutages<W extends Workflow>(spec: FollowSpec<W>): Promise<WorkflowResultType<W>> {
  const { address } = spec.session;
  let lostSince: number | undefined;
  let announced = false;
  for (;;) {
    try {
      const result = await spec.handle.result();
      if (lostSince !== undefined) say(`Temporal is back; ${spec.name} finished`);
      return result;
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      lostSince ??= Date.now();
      if (Date.now() - lostSince > REATTACH_WINDOW_MS) {
        throw new Error(
          `lost Temporal at ${address} for ${REATTACH_WINDOW_MS / 60_000} minutes (${(error as Error).message}); ` +
            `the ${spec.kind} goes on once the server is back: run the same ${spec.command} command again to re-attach`,
        );
      }
      if (!announced) {
        say(`lost Temporal at ${address}; waiting for it to come back (Ctrl-C to stop waiting)`);
        announced = true;
      }
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

/** The stages not finished, in words: `references 120/1000 images, ...`. */
export function unfinished(last: readonly StageProgress[]): string {
  const left = last.filter((s) => s.done < s.total).map((s) => `${s.stage} ${s.done}/${s.total} ${s.unit}`);
  return left.length > 0 ? ` Not finished: ${left.join(', ')}.` : '';
}

/**
 * Ctrl-C on a workflow in an embedded server: it would stop with this process anyway, so it is terminated
 * now and cannot come back inside an unrelated later command; its finished parts stay under `outUri` and
 * the same command resumes from them. (A shared server's workflow goes on: each command says how.)
 */
export async function stopEmbeddedOnInterrupt(
  handle: { terminate(reason: string): Promise<unknown> },
  own: Pick<OwnWorkflow, 'name' | 'command' | 'outUri'>,
  last: readonly StageProgress[],
): Promise<RunInterrupted> {
  await handle.terminate(`interrupted (Ctrl-C in ${own.command})`).catch(() => undefined);
  return new RunInterrupted(
    `interrupted: ${own.name} stopped.${unfinished(last)} Finished parts are kept under ${own.outUri}/; ` +
      'run the same command again to resume from them.',
  );
}

export interface OwnWorkflow {
  workflowId: string;
  /** For messages: `run <id>`. */
  name: string;
  /** The command that started it: `pure run`. */
  command: string;
  /** Whether its earlier output is still there (its config). */
  outputExists(): Promise<boolean>;
  outUri: string;
}

/**
 * Sweeps and assignments left running in an embedded server's state by a command that died without
 * stopping them (kill -9, a crash): this command would otherwise finish them silently beside its own.
 * Each is stopped and named; its finished parts stay in its output folder, so its own command resumes
 * from them. A shared server's workflows are never touched.
 */
export async function retireLeftovers(session: TemporalSession, own: OwnWorkflow): Promise<void> {
  if (!session.embedded) return;
  const { client } = session;
  const types = [sweepWorkflow.name, assignWorkflow.name].map((t) => `WorkflowType = '${t}'`).join(' OR ');
  for await (const execution of client.workflow.list({
    query: `(${types}) AND ExecutionStatus = 'Running'`,
  })) {
    const handle = client.workflow.getHandle(execution.workflowId);
    if (execution.workflowId === own.workflowId) {
      // Its earlier stages are done in the workflow's history but their files are gone (the output
      // folder was deleted or moved): resuming would look for them forever. Start over instead.
      if (await own.outputExists()) {
        say(`resuming ${own.name}, interrupted earlier; finished parts are reused`);
        continue;
      }
      await handle.terminate(`stopped by ${own.command} ${own.name}: its output under ${own.outUri} is gone`);
      say(`${own.name} was interrupted earlier and its output is gone since: starting it over`);
      continue;
    }
    await handle.terminate(`stopped by ${own.command}: left running by an earlier command that did not stop`);
    say(
      `stopped ${execution.workflowId}, left running in this state folder by an earlier \`pure run\` or ` +
        '`pure assign` that was killed; run that command again to resume it from its finished parts',
    );
  }
}
