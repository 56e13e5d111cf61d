/**
 * `pure worker --metrics-port --temporal-metrics-port --log-format json` as a separate process on the real
 * Temporal server (docs/operations.md): a small sweep runs through it, then its /metrics shows the work
 * (activities done, circuit vectors, images, inference time), the SDK's own endpoint answers, /healthz
 * is 200, and every line it logged is one JSON object.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { PREPROCESS_PRESETS } from '../../core/compute/images/preprocess.js';
import { taskQueues } from '../../core/compute/run/temporal-names.js';
import { sweepWorkflow } from '../../workflows/sweep.js';
import { testConfig } from '../support/config.js';
import { projectRoot, sharedDataset, sharedModel } from '../support/paths.js';
import { temporalAddress } from '../support/services.js';

const cli = join(projectRoot, 'dist', 'cli', 'main.js');

/** A port free right now (the SDK's exporter cannot be asked for port 0 and tell which it took). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the port of /metrics, from the worker's own log line. */
  metricsPort: Promise<number>;
}

function startWorker(address: string, prefix: string, sdkPort: number): WorkerProcess {
  const args = ['worker', '--temporal', address, '--queue-prefix', prefix, '--threads', '1'];
  args.push('--metrics-port', '0', '--temporal-metrics-port', String(sdkPort), '--log-format', 'json');
  // DEBUG: the SDK then logs every activity start and completion, with the fields the test looks for.
  const child = spawn(process.execPath, [cli, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PURE_LOG_LEVEL: 'DEBUG' },
  });
  const lines: string[] = [];
  let rest = '';
  const metricsPort = new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before serving metrics`)));
    child.stderr?.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        const port = line.includes('"metricsPort"')
          ? (JSON.parse(line) as { metricsPort: number }).metricsPort
          : 0;
        if (port > 0) resolve(port);
      }
    });
  });
  return { child, lines, metricsPort };
}

/** The value of one series in Prometheus text, e.g. `pure_circuit_vectors_total`. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('pure worker: metrics, health and JSON logs (real Temporal, worker as a separate process)', () => {
  let worker: WorkerProcess | undefined;
  let out: string | undefined;
  after(async () => {
    if (worker?.child.exitCode === null) worker.child.kill('SIGKILL');
    if (out) await rm(out, { recursive: true, force: true });
  });

  test('a small sweep shows on /metrics; the SDK metrics and /healthz answer; every log line is JSON', async () => {
    const address = await temporalAddress();
    out = await mkdtemp(join(tmpdir(), 'pure-metrics-'));
    const prefix = `metrics-${randomUUID()}`;
    const sdkPort = await freePort();
    worker = startWorker(address, prefix, sdkPort);
    const base = `http://127.0.0.1:${await worker.metricsPort}`;
    const config = testConfig({
      runId: 'metrics',
      modelUri: sharedModel('resnet20-cifar10.onnx'),
      dataUri: sharedDataset('cifar10-test'),
      outUri: out,
      layers: ['/layer1/layer1.2/Relu_1_output_0', '/layer2/layer2.2/Relu_1_output_0'],
      k: 5,
      preprocess: PREPROCESS_PRESETS.cifar10,
      batchSize: 50,
      shardSize: 50,
      limit: 100,
      neuronBatch: 16,
      until: 'virtual-neurons',
      clusterCounts: [2],
    });
    const connection = await Connection.connect({ address });
    try {
      await new Client({ connection }).workflow.execute(sweepWorkflow, {
        taskQueue: taskQueues(prefix).cpu,
        workflowId: `pure-sweep-metrics-${prefix}`,
        args: [{ config, taskQueues: taskQueues(prefix) }],
      });
    } finally {
      await connection.close();
    }

    const text = await (await fetch(`${base}/metrics`)).text();
    const inference = `{activity_type="circuits",task_queue="${prefix}-inference"}`;
    assert.ok(
      (value(text, `pure_activities_done_total${inference}`) ?? 0) >= 2,
      'two neuron batches of circuits',
    );
    assert.equal(
      value(
        text,
        `pure_activities_done_total{activity_type="referencesShard",task_queue="${prefix}-inference"}`,
      ),
      2,
    );
    assert.ok(
      (value(text, `pure_activities_done_total{activity_type="virtualNeurons",task_queue="${prefix}-cpu"}`) ??
        0) >= 2,
    );
    assert.equal(value(text, 'pure_circuit_vectors_total'), 32 * 5, 'k circuit vectors per neuron of layer2');
    assert.equal(value(text, 'pure_images_total{stage="references"}'), 100);
    assert.ok((value(text, `pure_inference_seconds_count${inference}`) ?? 0) > 0);
    assert.ok((value(text, `pure_activity_schedule_to_start_seconds_count${inference}`) ?? 0) >= 2);
    assert.match(text, /^process_cpu_seconds_total \d/m);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const sdk = await (await fetch(`http://127.0.0.1:${sdkPort}/metrics`)).text();
    assert.match(sdk, /^temporal_activity_schedule_to_start_latency_bucket\{/m);
    assert.match(sdk, /^temporal_activity_execution_latency_count\{/m);

    const exited = new Promise((resolve) => worker?.child.once('exit', resolve));
    worker.child.kill('SIGTERM');
    assert.equal(await exited, 0, 'SIGTERM: drained and exited cleanly');
    const entries = worker.lines.filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(
      entries.every(
        (e) => typeof e.time === 'string' && typeof e.level === 'string' && typeof e.msg === 'string',
      ),
    );
    assert.ok(entries.some((e) => e.logger === 'pure' && String(e.msg).startsWith('worker serving')));
    const activity = entries.find((e) => e.logger === 'temporal' && e.activityType === 'circuits');
    assert.ok(activity, 'the SDK logged a circuits activity');
    assert.equal(activity.workflowId, `pure-sweep-metrics-${prefix}/layer-1`);
    assert.equal(typeof activity.runId, 'string');
    assert.equal(activity.attempt, 1);
    assert.equal(activity.taskToken, undefined);
  });
});
