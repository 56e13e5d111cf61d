/**
 * The backward rules composed the way exporters emit them: activations and normalisations that
 * arrive as several ops (SiLU as Sigmoid x Mul, GELU through Erf, LayerNorm as ReduceMean/Sub/Pow/
 * Sqrt/Div before opset 17), an attention block (MatMul, Reshape, Transpose, Softmax, LayerNormalization,
 * the class-token Gather), a MobileNetV3 squeeze-excite gate (HardSigmoid, HardSwish) and an upsampling
 * decoder (Resize, reflect Pad). Each graph's ORT-run backward graph is checked against float64
 * central finite differences (gradcheck.ts), as the single-op rows of rules.test.ts are.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Tensor, tensor } from '../../../core/compute/onnx/tensor.js';
import { modelProto, type NodeSpec, node } from '../../support/onnx-builders.js';
import { seededRandom } from '../../support/random.js';
import { gradCheck, sampleAwayFromZero } from './gradcheck.js';

const BATCH = 2;
const scalar = (v: number) => tensor('float32', [], [v]);
const i64 = (values: number[]) => tensor('int64', [values.length], values);
function weights(seed: number, dims: number[], scale = 1): Tensor {
  const rand = seededRandom(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  return tensor(
    'float32',
    dims,
    Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale),
  );
}

interface Case {
  readonly label: string;
  readonly dims: readonly (number | 'N')[];
  readonly nodes: NodeSpec[];
  readonly consts?: Record<string, Tensor>;
}

/** [N, 4, 6] -> [N, 2 heads, 4 tokens, 3] with the given permutation after the split. */
const heads = (from: string, to: string, perm: number[]): NodeSpec[] => [
  node('Reshape', [from, 'split_heads'], `${to}_r`),
  node('Transpose', [`${to}_r`], to, { perm }),
];

