import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Context, type Info } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { InferenceActivities } from '../activities/index.js';
import { INFERENCE_RUNS, type InferenceRun } from '../core/adapters/onnxruntime/session.js';

/**
 * A worker's Prometheus metrics (docs/operations.md lists them with units and dashboard queries).
 * Activities are measured by a Temporal activity interceptor, not inside each activity: every activity
 * of every queue is counted the same way, and activities/ and core/ stay free of metrics. The domain
 * counters (circuit vectors, images) are read from the activities' results, which already carry their
 * row counts; inference time comes from the runs core/adapters/onnxruntime publishes.
 */
export interface WorkerMetrics {
  readonly registry: Registry;
  /** For `interceptors.activity` of every Worker.create of this process. */
  readonly interceptor: ActivityInterceptorsFactory;
  /** Stops listening to onnxruntime runs (the registry stays readable). */
  close(): void;
}

const ACTIVITY_LABELS = ['activity_type', 'task_queue'] as const;
type ActivityLabels = Record<(typeof ACTIVITY_LABELS)[number], string>;

/** Seconds: a poll picks a task up in milliseconds; a backlog waits for minutes. */
const QUEUE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
/** Seconds: activities run from milliseconds (a skipped part) to many minutes (a references shard). */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 3600];
/** Seconds: one onnxruntime run, a small batch on a GPU to a large one on 2 CPU cores. */
const INFERENCE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Activity attempts: outcomes, retries, queue latency and run time. */
function activityDefinitions(registry: Registry) {
  const registers = [registry];
  const labelNames = ACTIVITY_LABELS;
  return {
    done: new Counter({
      name: 'pure_activities_done_total',
      help: 'Activity attempts that completed',
      labelNames,
      registers,
    }),
    failed: new Counter({
      name: 'pure_activities_failed_total',
      help: 'Activity attempts that failed; reason: retryable (Temporal retries it), non_retryable (bad input, permanent storage error, or the last attempt), cancelled',
      labelNames: [...labelNames, 'reason'],
      registers,
    }),
    retried: new Counter({
      name: 'pure_activities_retried_total',
      help: 'Activity attempts that were retries (attempt > 1) started on this worker',
      labelNames,
      registers,
    }),
    running: new Gauge({
      name: 'pure_activities_running',
      help: 'Activity attempts running now',
      labelNames,
      registers,
    }),
    queueLatency: new Histogram({
      name: 'pure_activity_schedule_to_start_seconds',
      help: "Queue latency: from the attempt's scheduling (server clock) to its start on this worker (worker clock)",
      labelNames,
      buckets: QUEUE_BUCKETS,
      registers,
    }),
    duration: new Histogram({
      name: 'pure_activity_duration_seconds',
      help: 'Activity attempt run time on this worker, whatever its outcome',
      labelNames,
      buckets: DURATION_BUCKETS,
      registers,
    }),
  };
}

/** What the work amounts to: inference time, circuit vectors, images. */
function workDefinitions(registry: Registry) {
  const registers = [registry];
  return {
    inference: new Histogram({
      name: 'pure_inference_seconds',
      help: 'One onnxruntime session run (a batch through a model), by the activity that ran it',
      labelNames: ACTIVITY_LABELS,
      buckets: INFERENCE_BUCKETS,
      registers,
    }),
    circuitVectors: new Counter({
      name: 'pure_circuit_vectors_total',
      help: 'Circuit vectors computed: (neuron, reference image) rows of the relevance table',
      registers,
    }),
    images: new Counter({
      name: 'pure_images_total',
      help: 'Images processed; stage: references (dataset images read and forwarded), crops (reference images cropped by a heatmap), embeddings (crops through the evaluator)',
      labelNames: ['stage'],
      registers,
    }),
  };
}

function definitions(registry: Registry) {
  return { ...activityDefinitions(registry), ...workDefinitions(registry) };
}

type Metrics = ReturnType<typeof definitions>;

