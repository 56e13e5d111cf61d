import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { listLayers } from '../../../core/adapters/onnxruntime/attribution.js';
import {
  evenlySpaced,
  resultIdentity,
  type SweepConfig,
  shardRanges,
  validateConfig,
} from '../../../core/compute/run/config.js';
import { stageOutputs } from '../../../core/compute/run/layers.js';
import { testConfig } from '../../support/config.js';
import { sharedModel } from '../../support/paths.js';

describe('--layers auto picks the stage outputs', () => {
  test('ResNet-20 and ResNet-56: the last block of each of the three stages', async () => {
    assert.deepEqual(stageOutputs(await listLayers(sharedModel('resnet20-cifar10.onnx'))), [
      '/layer1/layer1.2/Relu_1_output_0',
      '/layer2/layer2.2/Relu_1_output_0',
      '/layer3/layer3.2/Relu_1_output_0',
    ]);
    assert.deepEqual(stageOutputs(await listLayers(sharedModel('resnet56-cifar10.onnx'))), [
      '/layer1/layer1.8/Relu_1_output_0',
      '/layer2/layer2.8/Relu_1_output_0',
      '/layer3/layer3.8/Relu_1_output_0',
    ]);
  });
  test('SqueezeNet 1.1: the last Fire module at each width and resolution', async () => {
    assert.deepEqual(stageOutputs(await listLayers(sharedModel('squeezenet1.1-imagenet.onnx'))), [
      '/fires.1/Concat_output_0',
      '/fires.3/Concat_output_0',
      '/fires.5/Concat_output_0',
      '/fires.7/Concat_output_0',
    ]);
  });
});

describe('sweep configuration', () => {
  const valid: SweepConfig = testConfig({
    runId: 'r1',
    modelUri: '/m.onnx',
    dataUri: '/d',
    outUri: '/o',
    layers: ['a', 'b'],
    preprocess: { resizeShortSide: 32, cropSize: 32, mean: [0, 0, 0], std: [1, 1, 1] },
  });
  test('every problem is reported at once', () => {
    assert.throws(
      () => validateConfig({ ...valid, runId: 'a/b', layers: ['a', 'a'], k: 0, window: 1.5 }),
      (e: Error) =>
        /run id must be one path segment/.test(e.message) &&
        /lists a layer twice/.test(e.message) &&
        /k must be an integer >= 1/.test(e.message) &&
        /window must be an integer >= 1/.test(e.message),
    );
    assert.equal(validateConfig(valid), valid);
  });
  test("tokens: 'all' or 'patches', else one clear error; only 'patches' changes the run's identity", () => {
    assert.throws(
      () => validateConfig({ ...valid, tokens: 'cls' as never }),
      /tokens must be one of all, patches \(which tokens of a ViT layer count.*got cls/,
    );
    assert.equal(validateConfig({ ...valid, tokens: 'patches' }).tokens, 'patches');
    // Runs from before the option (tokens unset) and runs that spell the default out keep their ids.
    assert.doesNotMatch(resultIdentity(valid), /tokens/);
    assert.equal(resultIdentity({ ...valid, tokens: 'all' }), resultIdentity(valid));
    const patches = resultIdentity({ ...valid, tokens: 'patches' });
    assert.notEqual(patches, resultIdentity(valid));
    assert.match(patches, /"tokens":"patches"/);
  });
  test('shards cover every sample once; evenly spaced subsets are deterministic and in range', () => {
    assert.deepEqual(shardRanges(25, 10), [
      { first: 0, end: 10 },
      { first: 10, end: 20 },
      { first: 20, end: 25 },
    ]);
    assert.deepEqual(evenlySpaced(10, 4), [0, 2, 5, 7]);
    assert.deepEqual(evenlySpaced(3, 0), [0, 1, 2]);
    const picked = evenlySpaced(10_000, 1000);
    assert.equal(new Set(picked).size, 1000);
    assert.ok(picked.every((i) => i >= 0 && i < 10_000));
  });
});
