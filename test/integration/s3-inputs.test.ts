import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import { openStore } from '../../core/adapters/storage/index.js';
import { PREPROCESS_PRESETS } from '../../core/compute/images/preprocess.js';
import { modelDigestOf } from '../../core/compute/run/config.js';
import { runUri } from '../../core/compute/run/layout.js';
import { sweepWorkflow } from '../../workflows/sweep.js';
import { testConfig } from '../support/config.js';
import { sharedDataset, sharedModel } from '../support/paths.js';
import { type S3TestEnv, s3TestEnv } from '../support/services.js';
import { startTestWorkers, type TestWorkers } from '../support/workers.js';

/**
 * Model and images read from S3 (as on a cluster with no shared file system), a corrupt object among
 * them: the sweep reads everything through the S3 API, skips and records the bad image, and writes to S3,
 * the evaluation's encoder and the crops' PNGs included.
 */
describe('a sweep whose model and images live on S3', () => {
  let s3: S3TestEnv;
  let workers: TestWorkers;
  let encoder: Uint8Array;

  before(async () => {
    s3 = await s3TestEnv();
    process.env.PURE_S3_ENDPOINT = s3.endpoint;
    process.env.PURE_S3_ACCESS_KEY = s3.accessKeyId;
    process.env.PURE_S3_SECRET_KEY = s3.secretAccessKey;
    const store = openStore(s3.uri, s3.options);
    await store.put('models/resnet20.onnx', await readFile(sharedModel('resnet20-cifar10.onnx')));
    encoder = await readFile(sharedModel('squeezenet1.1-imagenet.onnx'));
    await store.put('models/encoder.onnx', encoder);
    for (const cls of ['cat', 'ship']) {
      for (let i = 0; i < 20; i++) {
        const name = `${String(i).padStart(4, '0')}.jpg`;
        await store.put(
          `images/${cls}/${name}`,
          await readFile(join(sharedDataset('cifar10-test'), cls, name)),
        );
      }
    }
    await store.put('images/ship/9999.jpg', new TextEncoder().encode('this is not a JPEG'));
    await store.put('images/labels.txt', new TextEncoder().encode('ignored: not an image'));
    workers = await startTestWorkers('s3-inputs');
  });

  after(async () => {
    await workers?.stop();
  });

  test('reads model and images through S3, skips the corrupt object, writes every table to S3', async () => {
    const config = testConfig({
      runId: 's3-inputs',
      modelUri: `${s3.uri}/models/resnet20.onnx`,
      dataUri: `${s3.uri}/images`,
      outUri: `${s3.uri}/out`,
      layers: ['/layer2/layer2.2/Relu_1_output_0', '/layer3/layer3.2/Relu_1_output_0'],
      preprocess: PREPROCESS_PRESETS.cifar10,
      k: 10,
      shardSize: 16,
      neuronBatch: 32,
      clusterCounts: [2, 3],
      // Steps 4-5 on S3 too: the encoder fetched from there, the crops' PNGs written there.
      evaluator: {
        uri: `${s3.uri}/models/encoder.onnx`,
        digest: modelDigestOf(encoder),
        output: '/fires.7/Concat_output_0',
        preprocess: PREPROCESS_PRESETS.imagenet,
      },
      cropImages: true,
    });
    const result = await workers.client.workflow.execute(sweepWorkflow, {
      taskQueue: workers.queues.cpu,
      workflowId: `s3-inputs-${workers.queuePrefix}`,
      args: [{ config, taskQueues: workers.queues }],
    });
    assert.equal(result.numSamples, 41);
    assert.equal(result.skipped, 1);

    const db = await openDuckDB({
      endpoint: s3.endpoint,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      region: 'us-east-1',
    });
    const root = runUri(config.outUri, config.runId);
    const skipped = (
      await db.runAndReadAll(
        `SELECT stage, sample_id, error FROM read_parquet('${root}/skipped/*/*.parquet')`,
      )
    ).getRowObjects();
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]!.sample_id, 'ship/9999.jpg');
    assert.match(String(skipped[0]!.error), /could not decode image/);
    const refs = (
      await db.runAndReadAll(
        `SELECT count(*) AS n, count(DISTINCT label) AS labels, bool_and(starts_with(sample_uri, '${s3.uri}/images/')) AS on_s3,
                bool_or(sample_id = 'ship/9999.jpg') AS has_corrupt
         FROM read_parquet('${root}/references/*/*.parquet')`,
      )
    ).getRowObjects()[0]!;
    assert.deepEqual(
      [Number(refs.n), Number(refs.labels), refs.on_s3, refs.has_corrupt],
      [(32 + 64) * 10, 2, true, false],
    );
    const neurons = (
      await db.runAndReadAll(`SELECT count(*) FROM read_parquet('${root}/neurons/*/*.parquet')`)
    ).getRows();
    assert.equal(Number(neurons[0]![0]), 64);
    const count = async (table: string) =>
      Number(
        (
          await db.runAndReadAll(`SELECT count(*) FROM read_parquet('${root}/${table}/*/*.parquet')`)
        ).getRows()[0]![0],
      );
    assert.deepEqual(
      [
        await count('crops'),
        await count('embeddings'),
        await count('evaluation'),
        await count('virtual_neurons'),
      ],
      // evaluation: 4 methods x 2 counts; virtual_neurons: 3 clustering methods x (2 + 3) clusters.
      [64 * 10, 64 * 10, 64 * 4 * 2, 64 * 3 * 5],
    );
    const pngs = (await openStore(root, s3.options).list('crop-images/')).filter((k) => k.endsWith('.png'));
    assert.equal(pngs.length, 64 * 10, 'one PNG per crop');
    assert.ok(
      pngs.includes('crop-images/layer=%2Flayer3%2Flayer3.2%2FRelu_1_output_0/neuron-0000063/rank-0010.png'),
      pngs[0],
    );
    const png = await sharp(Buffer.from(await openStore(root, s3.options).get(pngs[0]!))).metadata();
    assert.equal(png.format, 'png');
    assert.ok(png.width! >= 1 && png.width! <= 32 && png.height! >= 1 && png.height! <= 32);
  });
});
