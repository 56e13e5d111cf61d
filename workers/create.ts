import { fileURLToPath } from 'node:url';
import { type ActivityInterceptorsFactory, type NativeConnection, Worker } from '@temporalio/worker';
import { activitiesOf } from '../activities/index.js';
import { checkDevice } from '../core/adapters/onnxruntime/device.js';
import type { InferenceSettings } from '../core/adapters/onnxruntime/session.js';
import { type QueueRole, TASK_QUEUES, type TaskQueues } from '../core/compute/run/temporal-names.js';

export type WorkerRole = QueueRole;

export interface PureWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  roles: readonly WorkerRole[];
  taskQueues?: TaskQueues;
  /** onnxruntime threads and device of this worker's sessions. */
  inference?: InferenceSettings;
  /** Concurrent activities per worker (default: 1 for inference, where one ORT run already uses every core). */
  maxConcurrentActivities?: number;
  /** Activity interceptors of every worker, e.g. the metrics' (workers/metrics.ts). */
  activityInterceptors?: ActivityInterceptorsFactory[];
}

const workflowsPath = fileURLToPath(new URL('../workflows/index.js', import.meta.url));

/**
 * One Temporal worker per role. The CPU worker also runs the workflows; the inference worker holds the
 * onnxruntime sessions (one process per GPU in production).
 */
export async function createPureWorkers(options: PureWorkerOptions): Promise<Worker[]> {
  const queues = options.taskQueues ?? TASK_QUEUES;
  if (options.roles.includes('inference')) await checkDevice(options.inference?.device); // fail at start
  const workers: Worker[] = [];
  for (const role of options.roles) {
    const common = {
      connection: options.connection,
      namespace: options.namespace ?? 'default',
      // On SIGTERM / Ctrl-C: in-flight activities are cancelled after 10 s (they stop at once: see
      // activities/index.ts) and the worker is gone after 30 s whatever they do, within a pod's usual
      // 30-60 s termination grace; their retries run elsewhere (docs/reliability.md).
      shutdownGraceTime: '10 seconds',
      shutdownForceTime: '30 seconds',
      interceptors: { activity: options.activityInterceptors ?? [] },
    };
    switch (role) {
      case 'inference':
        // One activity at a time by default: one onnxruntime run already uses every core.
        workers.push(
          await Worker.create({
            ...common,
            taskQueue: queues.inference,
            activities: activitiesOf.inference(options.inference ?? {}),
            maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 1,
          }),
        );
        break;
      case 'cpu':
        workers.push(
          await Worker.create({
            ...common,
            taskQueue: queues.cpu,
            activities: activitiesOf.cpu(),
            workflowsPath,
            maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 2,
          }),
        );
        break;
      default: {
        const unknownRole: never = role;
        throw new Error(`unknown worker role ${String(unknownRole)}`);
      }
    }
  }
  return workers;
}

/** Healthy while every worker is starting, running or draining: a failed or stopped one is not. */
export function workersHealthy(workers: readonly Worker[]): boolean {
  return workers.every((w) => w.getState() !== 'FAILED' && w.getState() !== 'STOPPED');
}

/** Runs workers until `signal` aborts or one of them fails; either way all of them are shut down. */
export async function runWorkers(workers: readonly Worker[], signal?: AbortSignal): Promise<void> {
  const onAbort = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(
      workers.map((w) =>
        w.run().catch((error: unknown) => {
          onAbort(); // one failed worker stops its siblings, so the process does not half-serve
          throw error;
        }),
      ),
    );
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
