/**
 * The worker's metrics (workers/metrics.ts, docs/operations.md): fake activity executions go through the
 * real activity interceptor in Temporal's mock activity environment, and the registry's Prometheus text
 * must carry the series with the right labels and values.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Info } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { type OrtSession, runWithTimeout } from '../../../core/adapters/onnxruntime/session.js';
import { createWorkerMetrics, type WorkerMetrics } from '../../../workers/metrics.js';
import { startMetricsServer } from '../../../workers/metrics-server.js';

const opened: WorkerMetrics[] = [];
after(() => {
  for (const m of opened) m.close();
});

function fresh(): WorkerMetrics {
  const metrics = createWorkerMetrics({ defaultMetrics: false });
  opened.push(metrics);
  return metrics;
}

/** Runs `fn` as activity `activityType` of queue q-inference through the metrics interceptor. */
function execute<T>(
  metrics: WorkerMetrics,
  info: Partial<Info>,
  fn: (input: unknown) => Promise<T>,
  input = {},
) {
  const env = new MockActivityEnvironment(
    { taskQueue: 'q-inference', attempt: 1, currentAttemptScheduledTimestampMs: Date.now(), ...info },
    { interceptors: [metrics.interceptor] },
  );
  return env.run(fn, input);
}

/** The value of one series in the registry's text, e.g. `pure_circuit_vectors_total`. */
async function value(metrics: WorkerMetrics, series: string): Promise<number | undefined> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const circuits = '{activity_type="circuits",task_queue="q-inference"}';

test('a completed activity: done, queue latency, duration, running back to 0, and its circuit vectors', async () => {
  const metrics = fresh();
  const part = { relevanceKey: 'k', rows: 40, skipped: 0, reused: false };
  const scheduled = Date.now() - 2500; // waited 2.5 s in the queue
  await execute(
    metrics,
    { activityType: 'circuits', currentAttemptScheduledTimestampMs: scheduled },
    async () => part,
  );
  assert.equal(await value(metrics, `pure_activities_done_total${circuits}`), 1);
  assert.equal(await value(metrics, 'pure_circuit_vectors_total'), 40);
  assert.equal(await value(metrics, `pure_activity_schedule_to_start_seconds_count${circuits}`), 1);
  const waited = (await value(metrics, `pure_activity_schedule_to_start_seconds_sum${circuits}`)) ?? 0;
  assert.ok(waited >= 2.5 && waited < 10, `queue latency ${waited} s`);
  assert.equal(
    await value(
      metrics,
      'pure_activity_schedule_to_start_seconds_bucket{le="1",activity_type="circuits",task_queue="q-inference"}',
    ),
    0,
  );
  assert.equal(await value(metrics, `pure_activity_duration_seconds_count${circuits}`), 1);
  assert.equal(await value(metrics, `pure_activities_running${circuits}`), 0);
  assert.equal(await value(metrics, `pure_activities_retried_total${circuits}`), undefined, 'first attempt');
});

test('images by stage from the results; a reused part counts no work', async () => {
  const metrics = fresh();
  const shard = { shard: { first: 1000, end: 1250 } };
  await execute(
    metrics,
    { activityType: 'referencesShard' },
    async () => ({ rows: 9, reused: false }),
    shard,
  );
  await execute(
    metrics,
    { activityType: 'referencesShard' },
    async () => ({ rows: -1, reused: true }),
    shard,
  );
  await execute(metrics, { activityType: 'crops' }, async () => ({ rows: 64, reused: false }));
  await execute(metrics, { activityType: 'embeddings' }, async () => ({ rows: 64, reused: false }));
  await execute(metrics, { activityType: 'circuits' }, async () => ({ rows: -1, reused: true }));
  assert.equal(await value(metrics, 'pure_images_total{stage="references"}'), 250);
  assert.equal(await value(metrics, 'pure_images_total{stage="crops"}'), 64);
  assert.equal(await value(metrics, 'pure_images_total{stage="embeddings"}'), 64);
  assert.equal(await value(metrics, 'pure_circuit_vectors_total'), 0);
  assert.equal(
    await value(
      metrics,
      'pure_activities_done_total{activity_type="referencesShard",task_queue="q-inference"}',
    ),
    2,
  );
});

test('failures by reason, and retries by attempt number', async () => {
  const metrics = fresh();
  const info = { activityType: 'virtualNeurons', taskQueue: 'q-cpu' };
  const fail = (error: Error) => async () => {
    throw error;
  };
  await assert.rejects(execute(metrics, { ...info, attempt: 3 }, fail(new Error('connection reset'))));
  await assert.rejects(
    execute(metrics, info, fail(ApplicationFailure.nonRetryable('bad layer', 'UnknownLayer'))),
  );
  const lastAttempt = { ...info, attempt: 5, retryPolicy: { maximumAttempts: 5 } };
  await assert.rejects(execute(metrics, lastAttempt, fail(new Error('still down'))));
  const labels = 'activity_type="virtualNeurons",task_queue="q-cpu"';
  assert.equal(await value(metrics, `pure_activities_failed_total{${labels},reason="retryable"}`), 1);
  assert.equal(await value(metrics, `pure_activities_failed_total{${labels},reason="non_retryable"}`), 2);
  assert.equal(await value(metrics, `pure_activities_retried_total{${labels}}`), 2);
  assert.equal(await value(metrics, `pure_activities_done_total{${labels}}`), undefined);
  assert.equal(await value(metrics, `pure_activities_running{${labels}}`), 0);
});

test('onnxruntime runs inside an activity are timed under its labels; runs outside one under none', async () => {
  const metrics = fresh();
  const session = { run: async () => ({}) } as unknown as OrtSession;
  await execute(metrics, { activityType: 'circuits' }, async () => {
    await runWithTimeout(session, {}, [], 'a test batch', 1000);
    await runWithTimeout(session, {}, [], 'a test batch', 1000);
    return { rows: 0, reused: false };
  });
  await runWithTimeout(session, {}, [], 'a probe', 1000);
  assert.equal(await value(metrics, `pure_inference_seconds_count${circuits}`), 2);
  assert.equal(
    await value(metrics, 'pure_inference_seconds_count{activity_type="none",task_queue="none"}'),
    1,
  );
  metrics.close();
  await runWithTimeout(session, {}, [], 'after close', 1000);
  assert.equal(
    await value(metrics, `pure_inference_seconds_count${circuits}`),
    2,
    'closed: no longer listening',
  );
});

test('the default registry also has Node process metrics', async () => {
  const metrics = createWorkerMetrics();
  opened.push(metrics);
  const text = await metrics.registry.metrics();
  for (const name of [
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'nodejs_eventloop_lag_seconds',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'));
  }
});

test('the HTTP endpoint: /metrics in Prometheus text format, /healthz as health says, 404 elsewhere', async () => {
  const metrics = fresh();
  let healthy = false;
  const server = await startMetricsServer({
    port: 0,
    host: '127.0.0.1',
    registry: metrics.registry,
    healthy: () => healthy,
  });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const scrape = await fetch(`${base}/metrics`);
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await scrape.text(), /^# TYPE pure_circuit_vectors_total counter$/m);
    assert.equal((await fetch(`${base}/healthz`)).status, 503);
    healthy = true;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/other`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
    await assert.rejects(
      startMetricsServer({
        port: server.port,
        host: '127.0.0.1',
        registry: metrics.registry,
        healthy: () => true,
      }),
      /--metrics-port \d+ is in use/,
    );
  } finally {
    await server.close();
  }
});
