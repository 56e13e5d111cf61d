/**
 * Model handling around the rules: folding keeps outputs identical and removes the exporter's shape
 * arithmetic; shapes follow the batch; cuts find side inputs and fail clearly; layers are listed
 * block outputs first; ops outside the table fail naming the node; hung runs time out.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { loadModel } from '../../../core/adapters/models/model-file.js';
import { AttributionEngine, listLayers } from '../../../core/adapters/onnxruntime/attribution.js';
import { foldConstants } from '../../../core/adapters/onnxruntime/fold.js';
import { prepareModel } from '../../../core/adapters/onnxruntime/prepare.js';
import {
  createSession,
  InferenceTimeoutError,
  type OrtSession,
  ort,
  runWithTimeout,
} from '../../../core/adapters/onnxruntime/session.js';
import { probeModel } from '../../../core/adapters/onnxruntime/shapes.js';
import { buildCircuitModel } from '../../../core/compute/attribution/circuit.js';
import { SUPPORTED_OPS } from '../../../core/compute/attribution/rules.js';
import { cutGraph } from '../../../core/compute/onnx/cut.js';
import {
  decodeModel,
  encodeModel,
  GraphIndex,
  graphOf,
  opsetVersion,
} from '../../../core/compute/onnx/model.js';
import { upgradeOpset } from '../../../core/compute/onnx/opset.js';
import { tensor } from '../../../core/compute/onnx/tensor.js';
import { stageOutputs } from '../../../core/compute/run/layers.js';
import { modelProto, node } from '../../support/onnx-builders.js';
import { sharedModel } from '../../support/paths.js';
import { seededRandom } from '../../support/random.js';

const RESNET20 = sharedModel('resnet20-cifar10.onnx');
const SQUEEZENET = sharedModel('squeezenet1.1-imagenet.onnx');
const engine = new AttributionEngine({ intraOpNumThreads: 1 });
after(() => engine.release());

describe('constant folding', () => {
  test('ResNet-20: the shortcut shape arithmetic folds away and the logits stay identical', async () => {
    const original = await loadModel(RESNET20);
    const folded = await foldConstants(original);
    const opsAfter = new Set((graphOf(folded.model).node ?? []).map((n) => n.opType));
    for (const op of ['Constant', 'ConstantOfShape', 'Cast', 'Concat', 'Transpose', 'Reshape']) {
      assert.ok(!opsAfter.has(op), `${op} survived folding`);
    }
    assert.equal(folded.removedNodes, 46);
    const rand = seededRandom(3);
    const input = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 3 * 3 * 32 * 32 }, () => rand() * 2 - 1),
      [3, 3, 32, 32],
    );
    const outputs = [];
    for (const model of [original, folded.model]) {
      const session = await createSession(decodeModel(encodeModel(model)), { intraOpNumThreads: 1 });
      outputs.push((await session.run({ input })).logits!.data as Float32Array);
      await session.release();
    }
    assert.deepEqual(outputs[1], outputs[0]);
  });

  test('a batch-dependent Shape chain stays in the graph; a batch-free one folds', async () => {
    // y = Reshape(x, Concat(Shape(x)[0:1], [-1])): the exporter's x.view(x.size(0), -1).
    const model = modelProto({
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['shape'] },
        { op: 'Slice', inputs: ['shape', 'zero', 'one'], outputs: ['batch'] },
        { op: 'Concat', inputs: ['batch', 'minus_one'], outputs: ['target'], attributes: { axis: 0 } },
        { op: 'Reshape', inputs: ['x', 'target'], outputs: ['flat'] },
        // A batch-free image-dependent tensor: its Shape is constant.
        { op: 'ReduceSum', inputs: ['x', 'zero'], outputs: ['m'], attributes: { keepdims: 1 } },
        { op: 'Shape', inputs: ['m'], outputs: ['mshape'] },
        { op: 'Reshape', inputs: ['m', 'mshape'], outputs: ['z'] },
      ],
      inputs: [{ name: 'x', dtype: 'float32', dims: ['N', 2, 3] }],
      outputs: [
        { name: 'flat', dtype: 'float32' },
        { name: 'z', dtype: 'float32' },
      ],
      initializers: {
        zero: tensor('int64', [1], [0]),
        one: tensor('int64', [1], [1]),
        minus_one: tensor('int64', [1], [-1]),
      },
    });
    const folded = await foldConstants(model);
    const ops = (graphOf(folded.model).node ?? []).map((n) => n.opType);
    assert.deepEqual(ops, ['Shape', 'Slice', 'Concat', 'Reshape', 'ReduceSum', 'Reshape']);
    assert.ok(graphOf(folded.model).initializer?.some((t) => t.name === 'mshape'));
    assert.deepEqual(folded.probe.info.get('flat')?.dims, ['N', 6]);
  });
});

describe('shapes', () => {
  test('probed dims: the batch axis follows N, the rest is fixed', async () => {
    const probe = await probeModel(await loadModel(SQUEEZENET));
    assert.deepEqual(probe.info.get('/fires.7/Concat_output_0')?.dims, ['N', 512, 13, 13]);
    assert.deepEqual(probe.info.get('/MaxPool_output_0')?.dims, ['N', 64, 55, 55]);
    assert.deepEqual(probe.info.get('logits')?.dims, ['N', 1000]);
  });
});

describe('cuts', () => {
  test('reversed layers: the error names both tensors', async () => {
    const prepared = await engine.prepare(RESNET20);
    assert.throws(
      () => cutGraph(prepared.index, '/layer2/layer2.2/Relu_1_output_0', '/layer1/layer1.2/Relu_1_output_0'),
      /'\/layer1\/layer1\.2\/Relu_1_output_0' \(upper\) is not downstream of '\/layer2\/layer2\.2\/Relu_1_output_0' \(lower\)/,
    );
  });

  test('an unknown tensor name lists close candidates', async () => {
    const prepared = await engine.prepare(RESNET20);
    assert.throws(
      () => cutGraph(prepared.index, '/layer1/layer1.2/Relu_1_output', '/layer2/layer2.2/Relu_1_output_0'),
      /lower tensor '\/layer1\/layer1\.2\/Relu_1_output' is not in the model; candidates: '\/layer1\/layer1\.2\/Relu_1_output_0'/,
    );
  });

  test('block-to-block cuts of the shared models have no side inputs; the cut covers the blocks', async () => {
    const prepared = await engine.prepare(RESNET20);
    const cut = cutGraph(
      prepared.index,
      '/layer1/layer1.2/Relu_1_output_0',
      '/layer2/layer2.2/Relu_1_output_0',
    );
    assert.deepEqual(cut.sideInputs, []);
    assert.equal(cut.nodes.filter((n) => n.opType === 'Conv').length, 6);
    assert.ok(cut.nodes.some((n) => n.opType === 'Slice') && cut.nodes.some((n) => n.opType === 'Pad'));
  });
});

describe('layers', () => {
  test('ResNet-20: the nine block outputs come first, in order', async () => {
    const layers = await listLayers(RESNET20, engine);
    const blocks = layers.filter((l) => l.kind === 'block').map((l) => l.name);
    assert.equal(blocks.length, 9);
    assert.deepEqual(
      layers.slice(0, 9).map((l) => l.name),
      blocks,
    );
    assert.equal(blocks[2], '/layer1/layer1.2/Relu_1_output_0');
    assert.equal(blocks[8], '/layer3/layer3.2/Relu_1_output_0');
    assert.deepEqual(layers[8]?.dims, ['N', 64, 8, 8]);
    assert.ok(layers.length > 9 && layers.slice(9).every((l) => l.kind === 'activation'));
  });

  test('SqueezeNet: the eight Fire Concat outputs come first', async () => {
    const layers = await listLayers(SQUEEZENET, engine);
    assert.deepEqual(
      layers.slice(0, 8).map((l) => [l.name, l.kind, l.channels]),
      [128, 128, 256, 256, 384, 384, 512, 512].map((c, i) => [`/fires.${i}/Concat_output_0`, 'fire', c]),
    );
  });

  // Built stand-ins for the torchvision families (their exports are too big for the repository; the
  // dev-only test/dev/families-run.sh lists the real ones).
  const weights = (dims: number[], seed: number) => {
    const rand = seededRandom(seed);
    return tensor(
      'float32',
      dims,
      Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() - 0.5),
    );
  };
  const conv1x1 = (input: string, w: string, output: string) =>
    node('Conv', [input, w], output, { kernel_shape: [1, 1] });

  test('residual Adds without a Relu after them are blocks (inverted residuals, ConvNeXt); bias Adds are not', async () => {
    const model = modelProto({
      nodes: [
        // MobileNetV3 / EfficientNet: expand, activation, linear projection, skip.
        conv1x1('x', 'w_expand', 'expanded'),
        node('Relu', ['expanded'], 'hidden'),
        conv1x1('hidden', 'w_project', 'projected'),
        node('Add', ['x', 'projected'], 'inverted_out'),
        // A bias: one image-dependent input.
        node('Add', ['inverted_out', 'bias'], 'biased'),
        // ResNet: the Relu after the Add is the block, not the Add.
        conv1x1('biased', 'w_res', 'branch'),
        node('Add', ['biased', 'branch'], 'res_sum'),
        node('Relu', ['res_sum'], 'resnet_out'),
        // ConvNeXt: NHWC branch, permuted back, layer-scaled, added to the block input.
        node('Transpose', ['resnet_out'], 'nhwc', { perm: [0, 2, 3, 1] }),
        node('MatMul', ['nhwc', 'w_linear'], 'linear'),
        node('Transpose', ['linear'], 'nchw', { perm: [0, 3, 1, 2] }),
        node('Mul', ['nchw', 'layer_scale'], 'scaled'),
        node('Add', ['scaled', 'resnet_out'], 'convnext_out'),
        // A tensor added to itself, and a broadcast sum: no residual sums.
        node('GlobalAveragePool', ['convnext_out'], 'pooled'),
        node('Add', ['pooled', 'pooled'], 'doubled_pool'),
        node('Add', ['doubled_pool', 'convnext_out'], 'broadcast_sum'),
      ],
      inputs: [{ name: 'x', dtype: 'float32', dims: ['N', 4, 5, 5] }],
      outputs: [{ name: 'broadcast_sum', dtype: 'float32' }],
      initializers: {
        w_expand: weights([8, 4, 1, 1], 1),
        w_project: weights([4, 8, 1, 1], 2),
        bias: weights([1, 4, 1, 1], 3),
        w_res: weights([4, 4, 1, 1], 4),
        w_linear: weights([4, 4], 5),
        layer_scale: weights([4, 1, 1], 6),
      },
    });
    const layers = await listLayers(model);
    const blocks = layers.filter((l) => l.kind === 'block').map((l) => l.name);
    assert.deepEqual(blocks, ['inverted_out', 'resnet_out', 'convnext_out']);
    assert.deepEqual(stageOutputs(layers), ['convnext_out']);
  });

  test('DenseNet: the Concat that ends a dense block and the transition after it are blocks, the growing Concats are not', async () => {
    const model = modelProto({
      nodes: [
        conv1x1('x', 'w_stem', 'stem'),
        node('Concat', ['stem'], 'cat1', { axis: 1 }),
        conv1x1('cat1', 'w_l1', 'l1'),
        node('Concat', ['stem', 'l1'], 'cat2', { axis: 1 }),
        conv1x1('cat2', 'w_l2', 'l2'),
        node('Concat', ['stem', 'l1', 'l2'], 'block1_out', { axis: 1 }),
        // Transition: conv, 2x2 average pool; then a second dense block of one layer.
        conv1x1('block1_out', 'w_t', 't_conv'),
        node('AveragePool', ['t_conv'], 'transition', { kernel_shape: [2, 2], strides: [2, 2] }),
        // As torch exports the first dense layer: a Concat of the block input alone.
        node('Concat', ['transition'], 'cat3', { axis: 1 }),
        node('Relu', ['cat3'], 't_relu'),
        conv1x1('t_relu', 'w_l3', 'l3'),
        node('Concat', ['transition', 'l3'], 'block2_out', { axis: -3 }),
        // A lone Concat (a U-Net's skip) extends no other Concat: not a dense block.
        conv1x1('block2_out', 'w_skip', 'skip'),
        node('Concat', ['block2_out', 'skip'], 'unet_cat', { axis: 1 }),
        // Concats along other axes are not channel stacks.
        node('Concat', ['unet_cat', 'unet_cat'], 'wide', { axis: 3 }),
      ],
      inputs: [{ name: 'x', dtype: 'float32', dims: ['N', 3, 4, 4] }],
      outputs: [{ name: 'wide', dtype: 'float32' }],
      initializers: {
        w_stem: weights([4, 3, 1, 1], 1),
        w_l1: weights([2, 4, 1, 1], 2),
        w_l2: weights([2, 6, 1, 1], 3),
        w_t: weights([4, 8, 1, 1], 4),
        w_l3: weights([2, 4, 1, 1], 5),
        w_skip: weights([3, 6, 1, 1], 6),
      },
    });
    const layers = await listLayers(model);
    assert.deepEqual(
      layers.filter((l) => l.kind === 'block').map((l) => [l.name, l.channels]),
      [
        ['block1_out', 8],
        ['transition', 4],
        ['block2_out', 6],
      ],
    );
    // The stem feeds the first dense block but is not computed from one: not a transition.
    assert.equal(layers.find((l) => l.name === 'stem')?.kind, 'activation');
    assert.deepEqual(stageOutputs(layers), ['block1_out', 'transition', 'block2_out']);
  });
});

describe('rule table coverage errors', () => {
  test('an op outside the table on the path fails naming the node, op and the supported list', async () => {
    const model = modelProto({
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['a'] },
        { op: 'Softplus', inputs: ['a'], outputs: ['b'], name: 'my_softplus' },
        { op: 'Relu', inputs: ['b'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dtype: 'float32', dims: ['N', 2, 3, 3] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
    });
    const prepared = await prepareModel(model);
    assert.throws(
      () => buildCircuitModel(prepared, 'a', 'y'),
      (e: Error) =>
        e.message.includes("'my_softplus' (Softplus)") &&
        e.message.includes(`supported: ${SUPPORTED_OPS.join(', ')}`),
    );
  });

  test('a differentiable input whose gradient is not implemented fails instead of becoming zero', async () => {
    // Conv whose weights are computed from the image: the weight gradient is not implemented.
    const model = modelProto({
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['a'] },
        { op: 'Reshape', inputs: ['a', 'wshape'], outputs: ['w'] },
        { op: 'Conv', inputs: ['a', 'w'], outputs: ['y'], name: 'dynamic_conv' },
      ],
      inputs: [{ name: 'x', dtype: 'float32', dims: [1, 1, 2, 2] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: { wshape: tensor('int64', [4], [1, 1, 2, 2]) },
    });
    const prepared = await prepareModel(model);
    assert.throws(
      () => buildCircuitModel(prepared, 'a', 'y'),
      /'dynamic_conv' \(Conv\): input 1 .* not implemented/,
    );
  });
});

describe('opset upgrade', () => {
  test('opset 11 Squeeze/Unsqueeze attributes become inputs and the model runs at opset 17', async () => {
    const model = modelProto({
      nodes: [
        { op: 'Unsqueeze', inputs: ['x'], outputs: ['u'], attributes: { axes: [1] } },
        { op: 'Squeeze', inputs: ['u'], outputs: ['y'], attributes: { axes: [1] } },
      ],
      inputs: [{ name: 'x', dtype: 'float32', dims: ['N', 3] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      opset: 11,
    });
    const upgraded = upgradeOpset(model);
    assert.equal(opsetVersion(upgraded), 17);
    const index = new GraphIndex(graphOf(upgraded));
    assert.ok(index.nodes.every((n) => n.input?.length === 2 && (n.attribute ?? []).length === 0));
    const session = await createSession(upgraded, { intraOpNumThreads: 1 });
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [1, 3]) });
    assert.deepEqual(Array.from(out.y!.data as Float32Array), [1, 2, 3]);
    await session.release();
  });

  test('opset 11 Softmax keeps its flattening meaning at opset 17 (default axis 1 on rank 3)', async () => {
    const model = modelProto({
      nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], name: 'old_softmax' }],
      inputs: [{ name: 'x', dtype: 'float32', dims: ['N', 2, 3] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      opset: 11,
    });
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)),
      [2, 2, 3],
    );
    const run = async (m: typeof model) => {
      const session = await createSession(m, { intraOpNumThreads: 1 });
      const out = await session.run({ x });
      await session.release();
      return Array.from(out.y!.data as Float32Array);
    };
    const upgraded = upgradeOpset(model);
    assert.equal(opsetVersion(upgraded), 17);
    const [before, after] = [await run(model), await run(upgraded)];
    // Each row of 6 (2 x 3) sums to one: the opset-11 meaning, not softmax over the last 3.
    assert.ok(Math.abs(before.slice(0, 6).reduce((a, b) => a + b, 0) - 1) < 1e-6);
    for (const [i, v] of after.entries()) {
      assert.ok(Math.abs(v - before[i]!) < 1e-6, `element ${i}: ${v} vs ${before[i]}`);
    }
  });

  test('Upsample and Resize of opsets below 11 fail naming the node', () => {
    const model = modelProto({
      nodes: [
        {
          op: 'Upsample',
          inputs: ['x', 's'],
          outputs: ['y'],
          name: 'old_up',
          attributes: { mode: 'nearest' },
        },
      ],
      inputs: [{ name: 'x', dtype: 'float32', dims: ['N', 1, 2, 2] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: { s: tensor('float32', [4], [1, 1, 2, 2]) },
      opset: 9,
    });
    assert.throws(
      () => upgradeOpset(model),
      /Upsample node 'old_up' of opset 9: re-export the model with opset >= 11/,
    );
  });
});

describe('timeouts', () => {
  test('a run that never finishes rejects with InferenceTimeoutError', async () => {
    const hung = { run: () => new Promise<never>(() => {}) } as unknown as OrtSession;
    await assert.rejects(runWithTimeout(hung, {}, ['y'], 'a hung session', 20), InferenceTimeoutError);
  });
});
