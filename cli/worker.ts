import { NativeConnection } from '@temporalio/worker';
import { type Device, executionProvidersFor } from '../core/adapters/onnxruntime/session.js';
import { connectTemporal } from '../core/adapters/settings/temporal.js';
import { QUEUE_ROLES, type QueueRole, taskQueues } from '../core/compute/run/temporal-names.js';
import { createPureWorkers, runWorkers } from '../workers/create.js';

export interface WorkerOptions {
  queues: string;
  temporal: string;
  namespace: string;
  threads?: number;
  device: Device;
  queuePrefix: string;
}

export async function workerCommand(options: WorkerOptions): Promise<void> {
  const roles = options.queues.split(',').map((q) => q.trim());
  const invalid = roles.filter((r) => !(QUEUE_ROLES as readonly string[]).includes(r));
  if (invalid.length > 0 || roles.length === 0) {
    throw new Error(`--queues takes inference, cpu or both; got ${options.queues}`);
  }
  if (roles.includes('inference')) executionProvidersFor(options.device); // before connecting: fail fast
  const queues = taskQueues(options.queuePrefix);
  const connection = await connectTemporal(options.temporal, (o) => NativeConnection.connect(o));
  const workers = await createPureWorkers({
    connection,
    namespace: options.namespace,
    roles: roles as QueueRole[],
    taskQueues: queues,
    inference: { ...(options.threads ? { threads: options.threads } : {}), device: options.device },
  });
  const abort = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => abort.abort());
  process.stderr.write(
    `[pure] worker serving ${roles.map((r) => queues[r as QueueRole]).join(' + ')} at ${options.temporal}\n`,
  );
  try {
    await runWorkers(workers, abort.signal);
  } finally {
    await connection.close();
  }
}
