import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { executionProvidersFor } from '../../../core/adapters/onnxruntime/session.js';
import { toParquet } from '../../../core/adapters/tables/parquet.js';
import { PREPROCESS_PRESETS } from '../../../core/compute/images/preprocess.js';
import { runKeys } from '../../../core/compute/run/layout.js';
import { type NeuronRow, neuronsSchema } from '../../../core/compute/tables/schemas.js';
import { testConfig } from '../../support/config.js';
import { cudaOutcome } from '../../support/cuda.js';
import { fixtureModel, projectRoot, sharedModel } from '../../support/paths.js';
import { monosemanticVerdict } from '../../support/rows.js';

const run = promisify(execFile);
const cli = join(projectRoot, 'dist', 'cli', 'main.js');
/** Runs the CLI with the test's environment minus TEMPORAL_ADDRESS, so nothing reaches a server by accident. */
const pure = (...args: string[]) => {
  const { TEMPORAL_ADDRESS: _unused, ...env } = process.env;
  return run(process.execPath, [cli, ...args], { env: { ...env, PURE_LOG_LEVEL: 'ERROR' } });
};

describe('the pure command', () => {
  test('layers lists the stage outputs that --layers auto picks', async () => {
    const { stdout } = await pure('layers', sharedModel('resnet20-cifar10.onnx'));
    assert.match(stdout, /\/layer3\/layer3\.2\/Relu_1_output_0\s+block\s+Nx64x8x8\s+yes/);
    assert.match(
      stdout,
      /--layers auto = \/layer1\/layer1\.2\/Relu_1_output_0,\/layer2\/layer2\.2\/Relu_1_output_0,\/layer3\/layer3\.2\/Relu_1_output_0/,
    );
  });

  test('layers on a ViT: the token embedding and each block output, all picked by --layers auto', async () => {
    const { stdout } = await pure('layers', fixtureModel('vit-tiny-cifar10.onnx'));
    assert.match(stdout, /\/encoder\/Add_output_0\s+embedding\s+Nx17x32\s+yes/);
    assert.match(stdout, /\/encoder\/layers\/encoder_layer_1\/Add_1_output_0\s+token-block\s+Nx17x32\s+yes/);
    assert.match(
      stdout,
      /--layers auto = \/encoder\/Add_output_0,\/encoder\/layers\/encoder_layer_0\/Add_1_output_0,\/encoder\/layers\/encoder_layer_1\/Add_1_output_0\n/,
    );
  });

  test('query opens a run as DuckDB views and prints a table, CSV or JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pure-cli-'));
    try {
      const rows: NeuronRow[] = [0, 1, 2].map((neuron) => ({
        layer: 'up',
        lowerLayer: 'low',
        neuron,
        nClusters: neuron === 2 ? 3 : 1,
        polysemanticity: neuron / 4,
        silhouettes: Float32Array.of(0.1, 0.2),
        activationSilhouettes: Float32Array.of(0.3, 0.4),
        references: 100,
        ...monosemanticVerdict(),
      }));
      const key = runKeys.layerPart('neurons', 'up', { first: 0, end: 3 });
      await mkdir(join(dir, key, '..'), { recursive: true });
      await writeFile(join(dir, key), toParquet(neuronsSchema.toArrow(rows)));
      const { stdout: tables } = await pure('query', dir);
      assert.equal(tables.trim(), 'tables: neurons');
      const { stdout: table } = await pure(
        'query',
        dir,
        'SELECT neuron, n_clusters, polysemanticity FROM neurons ORDER BY neuron DESC',
      );
      assert.deepEqual(table.trim().split('\n'), [
        'neuron  n_clusters  polysemanticity',
        '------  ----------  ---------------',
        '2       3           0.5',
        '1       1           0.25',
        '0       1           0',
        '(3 rows)',
      ]);
      const { stdout: csv } = await pure(
        'query',
        dir,
        '--format',
        'csv',
        'SELECT neuron, layer FROM neurons ORDER BY 1',
      );
      assert.equal(csv, 'neuron,layer\n0,up\n1,up\n2,up\n');
      const { stdout: json } = await pure(
        'query',
        dir,
        '--format',
        'json',
        'SELECT max(polysemanticity) AS p FROM neurons',
      );
      assert.deepEqual(JSON.parse(json), [{ p: 0.5 }]);
      await assert.rejects(pure('query', join(dir, 'nothing-here')), /no pure tables under/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('query reads only the run it is given, whatever its id holds, and streams any number of rows', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pure-cli-'));
    try {
      // 'r*' and 'r[12]' are globs to DuckDB that match the sibling run 'r1'.
      for (const [runId, count] of [
        ['r*', 2],
        ['r[12]', 3],
        ['r1', 5],
      ] as const) {
        const rows: NeuronRow[] = Array.from({ length: count }, (_, neuron) => ({
          layer: 'up',
          lowerLayer: 'low',
          neuron,
          nClusters: 1,
          polysemanticity: 0,
          silhouettes: Float32Array.of(0.1),
          activationSilhouettes: Float32Array.of(0.3),
          references: 10,
          ...monosemanticVerdict(1),
        }));
        const key = join(dir, runId, runKeys.layerPart('neurons', 'up', { first: 0, end: count }));
        await mkdir(join(key, '..'), { recursive: true });
        await writeFile(key, toParquet(neuronsSchema.toArrow(rows)));
      }
      for (const [runId, count] of [
        ['r*', 2],
        ['r[12]', 3],
      ] as const) {
        const { stdout } = await pure(
          'query',
          join(dir, runId),
          '--format',
          'csv',
          'SELECT count(*) AS n FROM neurons',
        );
        assert.equal(stdout, `n\n${count}\n`, runId);
      }
      // Above ~130k rows the table printer used to overflow the stack (a spread of every row).
      const { stdout: many } = await run(
        process.execPath,
        [cli, 'query', join(dir, 'r1'), 'SELECT i FROM range(300000) t(i)'],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      const lines = many.trimEnd().split('\n');
      assert.equal(lines.length, 2 + 300_000 + 1);
      assert.equal(lines.at(-2), '299999');
      assert.equal(lines.at(-1), '(300000 rows)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('--device cuda fails at worker start with one message saying what is missing, unless a GPU is usable', async () => {
    const expected = cudaOutcome();
    if (expected === undefined) {
      assert.deepEqual(executionProvidersFor('cuda'), ['cuda']);
    } else {
      await assert.rejects(
        pure('worker', '--device', 'cuda', '--temporal', '127.0.0.1:1'),
        (e: { code: number; stderr: string }) => {
          assert.equal(e.code, 1);
          assert.match(e.stderr, expected);
          // Only our message: onnxruntime's own log lines stay in the probe's child process.
          assert.doesNotMatch(e.stderr, /onnxruntime:|provider_bridge/);
          assert.equal(e.stderr.match(/--device cuda:/g)?.length, 1, e.stderr);
          return true;
        },
      );
    }
    assert.deepEqual(executionProvidersFor('cpu'), ['cpu']);
  });

  test('pure assign checks its request against the run before it starts anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pure-cli-assign-'));
    const failsWith = (pattern: RegExp) => (e: { code: number; stderr: string }) =>
      e.code === 1 && pattern.test(e.stderr);
    try {
      const runDir = join(dir, 'run');
      await mkdir(runDir);
      const config = testConfig({
        runId: 'run',
        modelUri: '/m.onnx',
        dataUri: '/d',
        outUri: dir,
        layers: ['/a', '/b'],
        preprocess: PREPROCESS_PRESETS.cifar10,
      });
      await writeFile(join(runDir, runKeys.config), JSON.stringify(config));
      const assign = (...args: string[]) => pure('assign', runDir, join(dir, 'images'), ...args);
      await assert.rejects(
        pure('assign', join(dir, 'nothing'), dir),
        failsWith(/nothing: no config\.json there/),
      );
      await assert.rejects(
        assign('--layers', '/nope'),
        failsWith(/--layers \/nope: not an explained layer of the run; it explains \/b/),
      );
      await assert.rejects(
        assign('--count', '7'),
        failsWith(/--count 7: the run clustered at 2, 3, 4, 5 only/),
      );
      await assert.rejects(
        assign('--neurons', '5-3'),
        failsWith(/--neurons: the range 5-3 ends before it starts/),
      );
      await assert.rejects(assign('--no-worker'), failsWith(/--no-worker needs --temporal/));
      await assert.rejects(assign(), failsWith(/the virtual neurons of \/b are not finished/));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('bad input gets one clear error and exit code 1', async () => {
    const runResnet20 = (...args: string[]) =>
      pure('run', '--model', sharedModel('resnet20-cifar10.onnx'), ...args);
    const failsWith = (pattern: RegExp) => (e: { code: number; stderr: string }) =>
      e.code === 1 && pattern.test(e.stderr);
    await assert.rejects(
      runResnet20('--data', '/d', '--layers', 'auto', '--no-worker'),
      failsWith(/--no-worker needs --temporal/),
    );
    await assert.rejects(
      runResnet20('--data', '/nonexistent', '--layers', 'a', '--k', '0'),
      failsWith(/k must be an integer >= 1/),
    );
    await assert.rejects(
      runResnet20('--data', '/d', '--layers', '/nope,/also-nope', '--temporal', '127.0.0.1:1'),
      failsWith(/pure: --layers: unknown layer "\/nope", "\/also-nope"; run `pure layers <model>`/),
    );
  });
});
