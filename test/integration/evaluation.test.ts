import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { DuckDBConnection } from '@duckdb/node-api';
import { Client, Connection } from '@temporalio/client';
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../../core/adapters/analytics/views.js';
import type { SweepConfig } from '../../core/compute/run/config.js';
import { STAGE_TABLES } from '../../core/compute/run/layout.js';
import { taskQueues } from '../../core/compute/run/temporal-names.js';
import { sweepWorkflow } from '../../workflows/sweep.js';
import { projectRoot, sharedDataset, sharedModel, squeezenetEvaluatorArgs } from '../support/paths.js';
import { temporalAddress } from '../support/services.js';

/**
 * Steps 4 and 5 on a real sweep: the CIFAR ResNet-20 (its last two blocks, 200 images, k 10) with the
 * SqueezeNet as the evaluator's encoder (its pooled 512-d fire features), on the shared Temporal server
 * with local folder storage. The first test runs `pure run` and reads the new tables back with DuckDB,
 * then runs the same command again, which must write nothing. The second removes half of the parts of
 * steps 4 and 5, kills the inference worker process (kill -9) while it recomputes the crops, and checks
 * that the resumed sweep writes exactly the files of the uninterrupted run.
 */

const cli = join(projectRoot, 'dist', 'cli', 'main.js');
const LOWER = '/layer3/layer3.1/Relu_1_output_0';
const LAYER = '/layer3/layer3.2/Relu_1_output_0';
const NEURONS = 64;
const K = 10;
const NEURON_BATCH = 8;
const COUNTS = [2, 3, 4, 5];
const METHODS = ['activation', 'embedding', 'pure', 'random'];
/** The tables of steps 4 and 5, one part per neuron batch each. */
const NEW_TABLES = [...STAGE_TABLES.crops, ...STAGE_TABLES.evaluation];

/** Every file under `dir`, relative to it, with its size and modification time. */
async function filesUnder(dir: string): Promise<Map<string, { size: number; mtimeMs: number }>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = new Map<string, { size: number; mtimeMs: number }>();
  for (const e of entries.filter((e) => e.isFile())) {
    const path = join(e.parentPath, e.name);
    const { size, mtimeMs } = await stat(path);
    files.set(relative(dir, path), { size, mtimeMs });
  }
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

