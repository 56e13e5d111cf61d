/** generatePlanted: the files it writes, their determinism, and its option checks. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { openDataset } from '../../../core/adapters/datasets/dataset.js';
import { preprocessImage } from '../../../core/adapters/datasets/preprocess.js';
import {
  buildPlantedModel,
  FEATURES,
  generatePlanted,
  type PlantedTruth,
  plantedImageSpec,
  plantedTruth,
  renderPlantedImage,
} from '../../../core/adapters/planted/index.js';
import { inputBatch } from './helpers.js';

const SIZE = 32;

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

describe('generatePlanted', () => {
  let folder: string;
  let first: string;
  let truth: PlantedTruth;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'planted-'));
    first = join(folder, 'first');
    truth = await generatePlanted({ outDir: first, seed: 42, imagesPerFeature: 3 });
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  test('writes model.onnx, one PNG per image in a folder per feature, and truth.json equal to the result', async () => {
    const files = await listFiles(first);
    const expectedImages = FEATURES.flatMap((f) =>
      [0, 1, 2].map((i) => `images/${f.name}/000${i}.png`),
    ).sort();
    assert.deepEqual(files, ['model.onnx', ...expectedImages, 'truth.json'].sort());
    assert.deepEqual(await readFile(join(first, 'model.onnx')), Buffer.from(buildPlantedModel(SIZE)));
    assert.deepEqual(JSON.parse(await readFile(join(first, 'truth.json'), 'utf8')), truth);
    assert.deepEqual(truth, plantedTruth({ seed: 42, imagesPerFeature: 3, size: SIZE }));
    assert.deepEqual(
      truth.images.map((i) => `images/${i.sampleId}`),
      expectedImages,
    );
  });

  test('the truth describes the layers, preprocessing and every neuron', () => {
    assert.deepEqual(truth.layers, { lower: '/lower/Relu_output_0', upper: '/upper/Relu_output_0' });
    assert.deepEqual(truth.preprocess, {
      resizeShortSide: SIZE,
      cropSize: SIZE,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    });
    assert.deepEqual(truth.input.dims, ['N', 3, SIZE, SIZE]);
    const kinds = truth.upperNeurons.map((n) => n.kind);
    assert.equal(kinds.filter((k) => k === 'polysemantic').length, 3);
    assert.equal(kinds.filter((k) => k === 'monosemantic').length, FEATURES.length);
    assert.equal(kinds.filter((k) => k === 'distractor').length, 3);
    truth.upperNeurons.forEach((n, channel) => {
      assert.equal(n.channel, channel);
      if (n.kind === 'polysemantic') assert.ok(n.features.length >= 2 && n.features.length <= 3, n.name);
      if (n.kind === 'monosemantic') assert.equal(n.features.length, 1, n.name);
      if (n.kind !== 'distractor') {
        assert.deepEqual(
          n.lowerChannels,
          n.features.map((f) => truth.features[f]!.lowerChannel),
        );
        assert.equal(n.expectedClusters, n.features.length);
      } else {
        assert.equal(n.expectedClusters, null);
        const lower = truth.lowerChannels[n.lowerChannels[0]!]!;
        assert.ok(lower.kind === 'distractor' && lower.nuisance === n.nuisance, n.name);
      }
    });
    truth.features.forEach((f) => {
      const lower = truth.lowerChannels[f.lowerChannel]!;
      assert.ok(lower.kind === 'feature' && lower.feature === f.id);
    });
  });

  test('PNGs hold exactly the rendered pixels; preprocessing them gives the model input the tests use', async () => {
    for (const spec of truth.images.filter((s) => s.index === 1)) {
      const png = await readFile(join(first, 'images', spec.sampleId));
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height, info.channels], [SIZE, SIZE, 3]);
      assert.deepEqual(new Uint8Array(data), renderPlantedImage(spec, SIZE));
      assert.deepEqual(await preprocessImage(png, truth.preprocess), inputBatch(truth, [spec]));
    }
  });

  test('the images folder is a labelled dataset in truth order', async () => {
    const samples = await openDataset(join(first, 'images')).listSamples();
    assert.deepEqual(
      samples.map((s) => s.sampleId),
      truth.images.map((i) => i.sampleId),
    );
    assert.deepEqual(
      samples.map((s) => s.label),
      truth.images.map((i) => FEATURES[i.feature]!.name),
    );
  });

  test('same seed, same bytes; another seed, other images', async () => {
    const again = join(folder, 'again');
    await generatePlanted({ outDir: again, seed: 42, imagesPerFeature: 3 });
    const files = await listFiles(first);
    assert.deepEqual(await listFiles(again), files);
    for (const file of files) {
      assert.deepEqual(await readFile(join(again, file)), await readFile(join(first, file)), file);
    }
    const other = join(folder, 'other');
    await generatePlanted({ outDir: other, seed: 43, imagesPerFeature: 3 });
    const png = 'images/ring/0000.png';
    assert.notDeepEqual(await readFile(join(other, png)), await readFile(join(first, png)));
  });

  test('an image does not depend on how many are generated', () => {
    const few = plantedTruth({ seed: 9, imagesPerFeature: 2, size: SIZE });
    const many = plantedTruth({ seed: 9, imagesPerFeature: 5, size: SIZE });
    const ring1 = few.images.find((i) => i.sampleId === 'ring/0001.png')!;
    assert.deepEqual(
      ring1,
      many.images.find((i) => i.sampleId === 'ring/0001.png'),
    );
    assert.deepEqual(ring1, plantedImageSpec(9, ring1.feature, 1, SIZE));
  });

  test('refuses a folder that holds an earlier output unless told to overwrite, then replaces only that', async () => {
    const target = join(folder, 'overwrite');
    await mkdir(target, { recursive: true });
    await writeFile(join(target, 'notes.txt'), 'mine');
    await generatePlanted({ outDir: target, seed: 1, imagesPerFeature: 2 });
    await assert.rejects(
      generatePlanted({ outDir: target, seed: 1, imagesPerFeature: 1 }),
      /already holds images, model\.onnx, truth\.json; .*overwrite/,
    );
    const replaced = await generatePlanted({ outDir: target, seed: 1, imagesPerFeature: 1, overwrite: true });
    assert.equal(replaced.images.length, FEATURES.length);
    const files = await listFiles(target);
    assert.equal(files.filter((f) => f.endsWith('.png')).length, FEATURES.length);
    assert.ok(files.includes('notes.txt'));
  });

  test('rejects bad options with a message naming the option', async () => {
    const outDir = join(folder, 'never');
    const cases: [Parameters<typeof generatePlanted>[0], RegExp][] = [
      [{ outDir: '' }, /outDir must be a non-empty path/],
      [{ outDir, seed: -1 }, /seed must be an integer from 0 to 4294967295, got -1/],
      [{ outDir, seed: 1.5 }, /seed must be an integer/],
      [{ outDir, imagesPerFeature: 0 }, /imagesPerFeature must be an integer from 1 to 10000, got 0/],
      [{ outDir, imagesPerFeature: 20_000 }, /imagesPerFeature must be an integer from 1 to 10000/],
      [{ outDir, size: 33 }, /size must be an even integer from 16 to 256 \(pixels\), got 33/],
      [{ outDir, size: 8 }, /size must be an even integer/],
    ];
    for (const [options, message] of cases) await assert.rejects(generatePlanted(options), message);
    await assert.rejects(readdir(outDir), { code: 'ENOENT' });
  });
});
