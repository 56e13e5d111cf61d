/**
 * Circuit vectors on the three shared models and real sample images, against float64 central
 * finite differences of the cut sub-graph (reference interpreter): for random directions u over the
 * lower channels, sum_j R_j u_j must equal d/dt [g . F(a + t a (.) u)] at t = 0, with F the cut,
 * a = a_L' and g = ReLU(a_L) on channel c (held fixed), i.e. gradient x activation per channel.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { saveModel } from '../../../core/adapters/models/model-file.js';
import {
  AttributionEngine,
  type CutSpec,
  circuitVectors,
  lowerActivations,
  selectRows,
} from '../../../core/adapters/onnxruntime/attribution.js';
import { createSession, ort } from '../../../core/adapters/onnxruntime/session.js';
import { buildCircuitModel, IMAGE_INPUT } from '../../../core/compute/attribution/circuit.js';
import { graphOf, type ModelProto } from '../../../core/compute/onnx/model.js';
import { type Tensor, tensor } from '../../../core/compute/onnx/tensor.js';
import { bottleneckStage } from '../../support/bottleneck.js';
import { maxAbsDifference } from '../../support/differences.js';
import { evaluate } from '../../support/interpreter/index.js';
import { modelProto, node } from '../../support/onnx-builders.js';
import { sharedModel } from '../../support/paths.js';
import { seededRandom } from '../../support/random.js';
import { loadImages, samplePaths } from './images.js';

const engine = new AttributionEngine({ intraOpNumThreads: 1 });
after(() => engine.release());

function row(t: Tensor, b: number): Tensor {
  const size = t.dims.slice(1).reduce((x, y) => x * y, 1);
  return tensor(
    'float64',
    [1, ...t.dims.slice(1)],
    Float64Array.from(t.data.subarray(b * size, (b + 1) * size) as Float32Array),
  );
}

async function checkAgainstFiniteDifferences(
  cut: CutSpec,
  images: Tensor,
  channels: readonly number[],
  directions: number,
): Promise<void> {
  const prepared = await engine.prepare(cut.model);
  const graph = graphOf(prepared.model);
  const acts = await lowerActivations(engine, cut, images);
  const result = await circuitVectors(
    engine,
    cut,
    { lower: acts.lower, side: acts.side, channels },
    { maps: true },
  );
  const C = result.lowerChannels;
  const maps = result.maps!;
  const space = maps.dims.slice(2).reduce((a, b) => a * b, 1);
  const rand = seededRandom(5);
  for (let b = 0; b < channels.length; b++) {
    // R is the normalised spatial sum of the maps.
    const raw = Array.from({ length: C }, (_, j) => {
      let s = 0;
      for (let p = 0; p < space; p++) s += maps.data[(b * C + j) * space + p] as number;
      return s;
    });
    const norm = raw.reduce((s, v) => s + Math.abs(v), 0) + 1e-10;
    const vector = result.vectors.subarray(b * C, (b + 1) * C);
    const absSum = vector.reduce((s, v) => s + Math.abs(v), 0);
    assert.ok(Math.abs(absSum - 1) < 1e-5, `row ${b}: sum |R| = ${absSum}`);
    raw.forEach((v, j) => {
      assert.ok(
        Math.abs(vector[j]! - v / norm) < 1e-5,
        `row ${b} channel ${j}: R ${vector[j]} vs ${v / norm}`,
      );
    });

    const a = row(acts.lower, b);
    const side = Object.fromEntries(Object.entries(acts.side).map(([name, t]) => [name, row(t, b)]));
    const forward = (x: Tensor) =>
      evaluate(graph, { [cut.lower]: x, ...side }, [cut.upper], { float64: true })[cut.upper]!;
    const upper = forward(a);
    const upperSpace = upper.dims.slice(2).reduce((x, y) => x * y, 1);
    const c = channels[b]!;
    const seed = new Float64Array(upper.data.length);
    for (let p = 0; p < upperSpace; p++)
      seed[c * upperSpace + p] = Math.max(0, upper.data[c * upperSpace + p] as number);
    const objective = (x: Tensor) => {
      const y = forward(x).data as Float64Array;
      let s = 0;
      for (let i = 0; i < y.length; i++) s += seed[i]! * y[i]!;
      return s;
    };
    const h = 1e-6;
    for (let d = 0; d < directions; d++) {
      const u = Array.from({ length: C }, () => rand() * 2 - 1);
      const shifted = (sign: number) =>
        tensor(
          'float64',
          a.dims,
          Float64Array.from(a.data as Float64Array, (v, i) => v * (1 + sign * h * u[Math.floor(i / space)]!)),
        );
      const finite = (objective(shifted(1)) - objective(shifted(-1))) / (2 * h);
      const backward = raw.reduce((s, v, j) => s + v * u[j]!, 0);
      const rel = Math.abs(finite - backward) / Math.max(Math.abs(finite), 1e-8);
      assert.ok(
        rel < 1e-3,
        `row ${b} (channel ${c}) direction ${d}: circuit ${backward} vs differences ${finite} (rel ${rel})`,
      );
    }
  }
}

describe('circuit vectors on the shared models', () => {
  test('ResNet-20 layer1 block -> layer2 block (with the option-A shortcut), two images', async () => {
    const cut = {
      model: sharedModel('resnet20-cifar10.onnx'),
      lower: '/layer1/layer1.2/Relu_1_output_0',
      upper: '/layer2/layer2.2/Relu_1_output_0',
    };
    await checkAgainstFiniteDifferences(
      cut,
      await loadImages(samplePaths('cifar10-test', 2), 32),
      [3, 17],
      3,
    );
  });

  test('ResNet-56 last two stages: layer2.8 -> layer3.8', async () => {
    const cut = {
      model: sharedModel('resnet56-cifar10.onnx'),
      lower: '/layer2/layer2.8/Relu_1_output_0',
      upper: '/layer3/layer3.8/Relu_1_output_0',
    };
    await checkAgainstFiniteDifferences(
      cut,
      await loadImages(samplePaths('cifar10-test', 1, 'ship'), 32),
      [40],
      2,
    );
  });

  test('SqueezeNet 1.1 last two Fire modules', async () => {
    const cut = {
      model: sharedModel('squeezenet1.1-imagenet.onnx'),
      lower: '/fires.6/Concat_output_0',
      upper: '/fires.7/Concat_output_0',
    };
    await checkAgainstFiniteDifferences(
      cut,
      await loadImages(samplePaths('imagenet-samples', 1), 224),
      [300],
      2,
    );
  });

  test('SqueezeNet across a ceil_mode MaxPool: fires.3 -> fires.4', async () => {
    const cut = {
      model: sharedModel('squeezenet1.1-imagenet.onnx'),
      lower: '/fires.3/Concat_output_0',
      upper: '/fires.4/Concat_output_0',
    };
    await checkAgainstFiniteDifferences(
      cut,
      await loadImages(samplePaths('imagenet-samples', 2).slice(1), 224),
      [7],
      2,
    );
  });

  test('a cut inside a block reads the skip connection as a side input', async () => {
    const cut = {
      model: sharedModel('resnet20-cifar10.onnx'),
      lower: '/layer1/layer1.2/Relu_output_0',
      upper: '/layer1/layer1.2/Relu_1_output_0',
    };
    const { circuit } = await engine.circuit(cut.model, cut.lower, cut.upper);
    assert.deepEqual(circuit.cut.sideInputs, ['/layer1/layer1.1/Relu_1_output_0']);
    await checkAgainstFiniteDifferences(
      cut,
      await loadImages(samplePaths('cifar10-test', 1, 'dog'), 32),
      [5],
      2,
    );
  });

  test('a mixed batch of 64 (image, channel) pairs equals 64 single runs', async () => {
    const cut = {
      model: sharedModel('resnet20-cifar10.onnx'),
      lower: '/layer2/layer2.2/Relu_1_output_0',
      upper: '/layer3/layer3.2/Relu_1_output_0',
    };
    const images = await loadImages(samplePaths('cifar10-test', 8, 'horse'), 32);
    const acts = await lowerActivations(engine, cut, images);
    const rand = seededRandom(9);
    const imageOfRow = Array.from({ length: 64 }, () => Math.floor(rand() * 8));
    const channels = Array.from({ length: 64 }, () => Math.floor(rand() * 64));
    const mixed = await circuitVectors(engine, cut, { lower: selectRows(acts.lower, imageOfRow), channels });
    assert.equal(mixed.rows, 64);
    let worst = 0;
    for (let r = 0; r < 64; r++) {
      const single = await circuitVectors(engine, cut, {
        lower: selectRows(acts.lower, [imageOfRow[r]!]),
        channels: [channels[r]!],
      });
      for (let j = 0; j < 32; j++)
        worst = Math.max(worst, Math.abs(single.vectors[j]! - mixed.vectors[r * 32 + j]!));
    }
    assert.ok(worst < 1e-6, `largest difference between batched and single rows: ${worst}`);
    // Different channels of one image give different circuits (the seed really selects the channel).
    const same = await circuitVectors(engine, cut, {
      lower: selectRows(acts.lower, [0, 0]),
      channels: [1, 2],
    });
    const diff = same.vectors.subarray(0, 32).reduce((s, v, j) => s + Math.abs(v - same.vectors[32 + j]!), 0);
    assert.ok(diff > 1e-3, 'two channels of one image gave the same circuit');
    // The same rows with the forward shared per image (`images`): one forward of each of the 8 images.
    const { circuit } = await engine.circuit(cut.model, cut.lower, cut.upper);
    assert.equal(circuit.sharedForward, true);
    const shared = await circuitVectors(engine, cut, { lower: acts.lower, images: imageOfRow, channels });
    const sharedWorst = maxAbsDifference(shared.vectors, mixed.vectors);
    assert.ok(sharedWorst < 1e-6, `shared forward vs one forward per row: max |difference| ${sharedWorst}`);
    const upperWorst = maxAbsDifference(shared.upper.data as Float32Array, mixed.upper.data as Float32Array);
    assert.ok(upperWorst < 1e-6, `a_L of the rows: max |difference| ${upperWorst}`);
  });

  test("shares the forward of a cut with side inputs (a skip from below L'), per row as without", async () => {
    const cut = {
      model: sharedModel('resnet20-cifar10.onnx'),
      lower: '/layer2/layer2.2/Relu_output_0',
      upper: '/layer2/layer2.2/Relu_1_output_0',
    };
    const images = await loadImages(samplePaths('cifar10-test', 3, 'ship'), 32);
    const acts = await lowerActivations(engine, cut, images);
    const { circuit } = await engine.circuit(cut.model, cut.lower, cut.upper);
    assert.ok(circuit.cut.sideInputs.length > 0, "this cut reads a skip connection from below L'");
    assert.equal(circuit.sharedForward, true);
    const imageOfRow = [0, 0, 1, 2, 2, 2, 1, 0];
    const channels = [3, 9, 3, 0, 17, 31, 30, 30];
    const side = Object.fromEntries(
      Object.entries(acts.side).map(([k, t]) => [k, selectRows(t, imageOfRow)]),
    );
    const perRow = await circuitVectors(engine, cut, {
      lower: selectRows(acts.lower, imageOfRow),
      side,
      channels,
    });
    const shared = await circuitVectors(engine, cut, { ...acts, images: imageOfRow, channels });
    const worst = maxAbsDifference(shared.vectors, perRow.vectors);
    assert.ok(worst < 1e-6, `shared forward vs one forward per row: max |difference| ${worst}`);
    assert.ok(perRow.vectors.some((v) => Math.abs(v) > 1e-3));
  });

  test('runs the forward per row when the backward reads a tensor whose rows are not images', async () => {
    // [N, 4, 1, 2] -> [2N, 2, 2] (two "heads" per image) -> y y^T -> back to [N, 4, 1, 2]: MatMul's
    // adjoint reads y, whose first axis follows the batch without being it, so it cannot be gathered.
    // (4 channels of 1 x 2 maps: a rank-3 [N, 4, 2] would be 2 token features, feature-layout.ts.)
    const model = modelProto({
      nodes: [
        node('Relu', ['x'], 'a'),
        node('Reshape', ['a', 'heads'], 'y'),
        node('Transpose', ['y'], 'yt', { perm: [0, 2, 1] }),
        node('MatMul', ['y', 'yt'], 'z'),
        node('Reshape', ['z', 'back'], 'zb'),
        node('Relu', ['zb'], 'out'),
      ],
      inputs: [{ name: 'x', dtype: 'float32', dims: ['N', 4, 1, 2] }],
      outputs: [{ name: 'out', dtype: 'float32' }],
      initializers: { heads: tensor('int64', [3], [-1, 2, 2]), back: tensor('int64', [4], [-1, 4, 1, 2]) },
    });
    const dir = await mkdtemp(join(tmpdir(), 'pure-heads-'));
    after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'heads.onnx');
    await saveModel(model, path);
    const cut = { model: path, lower: 'a', upper: 'out' };
    const { circuit } = await engine.circuit(cut.model, cut.lower, cut.upper);
    assert.equal(circuit.sharedForward, false);
    const rand = seededRandom(4);
    const lower = tensor(
      'float32',
      [3, 4, 1, 2],
      Float32Array.from({ length: 24 }, () => rand()),
    );
    const imageOfRow = [2, 0, 0, 1, 2];
    const channels = [0, 1, 3, 2, 3];
    const perRow = await circuitVectors(engine, cut, { lower: selectRows(lower, imageOfRow), channels });
    const viaImages = await circuitVectors(engine, cut, { lower, images: imageOfRow, channels });
    assert.deepEqual(viaImages.vectors, perRow.vectors);
    // Row 0 by hand: F(a) = y y^T per head, seed g = ReLU(F) on channel 0; R_j = sum (dL/da * a).
    const a = Array.from((lower.data as Float32Array).subarray(16, 24));
    const f = (v: readonly number[]) => {
      const out: number[] = [];
      for (const h of [0, 1]) {
        const y = [v.slice(h * 4, h * 4 + 2), v.slice(h * 4 + 2, h * 4 + 4)];
        for (const i of [0, 1])
          for (const k of [0, 1]) out.push(y[i]![0]! * y[k]![0]! + y[i]![1]! * y[k]![1]!);
      }
      return out; // [4 channels x 2], channel c = out[2c..2c+1]
    };
    const g = f(a).map((v, i) => (Math.floor(i / 2) === 0 ? Math.max(0, v) : 0));
    const dot = (v: readonly number[]) => f(v).reduce((s, x, i) => s + x * g[i]!, 0);
    const grad = a.map((_, j) => {
      const h = 1e-3;
      const up = a.map((v, k) => (k === j ? v + h : v));
      const down = a.map((v, k) => (k === j ? v - h : v));
      return (dot(up) - dot(down)) / (2 * h);
    });
    const raw = [0, 1, 2, 3].map((c) => grad[2 * c]! * a[2 * c]! + grad[2 * c + 1]! * a[2 * c + 1]!);
    const norm = raw.reduce((s, v) => s + Math.abs(v), 0) + 1e-10;
    raw.forEach((v, c) => {
      assert.ok(
        Math.abs(v / norm - perRow.vectors[c]!) < 1e-3,
        `channel ${c}: ${v / norm} vs ${perRow.vectors[c]}`,
      );
    });
  });
});

describe('the one-channel shortcut of 1x1 convolutions (ResNet-50-style bottlenecks)', () => {
  // Unfused BatchNorm after every conv. The seed's one channel survives ReLU, Add and BN down to the
  // last block's expanding 1x1 conv and, in a first block, its strided 1x1 downsample. Earlier blocks'
  // gradients are dense (the skip's sparse gradient meets the residual branch's dense one).
  const rand = seededRandom(12);
  const input = tensor(
    'float32',
    [3, 16, 8, 8],
    Float32Array.from({ length: 3 * 16 * 64 }, () => rand() * 2 - 1),
  );
  // Gathers of weight rows (the shortcut), not the gathers of forward tensors to rows.
  const gathers = (m: ModelProto) =>
    (graphOf(m).node ?? []).filter((n) => n.opType === 'Gather' && n.input?.[1] !== IMAGE_INPUT).length;
  const saved = async (blocks: number): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'pure-bottleneck-'));
    after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, `bottleneck-${blocks}.onnx`);
    await saveModel(
      bottleneckStage({ inChannels: 16, width: 8, size: 8, blocks, batchNorm: true, seed: 3 }),
      path,
    );
    return path;
  };

  test('is taken for the last 1x1 conv and the strided downsample, and matches float64 differences', async () => {
    const cut = { model: await saved(1), lower: 'stage_in', upper: 'block0_out' };
    const { circuit } = await engine.circuit(cut.model, cut.lower, cut.upper);
    assert.equal(gathers(circuit.model), 2);
    await checkAgainstFiniteDifferences(cut, input, [0, 17, 31], 3);
  });

  test('gives the same vectors as the plain adjoint on a mixed batch through two blocks', async () => {
    const prepared = await engine.prepare(await saved(2));
    const lower = tensor(
      'float32',
      input.dims,
      Float32Array.from(input.data as Float32Array, (v) => Math.max(0, v)),
    );
    const vectorsOf = async (oneChannelShortcut: boolean) => {
      const circuit = buildCircuitModel(prepared, 'stage_in', 'block1_out', { oneChannelShortcut });
      assert.equal(gathers(circuit.model), oneChannelShortcut ? 1 : 0);
      const session = await createSession(circuit.model);
      const images = BigInt64Array.from([0, 1, 2, 0, 1, 2, 0, 1].map(BigInt));
      const channels = BigInt64Array.from([0, 5, 9, 31, 12, 30, 7, 5].map(BigInt));
      const out = await session.run({
        [circuit.inputs.lower]: new ort.Tensor('float32', lower.data as Float32Array, [...lower.dims]),
        [circuit.inputs.image]: new ort.Tensor('int64', images, [8]),
        [circuit.inputs.channel]: new ort.Tensor('int64', channels, [8]),
      });
      await session.release();
      return out[circuit.outputs.relevance]!.data as Float32Array;
    };
    const fast = await vectorsOf(true);
    const plain = await vectorsOf(false);
    const worst = maxAbsDifference(fast, plain);
    assert.ok(worst < 1e-6, `shortcut vs plain adjoint: max |difference| ${worst}`);
    assert.ok(
      plain.some((v) => Math.abs(v) > 1e-3),
      'the vectors are not all zero',
    );
  });
});
