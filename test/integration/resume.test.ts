import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../../core/adapters/analytics/views.js';
import { PREPROCESS_PRESETS } from '../../core/compute/images/preprocess.js';
import type { SweepConfig } from '../../core/compute/run/config.js';
import { runUri } from '../../core/compute/run/layout.js';
import { taskQueues } from '../../core/compute/run/temporal-names.js';
import { sweepWorkflow } from '../../workflows/sweep.js';
import { testConfig } from '../support/config.js';
import { projectRoot, sharedDataset, sharedModel } from '../support/paths.js';
import { temporalAddress } from '../support/services.js';

const cli = join(projectRoot, 'dist', 'cli', 'main.js');

function startWorker(address: string, prefix: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [cli, 'worker', '--temporal', address, '--queue-prefix', prefix, '--threads', '1'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  child.stderr?.on('data', () => undefined);
  return child;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Crash safety: the worker process is killed (SIGKILL) in the middle of the circuits stage and a new one
 * is started. The sweep completes with every row exactly once; re-running it changes no file. (A kill
 * during the crops, with the evaluation: test/integration/evaluation.test.ts.)
 */
describe('a sweep survives a killed worker (real Temporal, worker as a separate process)', () => {
  const workers: ChildProcess[] = [];
  let out: string;
  after(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    if (out) await rm(out, { recursive: true, force: true });
  });

  test('kill -9 mid-sweep, restart: no missing and no duplicate rows; a re-run is a no-op', async () => {
    const address = await temporalAddress();
    out = await mkdtemp(join(tmpdir(), 'pure-resume-'));
    const prefix = `resume-${randomUUID()}`;
    const config: SweepConfig = testConfig({
      runId: 'resume',
      modelUri: sharedModel('resnet20-cifar10.onnx'),
      dataUri: sharedDataset('cifar10-test'),
      outUri: out,
      layers: [
        '/layer1/layer1.2/Relu_1_output_0',
        '/layer2/layer2.2/Relu_1_output_0',
        '/layer3/layer3.2/Relu_1_output_0',
      ],
      k: 20,
      preprocess: PREPROCESS_PRESETS.cifar10,
      batchSize: 50,
      shardSize: 100,
      window: 1,
      limit: 400,
      neuronBatch: 4,
      // The crops without an evaluator (step 4 alone): they are killed and resumed like the others.
      until: 'crops',
      clusterCounts: [2, 3],
    });
    const root = runUri(out, config.runId);
    const connection = await Connection.connect({ address });
    try {
      const client = new Client({ connection });
      workers.push(startWorker(address, prefix));
      const handle = await client.workflow.start(sweepWorkflow, {
        taskQueue: taskQueues(prefix).cpu,
        workflowId: `pure-sweep-resume-${prefix}`,
        args: [{ config, taskQueues: taskQueues(prefix) }],
      });
      // Kill once the circuits stage has written some, but not all, of its parts.
      const relevanceDir = join(root, 'relevance');
      await waitFor(
        async () =>
          existsSync(relevanceDir) && (await filesUnder(relevanceDir)).some((f) => f.endsWith('.parquet')),
        120_000,
        'the first circuits part',
      );
      workers[0]!.kill('SIGKILL');
      const partsAtKill = (await filesUnder(relevanceDir)).filter((f) => f.endsWith('.parquet')).length;
      assert.ok(partsAtKill < 8 + 16, `killed mid-stage (${partsAtKill} of 24 relevance parts written)`);

      workers.push(startWorker(address, prefix));
      // `pure status` from another process shows per-layer progress while the sweep runs.
      const status = async () =>
        (
          await promisify(execFile)(process.execPath, [
            cli,
            'status',
            `resume-${prefix}`,
            '--temporal',
            address,
          ])
        ).stdout;
      let running = '';
      await waitFor(
        async () => {
          running = await status().catch(() => '');
          return running !== '';
        },
        60_000,
        'pure status to answer',
      );
      assert.match(running, /references\s+400\/400 images|COMPLETED/);
      const result = await handle.result();
      const finished = await status();
      assert.match(finished, /COMPLETED/);
      assert.match(finished, /\/layer3\/layer3\.2\/Relu_1_output_0: \d+ of 64 neurons split/);
      assert.deepEqual(
        result.virtualNeurons.map((v) => [v.layer, v.neurons]),
        [
          ['/layer2/layer2.2/Relu_1_output_0', 32],
          ['/layer3/layer3.2/Relu_1_output_0', 64],
        ],
      );

      const db = await openDuckDB();
      await createRunViews(db, root);
      const count = async (sql: string) => Number((await db.runAndReadAll(sql)).getRows()[0]![0]);
      // Every neuron of every layer: exactly k references, each rank once.
      assert.equal(
        await count(
          `SELECT count(*) FROM (SELECT layer, neuron FROM refs GROUP BY ALL HAVING count(*) <> 20 OR count(DISTINCT rank) <> 20)`,
        ),
        0,
      );
      assert.equal(await count('SELECT count(DISTINCT (layer, neuron)) FROM refs'), 16 + 32 + 64);
      // Circuits: k rows per explained neuron, no duplicates, each |R| summing to 1.
      assert.equal(await count('SELECT count(*) FROM relevance'), (32 + 64) * 20);
      assert.equal(
        await count('SELECT count(DISTINCT (layer, neuron, rank)) FROM relevance'),
        (32 + 64) * 20,
      );
      assert.equal(
        await count(
          'SELECT count(*) FROM relevance WHERE abs(list_sum(list_transform(relevance, x -> abs(x))) - 1) > 1e-4',
        ),
        0,
      );
      // Clusters: k rows per neuron, method and count; one neurons row per neuron.
      assert.equal(await count('SELECT count(*) FROM clusters'), (32 + 64) * 2 * 2 * 20);
      assert.equal(
        await count(
          `SELECT count(*) FROM (SELECT layer, neuron, method, n_clusters FROM clusters GROUP BY ALL HAVING count(DISTINCT rank) <> 20)`,
        ),
        0,
      );
      assert.equal(await count('SELECT count(DISTINCT (layer, neuron)) FROM neurons'), 32 + 64);
      assert.equal(await count('SELECT count(*) FROM neurons'), 32 + 64);
      // Crops (step 4, --until crops without an evaluator): one per reference, after the kill too.
      assert.equal(await count('SELECT count(*) FROM crops'), (32 + 64) * 20);
      assert.equal(await count('SELECT count(DISTINCT (layer, neuron, rank)) FROM crops'), (32 + 64) * 20);

      const files = await filesUnder(root);
      assert.ok(!files.some((f) => /\.tmp|partial/.test(f)), 'no temporary files left behind');
      const snapshot = new Map(
        await Promise.all(files.map(async (f) => [f, (await readFile(f)).toString('base64')] as const)),
      );

      const again = await client.workflow.execute(sweepWorkflow, {
        taskQueue: taskQueues(prefix).cpu,
        workflowId: `resume-again-${prefix}`,
        args: [{ config, taskQueues: taskQueues(prefix) }],
      });
      assert.equal(again.shardsComputed, 0);
      const filesAfter = await filesUnder(root);
      assert.deepEqual(filesAfter.sort(), [...snapshot.keys()].sort());
      for (const f of filesAfter)
        assert.equal((await readFile(f)).toString('base64'), snapshot.get(f), `${f} changed`);
    } finally {
      await connection.close();
    }
  });
});
