import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { openDataset } from '../../../core/adapters/datasets/dataset.js';
import { preprocessImage } from '../../../core/adapters/datasets/preprocess.js';
import { openActivationModel } from '../../../core/adapters/onnxruntime/activations.js';
import { PREPROCESS_PRESETS, type PreprocessSpec } from '../../../core/compute/images/preprocess.js';
import { evenlySpaced } from '../../../core/compute/run/config.js';
import type { SampleRow } from '../../../core/compute/tables/schemas.js';
import { sharedDataset, sharedModel } from '../../support/paths.js';

/**
 * Preprocessing is right when the shared models classify the shared images as well as their README
 * says they do. A wrong channel order, scale or crop costs tens of points.
 */
async function top1(
  modelFile: string,
  samples: SampleRow[],
  dataUri: string,
  spec: PreprocessSpec,
  classOf: (s: SampleRow) => number,
) {
  const model = await openActivationModel(await readFile(sharedModel(modelFile)), ['logits']);
  const dataset = openDataset(dataUri);
  const perImage = 3 * spec.cropSize * spec.cropSize;
  let correct = 0;
  const batchSize = 50;
  for (let start = 0; start < samples.length; start += batchSize) {
    const batch = samples.slice(start, start + batchSize);
    const pixels = new Float32Array(batch.length * perImage);
    const decoded = await Promise.all(
      batch.map(async (s) => preprocessImage(await dataset.readSample(s.sampleId), spec)),
    );
    decoded.forEach((chw, i) => {
      pixels.set(chw, i * perImage);
    });
    const logits = (await model.run(pixels, batch.length)).get('logits')!;
    const classes = logits.dims[1]!;
    batch.forEach((sample, i) => {
      let best = 0;
      for (let c = 1; c < classes; c++)
        if (logits.data[i * classes + c]! > logits.data[i * classes + best]!) best = c;
      if (best === classOf(sample)) correct++;
    });
  }
  await model.release();
  return correct / samples.length;
}

describe('preprocessing sanity on the shared models', () => {
  test('ResNet-20 reaches >= 78 % top-1 on 1,000 CIFAR-10 test images', async () => {
    const dataUri = sharedDataset('cifar10-test');
    const all = await openDataset(dataUri).listSamples();
    assert.equal(all.length, 10_000);
    const classes = [...new Set(all.map((s) => s.label!))].sort();
    assert.equal(classes.length, 10);
    const subset = evenlySpaced(all.length, 1000).map((i) => all[i]!);
    const accuracy = await top1('resnet20-cifar10.onnx', subset, dataUri, PREPROCESS_PRESETS.cifar10, (s) =>
      classes.indexOf(s.label!),
    );
    assert.ok(accuracy >= 0.78, `top-1 ${accuracy}`);
  });

  test('SqueezeNet 1.1 reaches >= 50 % top-1 on the 1,000 ImageNet sample photos', async () => {
    const dataUri = sharedDataset('imagenet-samples');
    const all = await openDataset(dataUri).listSamples();
    assert.equal(all.length, 1000);
    // Files are n<wnid>_<label>.JPEG; sorted by wnid their position is the class index.
    const accuracy = await top1(
      'squeezenet1.1-imagenet.onnx',
      all,
      dataUri,
      PREPROCESS_PRESETS.imagenet,
      (s) => s.sampleIndex,
    );
    assert.ok(accuracy >= 0.5, `top-1 ${accuracy}`);
  });
});
