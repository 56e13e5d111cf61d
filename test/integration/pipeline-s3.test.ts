import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import { openDataset } from '../../core/adapters/datasets/dataset.js';
import { preprocessImage } from '../../core/adapters/datasets/preprocess.js';
import { openActivationModel } from '../../core/adapters/onnxruntime/activations.js';
import { ensureBucket, openStore } from '../../core/adapters/storage/index.js';
import { fromParquet } from '../../core/adapters/tables/parquet.js';
import { PREPROCESS_PRESETS } from '../../core/compute/images/preprocess.js';
import type { SweepConfig } from '../../core/compute/run/config.js';
import { runKeys, runUri } from '../../core/compute/run/layout.js';
import { samplesSchema } from '../../core/compute/tables/schemas.js';
import { writeReport } from '../../report/index.js';
import { type SweepResult, sweepWorkflow } from '../../workflows/sweep.js';
import { circuitByFiniteDifferences } from '../support/circuit-fd.js';
import { testConfig } from '../support/config.js';
import { maxAbsDifference } from '../support/differences.js';
import { sharedDataset, sharedModel } from '../support/paths.js';
import { type S3TestEnv, s3TestEnv } from '../support/services.js';
import { startTestWorkers, type TestWorkers } from '../support/workers.js';

const LAYERS = [
  { name: '/layer1/layer1.2/Relu_1_output_0', channels: 16 },
  { name: '/layer2/layer2.2/Relu_1_output_0', channels: 32 },
  { name: '/layer3/layer3.2/Relu_1_output_0', channels: 64 },
];
const K = 100;

/**
 * The whole pipeline end to end on real services: ResNet-20 on 1,000 CIFAR-10 test images, through a
 * real Temporal server (workers in this process, their own task queues) into a real S3 server (MinIO),
 * read back with DuckDB over S3; references checked against an independent brute-force ActMax, circuits
 * against float64 finite differences of the whole model.
 */
