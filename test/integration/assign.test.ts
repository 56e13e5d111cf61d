import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../../core/adapters/analytics/views.js';
import { generatePlanted } from '../../core/adapters/planted/index.js';
import { openStore } from '../../core/adapters/storage/index.js';
import { PREPROCESS_PRESETS } from '../../core/compute/images/preprocess.js';
import type { SweepConfig } from '../../core/compute/run/config.js';
import { runUri } from '../../core/compute/run/layout.js';
import { sweepWorkflow } from '../../workflows/sweep.js';
import { plantedSweepConfig, testConfig } from '../support/config.js';
import { projectRoot, sharedDataset, sharedModel } from '../support/paths.js';
import { type S3TestEnv, s3TestEnv } from '../support/services.js';
import { startTestWorkers, type TestWorkers } from '../support/workers.js';

/**
 * `pure assign` end to end (issue 14): a sweep on the real Temporal server, then `pure assign` on the
 * reference images of some neurons, as a workflow on the sweep's own workers; each reference must land in
 * the virtual neuron the run gave it. The planted model's images come from S3 with a corrupt object among
 * them (skipped and recorded), and the same command again on the embedded default finds everything done;
 * ResNet-20's assignment is written to S3, at each neuron's best split.
 */
describe('pure assign on the real Temporal server and S3', () => {
  let s3: S3TestEnv;
  let dir: string;
  let workers: TestWorkers;
  let db: DuckDBConnection;

  before(async () => {
    s3 = await s3TestEnv();
    dir = await mkdtemp(join(tmpdir(), 'pure-assign-'));
    workers = await startTestWorkers('assign');
    db = await openDuckDB({
      endpoint: s3.endpoint,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      region: s3.region,
    });
  });

  after(async () => {
    await workers?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The CLI with S3 settings; on the test's Temporal server and workers unless `embedded`. */
  function pureAssign(args: string[], embedded = false) {
    const { TEMPORAL_ADDRESS: _unused, ...env } = process.env;
    const server = embedded
      ? []
      : ['--temporal', workers.address, '--queue-prefix', workers.queuePrefix, '--no-worker'];
    return promisify(execFile)(
      process.execPath,
      [
        join(projectRoot, 'dist', 'cli', 'main.js'),
        'assign',
        ...args,
        '--state-dir',
        join(dir, 'state'),
        ...server,
      ],
      {
        env: {
          ...env,
          PURE_S3_ENDPOINT: s3.endpoint,
          PURE_S3_ACCESS_KEY: s3.accessKeyId,
          PURE_S3_SECRET_KEY: s3.secretAccessKey,
        },
        timeout: 120_000,
      },
    );
  }

  async function sweep(config: SweepConfig): Promise<string> {
    await workers.client.workflow.execute(sweepWorkflow, {
      taskQueue: workers.queues.cpu,
      workflowId: `assign-${config.runId}-${workers.queuePrefix}`,
      args: [{ config, taskQueues: workers.queues }],
    });
    return runUri(config.outUri, config.runId);
  }

  async function rows(sql: string): Promise<Record<string, unknown>[]> {
    return (await db.runAndReadAll(sql)).getRowObjects();
  }

  /**
   * Per (neuron, reference): the assignment's virtual neuron against the run's cluster at the count
   * `countColumn` of `neurons` names, and the activation against the reference's value.
   */
  async function agreement(
    run: string,
    assignment: string,
    countColumn: 'n_clusters' | 'best_count',
    neurons: string,
  ) {
    const [row] = await rows(`
      SELECT count(*) AS pairs, sum((a.virtual_neuron = c.cluster)::INT) AS agree,
             max(abs(a.activation - r.value) / greatest(abs(r.value), 1)) AS activation_error,
             bool_and(a.n_clusters = n.${countColumn}) AS same_count
      FROM read_parquet('${assignment}/assignments/*/*.parquet') a
      JOIN read_parquet('${run}/references/*/*.parquet') r USING (layer, neuron, sample_id)
      JOIN read_parquet('${run}/neurons/*/*.parquet') n USING (layer, neuron)
      JOIN read_parquet('${run}/clusters/*/*.parquet') c
        ON c.layer = a.layer AND c.neuron = a.neuron AND c.rank = r.rank AND c.method = 'pure'
       AND c.n_clusters = n.${countColumn}
      WHERE a.neuron IN (${neurons})`);
    return {
      pairs: Number(row!.pairs),
      share: Number(row!.agree) / Number(row!.pairs),
      activationError: Number(row!.activation_error),
      sameCount: row!.same_count,
    };
  }

  test('planted: the polysemantic neurons’ references from S3 land in their virtual neurons; a corrupt image is skipped', async (t) => {
    const truth = await generatePlanted({ outDir: join(dir, 'planted'), seed: 3, imagesPerFeature: 40 });
    const run = await sweep(plantedSweepConfig(dir, truth));
    const polysemantic = truth.upperNeurons.filter((n) => n.kind === 'polysemantic').map((n) => n.channel);
    const ids = (
      await rows(`SELECT DISTINCT sample_id FROM read_parquet('${run}/references/*/*.parquet')
                  WHERE layer = '${truth.layers.upper}' AND neuron IN (${polysemantic}) ORDER BY 1`)
    ).map((r) => String(r.sample_id));
    const images = openStore(`${s3.uri}/planted-images`, s3.options);
    for (const id of ids) await images.put(id, await readFile(join(dir, 'planted', truth.files.images, id)));
    await images.put('red_disc/corrupt.png', new TextEncoder().encode('not a PNG'));

    const first = await pureAssign([run, images.uri]);
    assert.match(
      first.stdout,
      new RegExp(
        `Done: ${ids.length + 1} images, 1 skipped; 14 neurons of 1 layer, 3 with more than one virtual neuron ` +
          '\\(1 shards computed, 0 reused\\)',
      ),
    );
    assert.match(first.stdout, new RegExp(`Outputs under ${run}/assign/planted-images-[0-9a-f]{10}/`));
    const assignment = /Outputs under (\S+)\//.exec(first.stdout)![1]!;

    const result = await agreement(run, assignment, 'n_clusters', polysemantic.join(','));
    t.diagnostic(
      `planted: ${(100 * result.share).toFixed(1)} % of ${result.pairs} (neuron, reference) pairs agree`,
    );
    assert.equal(result.pairs, 3 * 30);
    assert.ok(result.share >= 0.95, `${(100 * result.share).toFixed(1)} % agree`);
    assert.ok(result.activationError < 1e-4, `activation vs references.value: ${result.activationError}`);
    assert.equal(result.sameCount, true);

    const [counts] = await rows(`SELECT count(*) AS n, count(DISTINCT sample_id) AS images,
        bool_and(starts_with(sample_uri, '${images.uri}/')) AS on_s3, bool_or(sample_id = 'red_disc/corrupt.png') AS corrupt
      FROM read_parquet('${assignment}/assignments/*/*.parquet')`);
    assert.deepEqual([counts!.n, counts!.images, counts!.on_s3, counts!.corrupt].map(String), [
      String(ids.length * 14),
      String(ids.length),
      'true',
      'false',
    ]);
    const skipped = await rows(
      `SELECT stage, sample_id, error FROM read_parquet('${assignment}/skipped/*/*.parquet')`,
    );
    assert.deepEqual(
      skipped.map((s) => [s.stage, s.sample_id]),
      [['assign', 'red_disc/corrupt.png']],
    );
    assert.match(String(skipped[0]!.error), /could not decode image/);
    // `pure query <assignment>` sees its tables.
    assert.deepEqual((await createRunViews(db, assignment)).sort(), [
      'assignments',
      'centroids',
      'samples',
      'skipped',
    ]);

    const again = await pureAssign([run, images.uri], true);
    assert.match(again.stderr, /embedded dev server/);
    assert.match(again.stdout, /\(0 shards computed, 1 reused\)/);
    assert.match(again.stdout, new RegExp(`Outputs under ${assignment}/`));
  });

  test('ResNet-20: each neuron’s references land in their virtual neuron of its best split (>= 95 %), written to S3', async (t) => {
    const run = await sweep(
      testConfig({
        runId: 'resnet20',
        modelUri: sharedModel('resnet20-cifar10.onnx'),
        dataUri: sharedDataset('cifar10-test'),
        outUri: join(dir, 'out'),
        layers: ['/layer2/layer2.2/Relu_1_output_0', '/layer3/layer3.2/Relu_1_output_0'],
        preprocess: PREPROCESS_PRESETS.cifar10,
        limit: 300,
        k: 20,
        clusterCounts: [2, 3],
        shardSize: 300,
      }),
    );
    const folder = join(dir, 'resnet20-references');
    const ids = await rows(`SELECT DISTINCT sample_id FROM read_parquet('${run}/references/*/*.parquet')
                            WHERE layer = '/layer3/layer3.2/Relu_1_output_0' AND neuron < 16`);
    for (const { sample_id: id } of ids) {
      await mkdir(dirname(join(folder, String(id))), { recursive: true });
      await copyFile(join(sharedDataset('cifar10-test'), String(id)), join(folder, String(id)));
    }
    const out = `${s3.uri}/assignments`;
    const { stdout } = await pureAssign([run, folder, '--neurons', '0-15', '--count', 'best', '--out', out]);
    assert.match(stdout, /16 neurons of 1 layer, 16 with more than one virtual neuron/);
    const assignment = /Outputs under (\S+)\//.exec(stdout)![1]!;
    assert.ok(assignment.startsWith(`${out}/resnet20-references-`), assignment);

    const result = await agreement(
      run,
      assignment,
      'best_count',
      Array.from({ length: 16 }, (_, i) => i).join(','),
    );
    t.diagnostic(
      `ResNet-20: ${(100 * result.share).toFixed(1)} % of ${result.pairs} (neuron, reference) pairs agree`,
    );
    assert.equal(result.pairs, 16 * 20);
    assert.ok(result.share >= 0.95, `${(100 * result.share).toFixed(1)} % agree`);
    assert.ok(result.activationError < 1e-4, `activation vs references.value: ${result.activationError}`);
    assert.equal(result.sameCount, true);
  });
});