/** Every file under `dir` with its bytes (base64). */
async function contentsUnder(dir: string): Promise<Map<string, string>> {
  const files = await filesUnder(dir);
  return new Map(
    await Promise.all(
      [...files.keys()].map(async (f) => [f, (await readFile(join(dir, f))).toString('base64')] as const),
    ),
  );
}

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('steps 4-5: crops, embeddings and evaluation on a real sweep', () => {
  const workers: ChildProcess[] = [];
  let address: string;
  let dir: string;
  let prefix: string;
  /** The run folder the first test wrote, and its files' bytes: the uninterrupted result. */
  let root: string | undefined;
  let uninterrupted: Map<string, string> | undefined;

  before(async () => {
    address = await temporalAddress();
    dir = await mkdtemp(join(tmpdir(), 'pure-evaluation-'));
    prefix = `evaluation-${randomUUID()}`;
  });
  after(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** `pure run` with the evaluator, in-process workers on the shared server; one ORT thread, as the worker below. */
  const pureRun = () =>
    promisify(execFile)(
      process.execPath,
      [
        cli,
        'run',
        '--model',
        sharedModel('resnet20-cifar10.onnx'),
        '--data',
        sharedDataset('cifar10-test'),
        '--layers',
        `${LOWER},${LAYER}`,
        '--limit',
        '200',
        '-k',
        String(K),
        '--neuron-batch',
        String(NEURON_BATCH),
        ...squeezenetEvaluatorArgs(),
        '--out',
        join(dir, 'out'),
        '--state-dir',
        join(dir, 'state'),
        '--temporal',
        address,
        '--queue-prefix',
        prefix,
        '--threads',
        '1',
      ],
      { timeout: 180_000 },
    );

  test('pure run --evaluator: one crop and one embedding per reference, every method at every count; again: nothing written', async () => {
    const first = await pureRun();
    assert.match(first.stdout, /Evaluation at 2 clusters per neuron/);
    assert.match(first.stdout, /crops\/ {2}embeddings\/ {2}evaluation\/ {2}virtual_neurons\//);
    const runs = await readdir(join(dir, 'out'));
    assert.equal(runs.length, 1);
    root = join(dir, 'out', runs[0]!);

    const db = await openDuckDB();
    try {
      await createRunViews(db, root);
      await assertTables(db);
    } finally {
      db.closeSync();
    }

    // The same command again: every part is there, so no file is written, touched or removed.
    const before = await filesUnder(root);
    uninterrupted = await contentsUnder(root);
    assert.ok(![...before.keys()].some((f) => /\.tmp|partial/.test(f)), 'no temporary files left behind');
    const second = await pureRun();
    assert.match(second.stdout, /\(0 shards computed, 1 reused\)/);
    assert.deepEqual(await filesUnder(root), before);
  });

  test('kill -9 while the crops are computed: nothing lost, the files of the uninterrupted run', async (t) => {
    assert.ok(root && uninterrupted, 'the first test wrote the run');
    const run = root;
    // Steps 4 and 5 undone for the last half of the neurons (their parts, the final verdicts included)
    // and the layer (its manifests); steps 1-3 (with the circuits' verdicts in _work/) and the first half
    // stay and are reused.
    const redo = { first: NEURONS / 2, end: NEURONS };
    const batches = (redo.end - redo.first) / NEURON_BATCH;
    const redone = (file: string) => {
      const first = /part-(\d+)-\d+\.parquet$/.exec(file)?.[1];
      return first !== undefined && Number(first) >= redo.first;
    };
    // With an evaluator the final verdicts are step 5's too: `neurons/` is the evaluate stage's last write.
    for (const table of [...NEW_TABLES, 'neurons']) {
      for (const file of (await filesUnder(join(run, table))).keys()) {
        if (redone(file)) await rm(join(run, table, file));
      }
      await rm(join(run, '_manifests', table), { recursive: true, force: true });
    }
    const config = JSON.parse(await readFile(join(run, 'config.json'), 'utf8')) as SweepConfig;
    // Two processes, as on a cluster: the one killed runs the inference queue (crops, embeddings); the
    // CPU one (workflows, evaluation) lives on.
    const startWorker = (queues: string) => {
      const child = spawn(
        process.execPath,
        [
          cli,
          'worker',
          '--queues',
          queues,
          '--temporal',
          address,
          '--queue-prefix',
          prefix,
          '--threads',
          '1',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      child.stderr?.on('data', () => undefined);
      workers.push(child);
      return child;
    };
    const parts = async (table: string) =>
      existsSync(join(run, table))
        ? [...(await filesUnder(join(run, table))).keys()].filter(redone).length
        : 0;

    const connection = await Connection.connect({ address });
    try {
      const client = new Client({ connection });
      startWorker('cpu');
      const inference = startWorker('inference');
      const handle = await client.workflow.start(sweepWorkflow, {
        taskQueue: taskQueues(prefix).cpu,
        workflowId: `pure-sweep-evaluation-kill-${prefix}`,
        args: [{ config, taskQueues: taskQueues(prefix) }],
      });
      // Killed once the first batch is cropped, while the other batches wait for their crops.
      await waitFor(async () => (await parts('crops')) > 0, 120_000, 'the first crops part');
      inference.kill('SIGKILL');
      const atKill = await Promise.all(NEW_TABLES.map(parts));
      const killedAt = Date.now();
      t.diagnostic(`at the kill: ${NEW_TABLES.map((table, i) => `${table} ${atKill[i]}`).join(', ')}`);
      assert.ok(
        atKill[0]! < batches,
        `killed mid-stage (${NEW_TABLES.map((t, i) => `${t} ${atKill[i]}`).join(', ')} of ${batches} parts)`,
      );

      startWorker('inference');
      const result = await handle.result();
      t.diagnostic(`resumed in ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
      assert.equal(result.shardsComputed, 0);
      const [summary] = result.virtualNeurons;
      assert.equal(summary?.layer, LAYER);
      assert.deepEqual(
        [...new Set(summary?.evaluation?.map((e) => e.method))].sort(),
        METHODS,
        'the layer summary has every method',
      );
      assert.equal((summary?.verdicts?.split ?? 0) + (summary?.verdicts?.monosemantic ?? 0), NEURONS);
    } finally {
      await connection.close();
    }

    const resumed = await contentsUnder(run);
    assert.deepEqual([...resumed.keys()], [...uninterrupted.keys()], 'the same files');
    for (const [file, bytes] of resumed) assert.equal(bytes, uninterrupted.get(file), `${file} differs`);
  });
});

/** The run's tables of steps 4 and 5, read back with DuckDB, against the references they came from. */
async function assertTables(db: DuckDBConnection): Promise<void> {
  const count = async (sql: string) => Number((await db.runAndReadAll(sql)).getRows()[0]![0]);
  const none = async (sql: string, what: string) => assert.equal(await count(sql), 0, what);
  const explained = `(SELECT * FROM refs WHERE layer = '${LAYER}')`;
  const references = NEURONS * K;
  assert.equal(await count(`SELECT count(*) FROM ${explained}`), references);

  // crops: one row per (neuron, rank) reference of the explained layer, on its image, inside 32 x 32.
  assert.equal(await count('SELECT count(*) FROM crops'), references);
  assert.equal(await count('SELECT count(DISTINCT (layer, neuron, rank)) FROM crops'), references);
  await none(
    `SELECT count(*) FROM ${explained} r LEFT JOIN crops c USING (layer, neuron, rank)
     WHERE c.sample_index IS DISTINCT FROM r.sample_index OR c.sample_id IS DISTINCT FROM r.sample_id`,
    'every reference has its crop, of its own image',
  );
  await none(
    `SELECT count(*) FROM crops WHERE NOT (0 <= x0 AND x0 < x1 AND x1 <= 32 AND 0 <= y0 AND y0 < y1 AND y1 <= 32)
     OR cropped NOT IN (0, 1) OR NOT (heat_max > 0) OR NOT (heat_inside BETWEEN 0 AND 1)`,
    'every box is a non-empty part of the 32 x 32 image',
  );

  // embeddings: one per crop, 512 finite values (the SqueezeNet's pooled fire features).
  assert.equal(await count('SELECT count(*) FROM embeddings'), references);
  await none(
    `SELECT count(*) FROM crops c FULL JOIN embeddings e USING (layer, neuron, rank)
     WHERE e.embedding IS NULL OR c.layer IS NULL OR e.sample_index <> c.sample_index`,
    'the embeddings are those of the crops',
  );
  await none(
    `SELECT count(*) FROM embeddings WHERE len(embedding) <> 512
     OR list_count(list_filter(embedding, x -> isfinite(x))) <> 512`,
    'every embedding has 512 finite values',
  );
  assert.ok(
    (await count('SELECT count(DISTINCT embedding) FROM embeddings')) > references / 2,
    'crops of different images embed differently',
  );

  // evaluation: every neuron, the four methods at each cluster count, once.
  assert.equal(await count('SELECT count(*) FROM evaluation'), NEURONS * METHODS.length * COUNTS.length);
  await none(
    `SELECT count(*) FROM (
       SELECT neuron, count(*) AS n, count(DISTINCT (method, n_clusters)) AS d,
              list_sort(list_distinct(list(method))) AS methods, list_sort(list_distinct(list(n_clusters))) AS counts
       FROM evaluation WHERE layer = '${LAYER}' GROUP BY neuron)
     WHERE n <> 16 OR d <> 16 OR methods <> ${sqlList(METHODS)} OR counts <> [${COUNTS.join(', ')}]`,
    'each neuron has one row per method and count',
  );
  assert.equal(await count('SELECT count(DISTINCT neuron) FROM evaluation'), NEURONS);
  await none(
    `SELECT count(*) FROM evaluation WHERE NOT (isfinite("inner") AND isfinite(inter) AND isfinite(overall))
     OR "inner" <= 0 OR label_purity NOT BETWEEN 0 AND 1`,
    'distances are finite and positive; CIFAR classes give every method a label purity',
  );
  // The random baseline is the null of PURE's own cluster sizes: its inner distance is PURE's null mean.
  await none(
    `SELECT count(*) FROM evaluation r JOIN evaluation p USING (layer, neuron, n_clusters)
     WHERE r.method = 'random' AND p.method = 'pure' AND r."inner" <> p.null_inner_mean`,
    "random's inner distance equals pure's null_inner_mean",
  );
  await none(
    `SELECT count(*) FROM evaluation WHERE method <> 'random' AND (p_value NOT BETWEEN 0 AND 1
     OR abs(coherence_gain - (1 - "inner" / null_inner_mean)) > 1e-5)`,
    'p-values in [0, 1]; coherence_gain = 1 - inner / null_inner_mean',
  );
  await none(
    `SELECT count(*) FROM evaluation WHERE method = 'random' AND p_value IS NOT NULL`,
    'random has no p-value',
  );

  // virtual_neurons: the clusters of each clustering method, their sizes summing to k.
  await none(
    `SELECT count(*) FROM (
       SELECT neuron, method, n_clusters, sum(size) AS s, count(*) AS c, count(DISTINCT cluster) AS d
       FROM virtual_neurons GROUP BY ALL)
     WHERE s <> ${K} OR c <> n_clusters OR d <> n_clusters`,
    'each clustering has its clusters once, sizes summing to k',
  );
  assert.equal(
    await count('SELECT count(DISTINCT (neuron, method, n_clusters)) FROM virtual_neurons'),
    NEURONS * 3 * COUNTS.length,
  );

  // neurons: the verdict in words agrees with the verdict.
  await none(
    `SELECT count(*) FROM neurons WHERE (n_clusters > 1) <> starts_with(decision, 'split in ' || n_clusters || ':')
     OR (n_clusters = 1) <> starts_with(decision, 'monosemantic: ')`,
    'decision says the verdict',
  );
}

const sqlList = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;
