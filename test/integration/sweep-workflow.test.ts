import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { CpuActivities, InferenceActivities } from '../../activities/index.js';
import { PREPROCESS_PRESETS } from '../../core/compute/images/preprocess.js';
import type { SweepConfig } from '../../core/compute/run/config.js';
import { layerProgressQuery, layerWorkflow } from '../../workflows/layer.js';
import { progressQuery, sweepWorkflow } from '../../workflows/sweep.js';
import { testConfig } from '../support/config.js';
import { PrivateTemporal } from '../support/fault-services.js';
import { temporalAddress } from '../support/services.js';

/**
 * The sweep workflow's orchestration on a real Temporal server, with stub activities that record what
 * they were asked: every shard once, never more than `window` in flight, one merge per layer.
 */
describe('sweepWorkflow orchestration (real Temporal, stub activities)', () => {
  let connection: Connection;
  let workerConnection: NativeConnection;
  before(async () => {
    const address = await temporalAddress();
    connection = await Connection.connect({ address });
    workerConnection = await NativeConnection.connect({ address });
  });
  after(async () => {
    await workerConnection?.close();
    await connection?.close();
  });

  test('fans shards out with a bounded window, merges each layer, reports progress', async () => {
    const queue = `test-${randomUUID()}`;
    const shards = Array.from({ length: 9 }, (_, i) => ({ first: i * 10, end: Math.min(85, i * 10 + 10) }));
    let inFlight = 0;
    let maxInFlight = 0;
    const shardCalls: number[] = [];
    const mergeCalls: string[] = [];
    // One queue serves both roles here: the workflow's fan-out is what is under test.
    const activities: Pick<InferenceActivities, 'prepareSweep' | 'referencesShard'> &
      Pick<CpuActivities, 'mergeReferences' | 'finishReferences'> = {
      prepareSweep: async () => ({
        numSamples: 85,
        layers: [
          { name: 'a', dims: [4, 2, 2], channels: 4 },
          { name: 'b', dims: [8, 1, 1], channels: 8 },
        ],
      }),
      referencesShard: async ({ shard }) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 30));
        inFlight--;
        shardCalls.push(shard.first);
        return { key: `k${shard.first}`, rows: 1, skipped: 0, reused: false };
      },
      mergeReferences: async ({ layer }) => {
        mergeCalls.push(layer.name);
        return { layer: layer.name, key: `m-${layer.name}`, rows: 1, reused: false };
      },
      finishReferences: async ({ merged }) => ({
        runUri: 'mem://run',
        skipped: merged.length,
        manifestKey: 'm',
      }),
    };
    const worker = await Worker.create({
      connection: workerConnection,
      taskQueue: queue,
      workflowsPath: fileURLToPath(new URL('../../workflows/index.js', import.meta.url)),
      activities,
      maxConcurrentActivityTaskExecutions: 10,
    });
    const config: SweepConfig = testConfig({
      runId: 'r',
      modelUri: 'm.onnx',
      dataUri: 'd',
      outUri: 'o',
      layers: ['a', 'b'],
      k: 3,
      preprocess: { resizeShortSide: 32, cropSize: 32, mean: [0, 0, 0], std: [1, 1, 1] },
      batchSize: 8,
      shardSize: 10,
      window: 3,
      until: 'references',
    });
    const client = new Client({ connection });
    const result = await worker.runUntil(async () => {
      const handle = await client.workflow.start(sweepWorkflow, {
        taskQueue: queue,
        workflowId: `sweep-${queue}`,
        args: [{ config, taskQueues: { inference: queue, cpu: queue } }],
      });
      const value = await handle.result();
      const progress = await handle.query(progressQuery);
      assert.equal(progress.state, 'done');
      assert.deepEqual(
        progress.stages.map((s) => [s.stage, s.done, s.total]),
        [
          ['references', 85, 85],
          ['references-merge', 2, 2],
        ],
      );
      return value;
    });
    assert.deepEqual(
      shardCalls.sort((x, y) => x - y),
      shards.map((s) => s.first),
    );
    assert.ok(maxInFlight <= 3, `at most 3 shards in flight, saw ${maxInFlight}`);
    assert.ok(maxInFlight >= 2, `the window is used (saw ${maxInFlight} in flight)`);
    assert.deepEqual(mergeCalls.sort(), ['a', 'b']);
    assert.deepEqual(result.references, [
      { layer: 'a', key: 'm-a' },
      { layer: 'b', key: 'm-b' },
    ]);
    assert.equal(result.numSamples, 85);
  });

  test('a 10,000-shard sweep keeps every history bounded: the references fan-out continues as new', async () => {
    // Its own in-memory dev server: 10,000 activities run about 3x faster than on the shared one's SQLite
    // file, and nothing else waits behind them.
    const dir = await mkdtemp(join(tmpdir(), 'pure-10k-'));
    const server = await PrivateTemporal.start(dir, { inMemory: true });
    const connection = await Connection.connect({ address: server.address });
    const workerConnection = await NativeConnection.connect({ address: server.address });
    try {
      await tenThousandShards(connection, workerConnection);
    } finally {
      await workerConnection.close();
      await connection.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function tenThousandShards(connection: Connection, workerConnection: NativeConnection): Promise<void> {
  {
    const queue = `test-${randomUUID()}`;
    const numSamples = 10_000;
    const seen = new Uint8Array(numSamples);
    let prepareResultBytes = 0;
    const activities: Pick<InferenceActivities, 'prepareSweep' | 'referencesShard'> &
      Pick<CpuActivities, 'mergeReferences' | 'finishReferences'> = {
      prepareSweep: async () => {
        const result = { numSamples, layers: [{ name: 'a', dims: [4, 2, 2], channels: 4 }] };
        prepareResultBytes = JSON.stringify(result).length;
        return result;
      },
      referencesShard: async ({ shard }) => {
        for (let i = shard.first; i < shard.end; i++) seen[i]! += 1;
        // every third shard "already there", as on a resumed run
        return { key: `k${shard.first}`, rows: 1, skipped: 0, reused: shard.first % 3 === 0 };
      },
      mergeReferences: async ({ layer, numSamples: n }) => ({
        layer: layer.name,
        key: `m${n}`,
        rows: 1,
        reused: false,
      }),
      finishReferences: async () => ({ runUri: 'mem://run', skipped: 0, manifestKey: 'm' }),
    };
    const worker = await Worker.create({
      connection: workerConnection,
      taskQueue: queue,
      workflowsPath: fileURLToPath(new URL('../../workflows/index.js', import.meta.url)),
      activities,
      maxConcurrentActivityTaskExecutions: 200,
    });
    const config: SweepConfig = testConfig({
      runId: 'big',
      modelUri: 'm.onnx',
      dataUri: 'd',
      outUri: 'o',
      layers: ['a'],
      k: 3,
      preprocess: { resizeShortSide: 32, cropSize: 32, mean: [0, 0, 0], std: [1, 1, 1] },
      batchSize: 8,
      shardSize: 1,
      window: 100,
      until: 'references',
    });
    const client = new Client({ connection });
    const sweepId = `sweep-${queue}`;
    const result = await worker.runUntil(async () => {
      const handle = await client.workflow.start(sweepWorkflow, {
        taskQueue: queue,
        workflowId: sweepId,
        args: [{ config, taskQueues: { inference: queue, cpu: queue } }],
      });
      return handle.result();
    });
    assert.ok(
      seen.every((n) => n === 1),
      'every shard ran exactly once',
    );
    assert.equal(result.shardsReused + result.shardsComputed, numSamples);
    assert.equal(result.shardsReused, Math.ceil(numSamples / 3));
    assert.ok(prepareResultBytes < 200, `prepareSweep's result stays small (${prepareResultBytes} bytes)`);

    const eventsOf = async (workflowId: string, runId?: string) =>
      (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events?.length ?? 0;
    const sweepEvents = await eventsOf(sweepId);
    assert.ok(sweepEvents < 100, `the sweep's history has ${sweepEvents} events`);
    const runs: number[] = [];
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${sweepId}/references'` })) {
      runs.push(await eventsOf(execution.workflowId, execution.runId));
    }
    assert.ok(runs.length >= numSamples / 500, `${runs.length} runs of the references workflow`);
    assert.ok(Math.max(...runs) < 4096, `largest references history: ${Math.max(...runs)} events`);
  }
}

describe('layerWorkflow continues as new on long layers (real Temporal, stub activities)', () => {
  test('every neuron batch runs once across runs; progress carries over; one summary at the end', async () => {
    const address = await temporalAddress();
    const connection = await Connection.connect({ address });
    const workerConnection = await NativeConnection.connect({ address });
    const queue = `test-layer-${randomUUID()}`;
    const circuitCalls: number[] = [];
    const clusterCalls: number[] = [];
    // Each later stage of a batch, in the order it ran: crops after clusters, embeddings, then evaluate.
    const stageCalls: string[] = [];
    let finished: number[] = [];
    type Batch = { neurons: { first: number; end: number } };
    const activities = {
      circuits: async ({ neurons }: Batch) => {
        circuitCalls.push(neurons.first);
        return { relevanceKey: `r${neurons.first}`, rows: 1, skipped: 0, reused: false };
      },
      virtualNeurons: async ({ neurons }: Batch) => {
        clusterCalls.push(neurons.first);
        stageCalls.push(`clusters ${neurons.first}`);
        return { neuronsKey: `n${neurons.first}`, polysemantic: 0, reused: false };
      },
      crops: async ({ neurons }: Batch) => {
        stageCalls.push(`crops ${neurons.first}`);
        return { cropsKey: `c${neurons.first}`, rows: 1, reused: false };
      },
      embeddings: async ({ neurons }: Batch) => {
        stageCalls.push(`embeddings ${neurons.first}`);
        return { embeddingsKey: `e${neurons.first}`, rows: 1, reused: false };
      },
      evaluate: async ({ neurons }: Batch) => {
        stageCalls.push(`evaluate ${neurons.first}`);
        return { evaluationKey: `v${neurons.first}`, neurons: 1, reused: false };
      },
      finishLayer: async ({ batches }: { batches: { first: number }[] }) => {
        finished = batches.map((b) => b.first);
        return {
          layer: 'b',
          lowerLayer: 'a',
          neurons: 26,
          polysemantic: 0,
          meanPolysemanticity: 0,
          skipped: 0,
        };
      },
    };
    const worker = await Worker.create({
      connection: workerConnection,
      taskQueue: queue,
      workflowsPath: fileURLToPath(new URL('../../workflows/index.js', import.meta.url)),
      activities,
    });
    const config = testConfig({
      runId: 'r',
      modelUri: 'm.onnx',
      dataUri: 'd',
      outUri: 'o',
      layers: ['a', 'b'],
      preprocess: { resizeShortSide: 32, cropSize: 32, mean: [0, 0, 0], std: [1, 1, 1] },
      neuronBatch: 4,
      window: 2,
      evaluator: { uri: 'encoder.onnx', preprocess: PREPROCESS_PRESETS.imagenet },
    });
    const client = new Client({ connection });
    try {
      await worker.runUntil(async () => {
        const workflowId = `layer-${queue}`;
        const handle = await client.workflow.start(layerWorkflow, {
          taskQueue: queue,
          workflowId,
          args: [
            {
              config,
              lowerLayer: 'a',
              layer: { name: 'b', dims: [26, 1, 1], channels: 26 },
              taskQueues: { inference: queue, cpu: queue },
              batchesPerRun: 2,
            },
          ],
        });
        const summary = await handle.result();
        assert.equal(summary.neurons, 26);
        const progress = await client.workflow.getHandle(workflowId).query(layerProgressQuery);
        assert.deepEqual(
          [progress.circuits, progress.clustered, progress.cropped, progress.evaluated, progress.done],
          [26, 26, 26, 26, true],
        );
        assert.deepEqual([progress.crops, progress.evaluation], [true, true]);
        // 7 batches at 2 per run: the workflow ran 4 times (3 continue-as-new), each with a short history.
        const runs: string[] = [];
        for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
          runs.push(execution.runId);
        }
        assert.equal(runs.length, 4);
      });
    } finally {
      await workerConnection.close();
      await connection.close();
    }
    const expected = [0, 4, 8, 12, 16, 20, 24];
    assert.deepEqual(
      circuitCalls.sort((a, b) => a - b),
      expected,
    );
    assert.deepEqual(
      clusterCalls.sort((a, b) => a - b),
      expected,
    );
    assert.deepEqual(finished, expected);
    for (const first of expected) {
      const order = ['clusters', 'crops', 'embeddings', 'evaluate'].map((stage) =>
        stageCalls.indexOf(`${stage} ${first}`),
      );
      assert.ok(
        order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!)),
        `batch ${first}: each later stage once, in order (${order})`,
      );
    }
    assert.equal(stageCalls.length, 4 * expected.length, 'no stage ran twice');
  });
});
