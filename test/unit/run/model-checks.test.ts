/**
 * The preflight's graph checks (core/compute/run/model-checks.ts) on the shared models: each passes what
 * the pipeline can run and rejects, with a message naming the option, what it cannot.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { InputError } from '../../../core/compute/errors.js';
import { PREPROCESS_PRESETS } from '../../../core/compute/images/preprocess.js';
import { modelInput } from '../../../core/compute/onnx/image-model.js';
import { decodeModel, graphOf } from '../../../core/compute/onnx/model.js';
import {
  checkFiniteWeights,
  checkLayerOrder,
  checkPreprocessFits,
} from '../../../core/compute/run/model-checks.js';
import { sharedModel } from '../../support/paths.js';

const resnet20 = async () =>
  decodeModel(new Uint8Array(await readFile(sharedModel('resnet20-cifar10.onnx'))));
const squeezenet = async () =>
  decodeModel(new Uint8Array(await readFile(sharedModel('squeezenet1.1-imagenet.onnx'))));

const L1 = '/layer1/layer1.2/Relu_1_output_0';
const L2 = '/layer2/layer2.2/Relu_1_output_0';
const L3 = '/layer3/layer3.2/Relu_1_output_0';

const rejects = (kind: string, pattern: RegExp) => (error: unknown) =>
  error instanceof InputError && error.kind === kind && pattern.test(error.message);

describe('preflight model checks', () => {
  test('layer order: lower first passes; reversed names the order to use; parallel branches are refused', async () => {
    const model = await resnet20();
    checkLayerOrder(model, [L1, L2, L3]);
    checkLayerOrder(model, [L1, L3]); // not adjacent blocks, still one path
    assert.throws(
      () => checkLayerOrder(model, [L1, L3, L2]),
      rejects(
        'LayerOrder',
        new RegExp(`comes before .*list lower layers first: --layers ${L1},${L2},${L3}$`),
      ),
    );
    assert.throws(
      () => checkLayerOrder(model, [L1, '/nope']),
      rejects('UnknownLayer', /--layers: unknown layer "\/nope"/),
    );
    const fire = await squeezenet();
    checkLayerOrder(fire, ['/fires.0/squeeze/Conv_output_0', '/fires.0/expand3x3/Conv_output_0']);
    assert.throws(
      () => checkLayerOrder(fire, ['/fires.0/expand1x1/Conv_output_0', '/fires.0/expand3x3/Conv_output_0']),
      rejects('LayerOrder', /is not computed from .*parallel branches/),
    );
  });

  test('preprocessing must make the input the model takes, and the fix names the preset that does', async () => {
    const cifarInput = modelInput(await resnet20());
    checkPreprocessFits(cifarInput, PREPROCESS_PRESETS.cifar10, 'cifar10');
    assert.throws(
      () => checkPreprocessFits(cifarInput, PREPROCESS_PRESETS.imagenet, 'imagenet'),
      rejects(
        'PreprocessMismatch',
        /--preprocess imagenet: makes 224x224 images, but the model takes 32x32; use --preprocess cifar10/,
      ),
    );
    const imagenetInput = modelInput(await squeezenet());
    assert.throws(
      () => checkPreprocessFits(imagenetInput, PREPROCESS_PRESETS.cifar10, 'cifar10'),
      rejects('PreprocessMismatch', /use --preprocess imagenet/),
    );
    assert.throws(
      () => checkPreprocessFits({ ...cifarInput, channels: 1 }, PREPROCESS_PRESETS.cifar10, undefined),
      rejects('InvalidModel', /has 1 channel\(s\); pure feeds RGB images/),
    );
  });

  test('NaN or infinite weights are found and named', async () => {
    const model = await resnet20();
    checkFiniteWeights(model);
    const weights = graphOf(model).initializer!.find((t) => (t.rawData?.length ?? 0) > 64)!;
    const raw = Buffer.from(weights.rawData!);
    raw.writeFloatLE(Number.NaN, 8);
    weights.rawData = new Uint8Array(raw);
    assert.throws(
      () => checkFiniteWeights(model),
      rejects(
        'InvalidModel',
        new RegExp(`1 weight tensor\\(s\\) contain NaN or infinite values \\(${weights.name}\\)`),
      ),
    );
  });
});