describe('the pipeline on Temporal + S3 (ResNet-20, 1,000 CIFAR-10 images)', () => {
  let s3: S3TestEnv;
  let workers: TestWorkers;
  let config: SweepConfig;

  before(async () => {
    s3 = await s3TestEnv();
    await ensureBucket(s3.uri, s3.options);
    // The pipeline reads S3 settings from the environment, like a deployed worker.
    process.env.PURE_S3_ENDPOINT = s3.endpoint;
    process.env.PURE_S3_ACCESS_KEY = s3.accessKeyId;
    process.env.PURE_S3_SECRET_KEY = s3.secretAccessKey;
    workers = await startTestWorkers('pipeline-s3');
    config = testConfig({
      runId: 'resnet20-e2e',
      modelUri: sharedModel('resnet20-cifar10.onnx'),
      dataUri: sharedDataset('cifar10-test'),
      outUri: s3.uri,
      layers: LAYERS.map((l) => l.name),
      k: K,
      preprocess: PREPROCESS_PRESETS.cifar10,
      batchSize: 50,
      shardSize: 300,
      window: 2,
      limit: 1000,
      // Steps 4-5 (9,600 crops at k = 100) on S3: test/integration/s3-inputs.test.ts, smaller.
      until: 'virtual-neurons',
    });
  });

  after(async () => {
    await workers?.stop();
  });

  let first: SweepResult | undefined;
  async function sweep() {
    return workers.client.workflow.execute(sweepWorkflow, {
      taskQueue: workers.queues.cpu,
      workflowId: `it-sweep-${randomUUID()}`,
      args: [{ config, taskQueues: workers.queues }],
    });
  }

  test('writes k references per neuron that DuckDB reads from S3 and that match brute force', async () => {
    const result = await sweep();
    first = result;
    assert.equal(result.numSamples, 1000);
    assert.equal(result.skipped, 0);
    assert.equal(result.shardsComputed, 4);
    assert.deepEqual(
      result.layers.map((l) => [l.name, l.channels]),
      LAYERS.map((l) => [l.name, l.channels]),
    );

    const db = await openDuckDB({
      endpoint: s3.endpoint,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      region: 'us-east-1',
    });
    const glob = `${runUri(s3.uri, config.runId)}/references/*/*.parquet`;
    const perLayer = (
      await db.runAndReadAll(
        `SELECT layer, count(*) AS n, count(DISTINCT neuron) AS neurons, min(rank) AS lo, max(rank) AS hi
         FROM read_parquet('${glob}') GROUP BY layer ORDER BY layer`,
      )
    ).getRowObjects();
    assert.deepEqual(
      perLayer.map((r) => [r.layer, Number(r.n), Number(r.neurons), Number(r.lo), Number(r.hi)]),
      LAYERS.map((l) => [l.name, l.channels * K, l.channels, 1, K]),
    );
    // Within each neuron: ranks 1..k exactly once, values non-increasing with rank, distinct samples.
    const violations = (
      await db.runAndReadAll(
        `SELECT count(*) AS bad FROM (
           SELECT layer, neuron, rank, value, sample_index,
                  lag(value) OVER (PARTITION BY layer, neuron ORDER BY rank) AS previous,
                  count(*) OVER (PARTITION BY layer, neuron, sample_index) AS copies,
                  row_number() OVER (PARTITION BY layer, neuron ORDER BY rank) AS position
           FROM read_parquet('${glob}'))
         WHERE previous < value OR copies > 1 OR position <> rank`,
      )
    ).getRowObjects();
    assert.equal(Number(violations[0]!.bad), 0);

    // Independent check: forward all 1,000 images in one plain loop, sort every neuron's values.
    const store = openStore(runUri(s3.uri, config.runId), s3.options);
    const samples = samplesSchema.fromArrow(fromParquet(await store.get(runKeys.samples)));
    const labels = new Set(samples.map((s) => s.label));
    assert.equal(labels.size, 10, 'evenly spaced subset covers every class');
    const model = await openActivationModel(await readFile(config.modelUri), [LAYERS[2]!.name]);
    const dataset = openDataset(config.dataUri);
    const values: number[][] = Array.from({ length: 64 }, () => []);
    for (const sample of samples) {
      const pixels = await preprocessImage(await dataset.readSample(sample.sampleId), config.preprocess);
      const act = (await model.run(pixels, 1)).get(LAYERS[2]!.name)!;
      const plane = act.dims[2]! * act.dims[3]!;
      for (let c = 0; c < 64; c++) {
        values[c]![sample.sampleIndex] = Math.max(...act.data.subarray(c * plane, (c + 1) * plane));
      }
    }
    await model.release();
    const stored = (
      await db.runAndReadAll(
        `SELECT neuron, list(sample_index ORDER BY rank) AS samples, list(value ORDER BY rank) AS vals
         FROM read_parquet('${glob}') WHERE layer = '${LAYERS[2]!.name}' GROUP BY neuron ORDER BY neuron`,
      )
    ).getRowObjectsJson();
    assert.equal(stored.length, 64);
    for (const row of stored) {
      const neuron = Number(row.neuron);
      const expected = values[neuron]!.map((v, i) => ({ v, i }))
        .sort((a, b) => b.v - a.v || a.i - b.i)
        .slice(0, K);
      const gotValues = (row.vals as number[]).map(Number);
      expected.forEach((e, r) => {
        assert.ok(
          Math.abs(e.v - gotValues[r]!) <= 1e-4 * Math.max(1, Math.abs(e.v)),
          `neuron ${neuron} rank ${r + 1}`,
        );
      });
      // Samples agree wherever the value is not tied with a neighbour (float noise may reorder exact ties).
      const gotSamples = (row.samples as number[]).map(Number);
      const overlap = gotSamples.filter((s) => expected.some((e) => e.i === s)).length;
      assert.ok(overlap >= K - 2, `neuron ${neuron}: ${overlap} of ${K} references agree`);
    }
  });

  test('circuits, clusters and neurons in S3: complete, normalised, and equal to finite differences', async () => {
    assert.ok(first, 'the sweep ran');
    assert.deepEqual(
      first.virtualNeurons.map((v) => [v.layer, v.lowerLayer, v.neurons]),
      [
        [LAYERS[1]!.name, LAYERS[0]!.name, 32],
        [LAYERS[2]!.name, LAYERS[1]!.name, 64],
      ],
    );
    const db = await openDuckDB({
      endpoint: s3.endpoint,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      region: 'us-east-1',
    });
    const root = runUri(s3.uri, config.runId);
    const count = async (sql: string) => Number((await db.runAndReadAll(sql)).getRows()[0]![0]);
    const relevance = `read_parquet('${root}/relevance/*/*.parquet')`;
    assert.equal(await count(`SELECT count(*) FROM ${relevance}`), (32 + 64) * K);
    assert.equal(
      await count(`SELECT count(DISTINCT (layer, neuron, rank)) FROM ${relevance}`),
      (32 + 64) * K,
    );
    assert.equal(
      await count(
        `SELECT count(*) FROM ${relevance} WHERE len(relevance) <> CASE WHEN lower_layer = '${LAYERS[0]!.name}' THEN 16 ELSE 32 END`,
      ),
      0,
    );
    assert.equal(
      await count(
        `SELECT count(*) FROM ${relevance} WHERE abs(list_sum(list_transform(relevance, x -> abs(x))) - 1) > 1e-4`,
      ),
      0,
    );
    // References and relevance agree on which images a neuron's circuits were computed for.
    assert.equal(
      await count(
        `SELECT count(*) FROM ${relevance} r JOIN read_parquet('${root}/references/*/*.parquet') f
         USING (layer, neuron, rank) WHERE r.sample_index <> f.sample_index`,
      ),
      0,
    );
    assert.equal(
      await count(`SELECT count(*) FROM read_parquet('${root}/clusters/*/*.parquet')`),
      (32 + 64) * 2 * 4 * K,
    );
    assert.equal(
      await count(
        `SELECT count(*) FROM read_parquet('${root}/neurons/*/*.parquet') WHERE n_clusters BETWEEN 1 AND 5`,
      ),
      32 + 64,
    );

    // Two stored circuits, recomputed without onnxruntime: float64 finite differences of the whole model.
    const rows = (
      await db.runAndReadAll(
        `SELECT neuron, sample_id, relevance FROM ${relevance} WHERE layer = '${LAYERS[2]!.name}' AND neuron IN (7, 50) AND rank = 1 ORDER BY neuron`,
      )
    ).getRowObjectsJson();
    assert.equal(rows.length, 2);
    const dataset = openDataset(config.dataUri);
    for (const row of rows) {
      const chw = await preprocessImage(await dataset.readSample(String(row.sample_id)), config.preprocess);
      const fd = await circuitByFiniteDifferences(
        config.modelUri,
        'input',
        LAYERS[1]!.name,
        LAYERS[2]!.name,
        chw,
        [3, 32, 32],
        Number(row.neuron),
      );
      const stored = (row.relevance as number[]).map(Number);
      const worst = maxAbsDifference(fd.relevance, stored);
      assert.ok(worst < 1e-3, `neuron ${row.neuron}: max |R - R_fd| = ${worst}`);
    }
  });

  test('re-running the finished sweep does no inference and changes no file', async () => {
    const store = openStore(runUri(s3.uri, config.runId), s3.options);
    const keys = await store.list('');
    const before = new Map(
      await Promise.all(
        keys.map(async (k) => [k, Buffer.from(await store.get(k)).toString('base64')] as const),
      ),
    );
    const again = await sweep();
    assert.deepEqual([again.shardsComputed, again.shardsReused], [0, 4]);
    const afterKeys = await store.list('');
    assert.deepEqual(afterKeys, keys);
    for (const k of afterKeys)
      assert.equal(Buffer.from(await store.get(k)).toString('base64'), before.get(k), `${k} changed`);
  });

  // After the re-run check: the report adds files under report/.
  test('pure report reads the run from S3 and writes its pages and heatmap crops there', async () => {
    const root = runUri(s3.uri, config.runId);
    const result = await writeReport(root, { top: 2 });
    assert.equal(result.indexLocation, `${root}/report/index.html`);
    assert.equal(result.failedImages, 0);
    const store = openStore(root, s3.options);
    const keys = await store.list('report/');
    const crops = keys.filter((k) => /^report\/crops\/\d+\/\d+\/\d+\.png$/.test(k));
    const images = keys.filter((k) => /^report\/img\/\d+\.png$/.test(k));
    assert.equal(crops.length + images.length, result.images);
    assert.equal(keys.filter((k) => k.endsWith('-heat.png')).length, crops.length, 'each crop enlarges');
    // Two neurons per explained layer drawn with crops, each with its own crops of its reference images.
    const neuronsOf = (layer: string) =>
      new Set(crops.filter((k) => k.split('/')[2] === layer).map((k) => k.split('/')[3]));
    assert.deepEqual([neuronsOf('1').size, neuronsOf('2').size], [2, 2]);
    const png = await sharp(Buffer.from(await store.get(crops[0]!))).metadata();
    assert.deepEqual([png.format, png.width, png.height], ['png', 64, 64]);
    for (const key of crops.filter((k) => k.startsWith('report/crops/2/'))) {
      const neuron = key.split('/')[3];
      const page = new TextDecoder().decode(await store.get(`report/layer-2/neuron-${neuron}.html`));
      assert.ok(page.includes(`src="../${key.slice('report/'.length)}"`), `${key} is on its neuron's page`);
    }
    const index = new TextDecoder().decode(await store.get('report/layer-2.html'));
    assert.equal(
      index.match(/<tr data-neuron=/g)?.length,
      result.layers[1]?.neurons,
      'every neuron is listed',
    );
  });
});