const CASES: readonly Case[] = [
  {
    label: 'SiLU as Sigmoid x Mul',
    dims: ['N', 3, 4, 4],
    nodes: [node('Sigmoid', ['x'], 's'), node('Mul', ['x', 's'], 'y')],
  },
  {
    label: 'GELU (erf form): x * 0.5 * (1 + erf(x / sqrt 2))',
    dims: ['N', 3, 4, 4],
    nodes: [
      node('Div', ['x', 'sqrt2'], 'a'),
      node('Erf', ['a'], 'b'),
      node('Add', ['b', 'one'], 'c'),
      node('Mul', ['x', 'c'], 'd'),
      node('Mul', ['d', 'half'], 'y'),
    ],
    consts: { sqrt2: scalar(Math.SQRT2), one: scalar(1), half: scalar(0.5) },
  },
  {
    label: 'LayerNorm decomposed (exports before opset 17)',
    dims: ['N', 4, 6],
    nodes: [
      node('ReduceMean', ['x'], 'm', { axes: [-1] }),
      node('Sub', ['x', 'm'], 'd'),
      node('Pow', ['d', 'two'], 'p'),
      node('ReduceMean', ['p'], 'v', { axes: [-1] }),
      node('Add', ['v', 'eps'], 've'),
      node('Sqrt', ['ve'], 'sd'),
      node('Div', ['d', 'sd'], 'n'),
      node('Mul', ['n', 'g'], 'ng'),
      node('Add', ['ng', 'b'], 'y'),
    ],
    consts: { two: scalar(2), eps: scalar(1e-5), g: weights(1, [6]), b: weights(2, [6]) },
  },
  {
    label: 'attention block: heads, softmax, residual, LayerNormalization, class token',
    dims: ['N', 4, 6],
    nodes: [
      node('MatMul', ['x', 'wq'], 'q'),
      node('MatMul', ['x', 'wk'], 'k'),
      node('MatMul', ['x', 'wv'], 'v'),
      ...heads('q', 'qh', [0, 2, 1, 3]),
      ...heads('k', 'kt', [0, 2, 3, 1]),
      ...heads('v', 'vh', [0, 2, 1, 3]),
      node('MatMul', ['qh', 'kt'], 'scores'),
      node('Div', ['scores', 'sqrt3'], 'scaled'),
      node('Softmax', ['scaled'], 'attn', { axis: -1 }),
      node('MatMul', ['attn', 'vh'], 'o'),
      node('Transpose', ['o'], 'ot', { perm: [0, 2, 1, 3] }),
      node('Reshape', ['ot', 'merge_heads'], 'merged'),
      node('Add', ['x', 'merged'], 'res'),
      node('LayerNormalization', ['res', 'g', 'b'], 'ln', { axis: -1 }),
      node('Gather', ['ln', 'zero'], 'cls', { axis: 1 }),
      node('MatMul', ['cls', 'wo'], 'y'),
    ],
    consts: {
      wq: weights(3, [6, 6]),
      wk: weights(4, [6, 6]),
      wv: weights(5, [6, 6]),
      wo: weights(6, [6, 3]),
      split_heads: i64([0, 4, 2, 3]),
      merge_heads: i64([0, 4, 6]),
      sqrt3: scalar(Math.sqrt(3)),
      g: weights(7, [6]),
      b: weights(8, [6]),
      zero: tensor('int64', [], [0]),
    },
  },
  {
    label: 'MobileNetV3 squeeze-excite: HardSwish, pooled HardSigmoid gate',
    dims: ['N', 3, 4, 4],
    nodes: [
      node('HardSwish', ['x'], 'h'),
      node('GlobalAveragePool', ['h'], 'pooled'),
      node('Conv', ['pooled', 'w', 'wb'], 'z'),
      node('HardSigmoid', ['z'], 'gate', { alpha: 1 / 6, beta: 0.5 }),
      node('Mul', ['h', 'gate'], 'y'),
    ],
    consts: { w: weights(9, [3, 3, 1, 1], 3), wb: weights(10, [3]) },
  },
  {
    label: 'upsampling decoder: Conv, bilinear Resize x2, reflect Pad, Conv',
    dims: ['N', 2, 4, 4],
    nodes: [
      node('Conv', ['x', 'w1'], 'c1', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
      { op: 'Resize', inputs: ['c1', '', 'scales'], outputs: ['up'], attributes: { mode: 'linear' } },
      node('Pad', ['up', 'pads'], 'padded', { mode: 'reflect' }),
      node('Conv', ['padded', 'w2'], 'y', { kernel_shape: [3, 3] }),
    ],
    consts: {
      w1: weights(11, [3, 2, 3, 3]),
      w2: weights(12, [2, 3, 3, 3]),
      scales: tensor('float32', [4], [1, 1, 2, 2]),
      pads: i64([0, 0, 1, 1, 0, 0, 1, 1]),
    },
  },
];

describe('backward of decomposed and composed exports', () => {
  CASES.forEach((c, i) => {
    test(c.label, async () => {
      const model = modelProto({
        nodes: c.nodes,
        inputs: [{ name: 'x', dtype: 'float32', dims: [...c.dims] }],
        outputs: [{ name: 'y', dtype: 'float32' }],
        ...(c.consts ? { initializers: c.consts } : {}),
        opset: 17,
      });
      const dims = c.dims.map((d) => (d === 'N' ? BATCH : d));
      const n = dims.reduce((a, b) => a * b, 1);
      const x = tensor('float32', dims, sampleAwayFromZero(seededRandom(200 + i), n));
      const result = await gradCheck(model, {
        wrt: ['x'],
        outputs: ['y'],
        feeds: { x },
        seed: 300 + i,
        batch: BATCH,
      });
      for (const r of result.rows) {
        assert.ok(
          r.relativeError < 1e-3,
          `backward ${r.backward} vs finite differences ${r.finite} (relative error ${r.relativeError})`,
        );
      }
    });
  });
});
