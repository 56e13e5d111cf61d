import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDataset } from '../../../core/adapters/datasets/dataset.js';
import { preprocessImage } from '../../../core/adapters/datasets/preprocess.js';
import { openActivationModel } from '../../../core/adapters/onnxruntime/activations.js';
import { PREPROCESS_PRESETS } from '../../../core/compute/images/preprocess.js';
import { actMaxShard } from '../../../core/stages/references.js';
import { sharedDataset, sharedModel } from '../../support/paths.js';

const LAYER = '/layer2/layer2.2/Relu_1_output_0';

describe('actMaxShard on a folder with a corrupt image', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-actmax-'));
    for (const cls of ['cat', 'ship']) {
      await mkdir(join(dir, cls));
      for (const n of ['0000', '0001', '0002']) {
        await copyFile(join(sharedDataset('cifar10-test'), cls, `${n}.jpg`), join(dir, cls, `${n}.jpg`));
      }
    }
    await writeFile(join(dir, 'cat', 'broken.jpg'), new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    await writeFile(join(dir, 'README.txt'), 'not an image, ignored');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('skips and records the corrupt image, ranks the rest exactly like single-image forwards', async () => {
    const dataset = openDataset(dir);
    const samples = await dataset.listSamples();
    assert.deepEqual(
      samples.map((s) => [s.sampleId, s.label]),
      [
        ['cat/0000.jpg', 'cat'],
        ['cat/0001.jpg', 'cat'],
        ['cat/0002.jpg', 'cat'],
        ['cat/broken.jpg', 'cat'],
        ['ship/0000.jpg', 'ship'],
        ['ship/0001.jpg', 'ship'],
        ['ship/0002.jpg', 'ship'],
      ],
    );
    const model = await openActivationModel(await readFile(sharedModel('resnet20-cifar10.onnx')), [LAYER]);
    const progress: number[] = [];
    const result = await actMaxShard({
      model,
      dataset,
      samples,
      preprocess: PREPROCESS_PRESETS.cifar10,
      k: 4,
      batchSize: 3,
      onProgress: (done) => progress.push(done),
    });
    assert.deepEqual(progress, [3, 6, 7]);
    assert.equal(result.imagesUsed, 6);
    assert.equal(result.skipped.length, 1);
    assert.equal(result.skipped[0]!.sampleId, 'cat/broken.jpg');
    assert.match(result.skipped[0]!.error, /could not decode image/);
    assert.equal(result.rows.length, 32 * 4);

    // Independent: forward each image alone and rank by hand.
    const maxima = new Map<number, Float32Array>();
    for (const s of samples.filter((x) => x.sampleId !== 'cat/broken.jpg')) {
      const act = (
        await model.run(
          await preprocessImage(await dataset.readSample(s.sampleId), PREPROCESS_PRESETS.cifar10),
          1,
        )
      ).get(LAYER)!;
      const plane = act.dims[2]! * act.dims[3]!;
      maxima.set(
        s.sampleIndex,
        Float32Array.from({ length: 32 }, (_, c) =>
          Math.max(...act.data.subarray(c * plane, (c + 1) * plane)),
        ),
      );
    }
    await model.release();
    for (let neuron = 0; neuron < 32; neuron++) {
      const expected = [...maxima.entries()]
        .map(([i, m]) => ({ i, v: m[neuron]! }))
        .sort((a, b) => b.v - a.v || a.i - b.i)
        .slice(0, 4);
      const got = result.rows.filter((r) => r.neuron === neuron).sort((a, b) => a.rank - b.rank);
      assert.deepEqual(
        got.map((r) => r.rank),
        [1, 2, 3, 4],
      );
      got.forEach((r, j) => {
        assert.ok(Math.abs(r.value - expected[j]!.v) < 1e-4, `neuron ${neuron} rank ${j + 1} value`);
      });
    }
  });

  test('an empty folder is one clear error', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'pure-empty-'));
    await assert.rejects(openDataset(empty).listSamples(), /no images found under .*point --data/);
    await rm(empty, { recursive: true });
  });

  test('an unknown layer lists valid names', async () => {
    await assert.rejects(
      openActivationModel(await readFile(sharedModel('resnet20-cifar10.onnx')), ['/layer9/nope']),
      /unknown layer "\/layer9\/nope".*pure layers.*\/layer1\/layer1\.0\/conv1\/Conv_output_0/s,
    );
  });
});