/** The inference activities whose results say how much work they did, and what that work counts as. */
type Work<K extends keyof InferenceActivities> = (
  input: Parameters<InferenceActivities[K]>[0],
  result: Awaited<ReturnType<InferenceActivities[K]>>,
  metrics: Metrics,
) => void;

/** A part that already existed (a retry or a re-run) did no work: `reused` results count nothing. */
const WORK: { [K in keyof InferenceActivities]?: Work<K> } = {
  referencesShard: ({ shard }, result, m) => {
    if (!result.reused) m.images.inc({ stage: 'references' }, shard.end - shard.first);
  },
  circuits: (_, result, m) => {
    if (!result.reused) m.circuitVectors.inc(result.rows);
  },
  crops: (_, result, m) => {
    if (!result.reused) m.images.inc({ stage: 'crops' }, result.rows);
  },
  embeddings: (_, result, m) => {
    if (!result.reused) m.images.inc({ stage: 'embeddings' }, result.rows);
  },
};

function countWork(activityType: string, input: unknown, result: unknown, metrics: Metrics): void {
  const count = WORK[activityType as keyof InferenceActivities] as
    | ((input: unknown, result: unknown, metrics: Metrics) => void)
    | undefined;
  count?.(input, result, metrics);
}

/** Why an attempt failed, as the failed counter's `reason`. */
export function failureReason(error: unknown, info: Info, cancelled: boolean): string {
  if (cancelled || error instanceof CancelledFailure) return 'cancelled';
  if (error instanceof ApplicationFailure && error.nonRetryable) return 'non_retryable';
  const maximumAttempts = info.retryPolicy?.maximumAttempts ?? 0;
  return maximumAttempts > 0 && info.attempt >= maximumAttempts ? 'non_retryable' : 'retryable';
}

async function observeActivity(
  metrics: Metrics,
  context: Context,
  input: unknown,
  run: () => Promise<unknown>,
): Promise<unknown> {
  const { info } = context;
  const labels: ActivityLabels = { activity_type: info.activityType, task_queue: info.taskQueue };
  const queuedMs = Date.now() - info.currentAttemptScheduledTimestampMs;
  metrics.queueLatency.observe(labels, Math.max(0, queuedMs) / 1000);
  if (info.attempt > 1) metrics.retried.inc(labels);
  metrics.running.inc(labels);
  const stopTimer = metrics.duration.startTimer(labels);
  try {
    const result = await run();
    metrics.done.inc(labels);
    countWork(info.activityType, input, result, metrics);
    return result;
  } catch (error) {
    const reason = failureReason(error, info, context.cancellationSignal.aborted);
    metrics.failed.inc({ ...labels, reason });
    throw error;
  } finally {
    stopTimer();
    metrics.running.dec(labels);
  }
}

/** The activity running in this async context, if any (onnxruntime runs also happen outside activities). */
function currentActivity(): Info | undefined {
  try {
    return Context.current().info;
  } catch {
    return undefined;
  }
}

/**
 * A fresh registry with pure's worker metrics and, unless `defaultMetrics` is false, Node's process
 * metrics (CPU, memory, event-loop lag, GC: prom-client's collectDefaultMetrics).
 */
export function createWorkerMetrics(options: { defaultMetrics?: boolean } = {}): WorkerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const metrics = definitions(registry);
  const onInference = (message: unknown) => {
    const info = currentActivity();
    const labels = { activity_type: info?.activityType ?? 'none', task_queue: info?.taskQueue ?? 'none' };
    metrics.inference.observe(labels, (message as InferenceRun).seconds);
  };
  subscribe(INFERENCE_RUNS, onInference);
  return {
    registry,
    interceptor: (context) => ({
      inbound: {
        execute: (input, next) => observeActivity(metrics, context, input.args[0], () => next(input)),
      },
    }),
    close: () => unsubscribe(INFERENCE_RUNS, onInference),
  };
}
