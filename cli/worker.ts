import { NativeConnection, type Worker } from '@temporalio/worker';
import { checkDevice } from '../core/adapters/onnxruntime/device.js';
import type { Device } from '../core/adapters/onnxruntime/session.js';
import { connectTemporal } from '../core/adapters/settings/temporal.js';
import { QUEUE_ROLES, type QueueRole, taskQueues } from '../core/compute/run/temporal-names.js';
import { createPureWorkers, runWorkers, workersHealthy } from '../workers/create.js';
import { createWorkerMetrics, type WorkerMetrics } from '../workers/metrics.js';
import { type MetricsServer, startMetricsServer } from '../workers/metrics-server.js';
import { log } from './logging.js';

export interface WorkerOptions {
  queues: string;
  temporal: string;
  namespace: string;
  threads?: number;
  device: Device;
  queuePrefix: string;
  /** Serve /metrics and /healthz on this port (0: any free port); none without it. */
  metricsPort?: number;
}

export async function workerCommand(options: WorkerOptions): Promise<void> {
  const roles = options.queues.split(',').map((q) => q.trim());
  const invalid = roles.filter((r) => !(QUEUE_ROLES as readonly string[]).includes(r));
  if (invalid.length > 0 || roles.length === 0) {
    throw new Error(`--queues takes inference, cpu or both; got ${options.queues}`);
  }
  if (roles.includes('inference')) await checkDevice(options.device); // before connecting: fail fast
  const queues = taskQueues(options.queuePrefix);
  // The endpoint comes first: a port in use fails before connecting, and /healthz says 503 until the
  // workers exist.
  const workers: Worker[] = [];
  const metrics = options.metricsPort === undefined ? undefined : createWorkerMetrics();
  const server = metrics ? await serveMetrics(metrics, options.metricsPort ?? 0, workers) : undefined;
  try {
    const connection = await connectTemporal(options.temporal, (o) => NativeConnection.connect(o));
    try {
      workers.push(
        ...(await createPureWorkers({
          connection,
          namespace: options.namespace,
          roles: roles as QueueRole[],
          taskQueues: queues,
          inference: { ...(options.threads ? { threads: options.threads } : {}), device: options.device },
          ...(metrics ? { activityInterceptors: [metrics.interceptor] } : {}),
        })),
      );
      await serve(workers, roles as QueueRole[], options);
    } finally {
      await connection.close();
    }
  } finally {
    await server?.close();
    metrics?.close();
  }
}

/** Runs the workers until SIGINT or SIGTERM (then they drain: docs/reliability.md) or until one fails. */
async function serve(workers: Worker[], roles: QueueRole[], options: WorkerOptions): Promise<void> {
  const abort = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log('info', `${signal}: stopping; running activities get 10 s, then they are retried elsewhere`, {
        signal,
      });
      abort.abort();
    });
  }
  const served = roles.map((r) => taskQueues(options.queuePrefix)[r]);
  log('info', `worker serving ${served.join(' + ')} at ${options.temporal}`, {
    taskQueues: served,
    temporal: options.temporal,
    namespace: options.namespace,
  });
  await runWorkers(workers, abort.signal);
}

async function serveMetrics(metrics: WorkerMetrics, port: number, workers: Worker[]): Promise<MetricsServer> {
  const server = await startMetricsServer({
    port,
    registry: metrics.registry,
    healthy: () => workers.length > 0 && workersHealthy(workers),
  });
  log('info', `metrics at http://0.0.0.0:${server.port}/metrics (health: /healthz)`, {
    metricsPort: server.port,
  });
  return server;
}
