import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { SweepConfig } from '../../core/compute/run/config.js';
import { sharedDataset, sharedModel, squeezenetEvaluatorArgs } from '../support/paths.js';

/** The compiled CLI beside this compiled test (dist/ or any other outDir). */
const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

/** `pure <args>` as a user runs it, without TEMPORAL_ADDRESS: each run starts its own embedded server. */
function pure(...args: string[]) {
  const { TEMPORAL_ADDRESS: _unused, ...env } = process.env;
  return promisify(execFile)(process.execPath, [CLI, ...args], { env, timeout: 240_000 });
}

/**
 * `pure run --config f.yaml` and the same options as flags: two real runs into two output folders get
 * the same run id and byte-identical config.json but for outUri. The file's relative paths (out,
 * stateDir) are resolved against its folder, not the working directory.
 */
test('pure run --config sweep.yaml is the same run as the same flags', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pure-config-run-'));
  try {
    const file = join(dir, 'sweep.yaml');
    await writeFile(
      file,
      [
        '# the README sweep, small',
        `model: ${sharedModel('resnet20-cifar10.onnx')}`,
        `data: ${sharedDataset('cifar10-test')}`,
        'layers: auto',
        'limit: 200',
        'k: 10',
        'until: references',
        // The evaluator's options are read and stored even when the sweep stops before step 5.
        `evaluator: ${sharedModel('squeezenet1.1-imagenet.onnx')}`,
        'evaluatorOutput: /fires.7/Concat_output_0',
        'evaluatorPreprocess: imagenet',
        'cropImages: true',
        'out: out-config',
        'stateDir: state-config',
        '',
      ].join('\n'),
    );
    const fromFile = await pure('run', '--config', file);
    assert.match(fromFile.stdout, /Done: 200 images, 3 layers, 0 images skipped/);
    const fromFlags = await pure(
      'run',
      '--model',
      sharedModel('resnet20-cifar10.onnx'),
      '--data',
      sharedDataset('cifar10-test'),
      '--layers',
      'auto',
      '--limit',
      '200',
      '-k',
      '10',
      '--until',
      'references',
      ...squeezenetEvaluatorArgs(),
      '--crop-images',
      '--out',
      join(dir, 'out-flags'),
      '--state-dir',
      join(dir, 'state-flags'),
    );
    assert.match(fromFlags.stdout, /Done: 200 images, 3 layers, 0 images skipped/);

    const [runA, runB] = await Promise.all([
      readdir(join(dir, 'out-config')),
      readdir(join(dir, 'out-flags')),
    ]);
    assert.equal(runA.length, 1);
    assert.deepEqual(runB, runA);
    assert.match(runA[0]!, /^resnet20-cifar10-[0-9a-f]{10}$/);
    const [a, b] = await Promise.all([
      readFile(join(dir, 'out-config', runA[0]!, 'config.json'), 'utf8'),
      readFile(join(dir, 'out-flags', runB[0]!, 'config.json'), 'utf8'),
    ]);
    const apart = (text: string) => text.split('\n').filter((line) => !line.includes('"outUri"'));
    assert.deepEqual(apart(a), apart(b));
    assert.ok(a.includes(`"outUri": ${JSON.stringify(join(dir, 'out-config'))}`), a);
    assert.ok(b.includes(`"outUri": ${JSON.stringify(join(dir, 'out-flags'))}`), b);
    assert.equal(a.split('\n').length, b.split('\n').length);
    const stored = JSON.parse(a) as SweepConfig;
    assert.equal(stored.evaluator?.uri, sharedModel('squeezenet1.1-imagenet.onnx'));
    assert.equal(stored.evaluator?.output, '/fires.7/Concat_output_0');
    assert.match(stored.evaluator?.digest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(stored.evaluator?.preprocess.cropSize, 224);
    assert.equal(stored.cropImages, true);
    // The embedded server's state went where the file said, beside the file.
    assert.ok((await readdir(join(dir, 'state-config'))).includes('embedded-temporal'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a bad config file fails at once through the CLI, naming the file, field and line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pure-config-bad-'));
  try {
    const file = join(dir, 'sweep.yaml');
    await writeFile(file, `model: m.onnx\ndata: images\nlayers: auto\nclusters: [2, 3, 1]\nseeed: 1\n`);
    await assert.rejects(pure('run', '--config', file, '--state-dir', join(dir, 'state')), (error: Error) => {
      const { code, stderr } = error as Error & { code: number; stderr: string };
      assert.equal(code, 1);
      assert.equal(
        stderr,
        `pure: ${file}: seeed: unknown field; did you mean seed? Valid fields: model, data, layers, out, run, k, ` +
          'until, clusters, seed, limit, tokens, preprocess, evaluator, evaluatorOutput, evaluatorPreprocess, cropImages, ' +
          'batchSize, shardSize, neuronBatch, window, retryWindow, ' +
          'temporal, namespace, queuePrefix, threads, device, worker, stateDir (line 5)\n' +
          `${file}: clusters[2]: expected an integer >= 2, got 1 (line 4)\n`,
      );
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
