/**
 * Heatmaps: gradient x input against float64 finite differences of the real model; LRP relevance
 * conservation on bias-free networks for epsilon -> 0 (and for the authors' EpsilonPlusFlat); z+
 * maps non-negative for non-negative inputs; the composite runs on SqueezeNet.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AttributionEngine, heatmaps } from '../../../core/adapters/onnxruntime/attribution.js';
import { prepareModel } from '../../../core/adapters/onnxruntime/prepare.js';
import { createSession, ort } from '../../../core/adapters/onnxruntime/session.js';
import { CHANNEL_INPUT } from '../../../core/compute/attribution/circuit.js';
import {
  buildHeatmapModel,
  HEAT_OUTPUT,
  SEED_TOTAL_OUTPUT,
} from '../../../core/compute/attribution/heatmap.js';
import { compositeEntries } from '../../../core/compute/attribution/lrp.js';
import {
  graphOf,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../../../core/compute/onnx/model.js';
import { type Tensor, tensor, tensorFromProto, tensorToProto } from '../../../core/compute/onnx/tensor.js';
import { bottleneckStage } from '../../support/bottleneck.js';
import { maxAbsDifference } from '../../support/differences.js';
import { evaluate } from '../../support/interpreter/index.js';
import { modelProto, type NodeSpec } from '../../support/onnx-builders.js';
import { sharedModel } from '../../support/paths.js';
import { seededRandom } from '../../support/random.js';
import { loadImages, samplePaths } from './images.js';

const engine = new AttributionEngine({ intraOpNumThreads: 1 });
after(() => engine.release());

function weights(rand: () => number, dims: number[], scale = 1): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return tensor(
    'float32',
    dims,
    Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale),
  );
}

/** conv-relu-conv-relu, a residual Add, a max pool, an average pool, a conv: the ops LRP meets in CNNs. */
function smallCnn(withBias: boolean): ModelProto {
  const rand = seededRandom(21);
  const bias = (name: string, c: number) => (withBias ? { [name]: weights(rand, [c], 0.3) } : {});
  const conv = (x: string, w: string, b: string, y: string, pads = 1): NodeSpec => ({
    op: 'Conv',
    inputs: withBias ? [x, w, b] : [x, w],
    outputs: [y],
    attributes: { kernel_shape: [3, 3], pads: [pads, pads, pads, pads] },
  });
  return modelProto({
    nodes: [
      conv('input', 'w1', 'b1', 'c1'),
      { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      conv('r1', 'w2', 'b2', 'c2'),
      { op: 'Relu', inputs: ['c2'], outputs: ['r2'] },
      { op: 'Add', inputs: ['r2', 'r1'], outputs: ['s'] },
      { op: 'Relu', inputs: ['s'], outputs: ['block'] },
      {
        op: 'MaxPool',
        inputs: ['block'],
        outputs: ['p'],
        attributes: { kernel_shape: [2, 2], strides: [2, 2] },
      },
      {
        op: 'AveragePool',
        inputs: ['p'],
        outputs: ['q'],
        attributes: { kernel_shape: [2, 2], strides: [1, 1] },
      },
      conv('q', 'w3', 'b3', 'c3', 0),
      { op: 'Relu', inputs: ['c3'], outputs: ['top'] },
    ],
    inputs: [{ name: 'input', dtype: 'float32', dims: ['N', 3, 12, 12] }],
    outputs: [{ name: 'top', dtype: 'float32' }],
    initializers: {
      w1: weights(rand, [6, 3, 3, 3]),
      w2: weights(rand, [6, 6, 3, 3], 0.5),
      w3: weights(rand, [5, 6, 3, 3], 0.5),
      ...bias('b1', 6),
      ...bias('b2', 6),
      ...bias('b3', 5),
    },
  });
}

async function runHeatmap(
  model: ModelProto,
  layer: string,
  images: Tensor,
  channels: number[],
  composite: 'gradient' | 'epsilon' | 'zplus' | 'epsilon-plus-flat',
  epsilon = 1e-6,
) {
  const prepared = await prepareModel(model);
  const built = buildHeatmapModel(prepared, layer, { composite, region: 'map', epsilon });
  const session = await createSession(built.model, { intraOpNumThreads: 1 });
  const result = await session.run({
    [built.inputName]: new ort.Tensor('float32', images.data as Float32Array, [...images.dims]),
    [CHANNEL_INPUT]: new ort.Tensor('int64', BigInt64Array.from(channels.map(BigInt)), [channels.length]),
  });
  await session.release();
  return {
    heat: result[HEAT_OUTPUT]!.data as Float32Array,
    total: result[SEED_TOTAL_OUTPUT]!.data as Float32Array,
  };
}

function randomImages(seed: number, batch: number, nonNegative: boolean): Tensor {
  const rand = seededRandom(seed);
  const n = batch * 3 * 12 * 12;
  return tensor(
    'float32',
    [batch, 3, 12, 12],
    Float32Array.from({ length: n }, () => (nonNegative ? rand() : rand() * 2 - 1)),
  );
}

function rowSums(heat: Float32Array, rows: number): number[] {
  const size = heat.length / rows;
  return Array.from({ length: rows }, (_, b) =>
    heat.subarray(b * size, (b + 1) * size).reduce((s, v) => s + v, 0),
  );
}

describe('heatmaps', () => {
  test('gradient x input on ResNet-20 matches float64 finite differences (whole map and arg-max)', async () => {
    const model = sharedModel('resnet20-cifar10.onnx');
    const layer = '/layer2/layer2.2/Relu_1_output_0';
    const images = await loadImages(samplePaths('cifar10-test', 1, 'truck'), 32);
    const prepared = await engine.prepare(model);
    const graph = graphOf(prepared.model);
    const x = Float64Array.from(images.data as Float32Array);
    const forward = (data: Float64Array) =>
      evaluate(graph, { input: tensor('float64', images.dims, data) }, [layer], { float64: true })[layer]!
        .data as Float64Array;
    const upper = forward(x);
    const c = 11;
    const space = 16 * 16;
    for (const region of ['map', 'argmax'] as const) {
      const { heat, initialRelevance } = await heatmaps(
        engine,
        { model, layer },
        { images, channels: [c] },
        {
          composite: 'gradient',
          region,
        },
      );
      const seed = new Float64Array(upper.length);
      let best = c * space;
      for (let p = c * space; p < (c + 1) * space; p++) if (upper[p]! > upper[best]!) best = p;
      for (let p = c * space; p < (c + 1) * space; p++) {
        if (region === 'map' || p === best) seed[p] = Math.max(0, upper[p]!);
      }
      assert.ok(Math.abs(initialRelevance[0]! - seed.reduce((s, v) => s + v, 0)) < 1e-3);
      const rand = seededRandom(region === 'map' ? 1 : 2);
      const u = Float64Array.from(x, () => rand() * 2 - 1);
      const objective = (t: number) => {
        const y = forward(Float64Array.from(x, (v, i) => v + t * v * u[i]!));
        return y.reduce((s, v, i) => s + v * seed[i]!, 0);
      };
      const h = 1e-6;
      const finite = (objective(h) - objective(-h)) / (2 * h);
      const backward = (heat.data as Float32Array).reduce((s, v, i) => s + v * u[i]!, 0);
      const rel = Math.abs(finite - backward) / Math.abs(finite);
      assert.ok(rel < 1e-3, `${region}: heat ${backward} vs differences ${finite} (rel ${rel})`);
    }
  });

  for (const composite of ['epsilon', 'epsilon-plus-flat'] as const) {
    test(`${composite}: relevance is conserved on a bias-free CNN (epsilon -> 0)`, async () => {
      const images = randomImages(4, 3, false);
      const { heat, total } = await runHeatmap(smallCnn(false), 'top', images, [0, 2, 4], composite, 1e-9);
      rowSums(heat, 3).forEach((sum, b) => {
        assert.ok(total[b]! > 0, `row ${b}: the neuron is dead; pick another`);
        const rel = Math.abs(sum - total[b]!) / total[b]!;
        assert.ok(rel < 1e-4, `row ${b}: input relevance ${sum} vs initial ${total[b]} (rel ${rel})`);
      });
    });
  }

  test('gradient x input is not conservative where LRP is (a check that can fail)', async () => {
    const images = randomImages(4, 3, false);
    const { heat, total } = await runHeatmap(smallCnn(true), 'top', images, [0, 2, 4], 'gradient');
    const gaps = rowSums(heat, 3).map((sum, b) => Math.abs(sum - total[b]!) / total[b]!);
    assert.ok(
      Math.max(...gaps) > 1e-3,
      'with biases, gradient x input should not sum to the neuron relevance',
    );
  });

  test('z+ maps are non-negative for non-negative inputs (with biases)', async () => {
    const images = randomImages(5, 3, true);
    const { heat } = await runHeatmap(smallCnn(true), 'top', images, [1, 3, 4], 'zplus');
    const min = heat.reduce((m, v) => Math.min(m, v), Number.POSITIVE_INFINITY);
    const max = heat.reduce((m, v) => Math.max(m, v), 0);
    assert.ok(min >= -1e-7 * max, `negative relevance ${min}`);
    assert.ok(max > 0);
  });

  test('EpsilonPlusFlat on SqueezeNet: flat on the first conv, z+ elsewhere, a finite map', async () => {
    const model = sharedModel('squeezenet1.1-imagenet.onnx');
    const images = await loadImages(samplePaths('imagenet-samples', 1), 224);
    const { heat, initialRelevance } = await heatmaps(
      engine,
      { model, layer: '/fires.7/Concat_output_0' },
      { images, channels: [100] },
      { composite: 'epsilon-plus-flat', region: 'argmax' },
    );
    assert.deepEqual(heat.dims, [1, 3, 224, 224]);
    const data = heat.data as Float32Array;
    assert.ok(data.every(Number.isFinite));
    assert.ok(initialRelevance[0]! > 0);
    // Flat on the first layer spreads relevance over whole receptive fields: no negative values
    // arise from z+ above it on a ReLU network.
    assert.ok(data.some((v) => v > 0));
    assert.ok(data.every((v) => v >= -1e-6));
  });

  test("LRP merges unfused BatchNorm into the conv before it (the authors' canonizer)", async () => {
    const withBn = bottleneckStage({ inChannels: 8, width: 4, size: 8, blocks: 2, batchNorm: true, seed: 4 });
    // The same network with each BN folded here, by hand, in float64: what LRP must see.
    const graph = graphOf(withBn);
    const init = new Map((graph.initializer ?? []).map((t) => [t.name!, tensorFromProto(t)]));
    const folded: NodeProto[] = [];
    const extra: TensorProto[] = [];
    for (const node of graph.node ?? []) {
      if (node.opType !== 'BatchNormalization') {
        folded.push(node);
        continue;
      }
      const conv = folded.pop()!;
      assert.equal(conv.output?.[0], node.input?.[0]);
      const [w, gamma, beta, mean, variance] = [conv.input![1]!, ...node.input!.slice(1)].map(
        (n) => init.get(n)!,
      );
      const m = w!.dims[0]!;
      const per = w!.data.length / m;
      const scale = Array.from(
        { length: m },
        (_, o) => Number(gamma!.data[o]) / Math.sqrt(Number(variance!.data[o]) + 1e-5),
      );
      const name = node.output![0]!;
      extra.push(
        tensorToProto(
          `${name}_W`,
          tensor(
            'float32',
            w!.dims,
            Float32Array.from(w!.data as Float32Array, (v, i) => v * scale[Math.floor(i / per)]!),
          ),
        ),
        tensorToProto(
          `${name}_B`,
          tensor(
            'float32',
            [m],
            Float32Array.from(scale, (s, o) => -Number(mean!.data[o]) * s + Number(beta!.data[o])),
          ),
        ),
      );
      folded.push({ ...conv, input: [conv.input![0]!, `${name}_W`, `${name}_B`], output: [name] });
    }
    const byHand = {
      ...withBn,
      graph: { ...graph, node: folded, initializer: [...(graph.initializer ?? []), ...extra] },
    };

    const rand = seededRandom(8);
    const images = tensor(
      'float32',
      [3, 8, 8, 8],
      Float32Array.from({ length: 3 * 512 }, () => rand() * 2 - 1),
    );
    const channels = [1, 6, 13];
    const prepared = await prepareModel(withBn);
    const built = buildHeatmapModel(prepared, 'block1_out', {
      composite: 'epsilon-plus-flat',
      region: 'map',
    });
    assert.equal(
      (graphOf(built.model).node ?? []).filter((n) => n.opType === 'BatchNormalization').length,
      0,
    );
    const merged = await runHeatmap(withBn, 'block1_out', images, channels, 'epsilon-plus-flat');
    const expected = await runHeatmap(
      byHand as ModelProto,
      'block1_out',
      images,
      channels,
      'epsilon-plus-flat',
    );
    const scale = expected.heat.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const worst = maxAbsDifference(merged.heat, expected.heat);
    assert.ok(scale > 0 && worst / scale < 1e-4, `merged vs folded by hand: ${worst} of ${scale}`);
    // Gradients are unchanged by the merge, so the gradient composite keeps the graph as it is.
    const gradient = buildHeatmapModel(prepared, 'block1_out', { composite: 'gradient', region: 'map' });
    assert.equal(
      (graphOf(gradient.model).node ?? []).filter((n) => n.opType === 'BatchNormalization').length,
      7,
    );
  });

  test('LRP passes relevance through a BatchNorm with no conv before it (zennit: BatchNorm -> Pass)', async () => {
    // DenseNet's order, BN -> ReLU -> conv: nothing to merge. A bias-free BN (mean 0, beta 0) is a
    // per-channel scale, so with bias-free convs relevance is conserved only if the BN passes it
    // unchanged; the gradient rule would scale it by gamma / sqrt(var + eps) (here 0.5 .. 2).
    const rand = seededRandom(31);
    const conv = (x: string, w: string, y: string): NodeSpec => ({
      op: 'Conv',
      inputs: [x, w],
      outputs: [y],
      attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
    });
    const model = modelProto({
      nodes: [
        conv('input', 'w1', 'c1'),
        { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
        { op: 'Concat', inputs: ['r1', 'input'], outputs: ['cat'], attributes: { axis: 1 } },
        {
          op: 'BatchNormalization',
          inputs: ['cat', 'gamma', 'beta', 'mean', 'variance'],
          outputs: ['bn'],
        },
        { op: 'Relu', inputs: ['bn'], outputs: ['r2'] },
        conv('r2', 'w2', 'c2'),
        { op: 'Relu', inputs: ['c2'], outputs: ['top'] },
      ],
      inputs: [{ name: 'input', dtype: 'float32', dims: ['N', 3, 12, 12] }],
      outputs: [{ name: 'top', dtype: 'float32' }],
      initializers: {
        w1: weights(rand, [6, 3, 3, 3]),
        w2: weights(rand, [5, 9, 3, 3], 0.5),
        gamma: tensor(
          'float32',
          [9],
          Float32Array.from({ length: 9 }, () => 0.5 + 1.5 * rand()),
        ),
        beta: tensor('float32', [9], new Float32Array(9)),
        mean: tensor('float32', [9], new Float32Array(9)),
        variance: tensor(
          'float32',
          [9],
          Float32Array.from({ length: 9 }, () => 0.5 + rand()),
        ),
      },
    });
    const images = randomImages(6, 3, false);
    const { heat, total } = await runHeatmap(model, 'top', images, [0, 2, 4], 'epsilon', 1e-9);
    rowSums(heat, 3).forEach((sum, b) => {
      assert.ok(total[b]! > 0, `row ${b}: the neuron is dead; pick another`);
      const rel = Math.abs(sum - total[b]!) / total[b]!;
      assert.ok(rel < 1e-4, `row ${b}: input relevance ${sum} vs initial ${total[b]} (rel ${rel})`);
    });
  });

  test('composite validation: epsilon must be positive', () => {
    assert.throws(() => compositeEntries('epsilon', { epsilon: 0 }), /epsilon must be a positive number/);
  });
});
