/**
 * The test table mirrors the rule table: every op in BACKWARD_RULES has at least one row, each row
 * a small model whose ORT-run backward graph is checked against float64 central finite differences
 * (reference interpreter) along random directions, with inputs sampled away from kinks.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKWARD_RULES } from '../../../core/compute/attribution/rules.js';
import { type Tensor, tensor } from '../../../core/compute/onnx/tensor.js';
import { type AttrValue, modelProto } from '../../support/onnx-builders.js';
import { seededRandom } from '../../support/random.js';
import { gradCheck, sampleAwayFromZero } from './gradcheck.js';

type Sampler = 'signed' | 'positive';

interface Row {
  readonly op: string;
  readonly label: string;
  readonly inputs: readonly { name: string; dims: readonly (number | 'N')[]; sample?: Sampler }[];
  readonly nodeInputs: readonly string[];
  readonly consts?: Record<string, Tensor>;
  readonly attributes?: Record<string, AttrValue>;
  readonly outputs?: readonly string[];
  readonly opset?: number;
}

const BATCH = 2;
const f32 = (dims: number[], values: number[]) => tensor('float32', dims, values);
const i64 = (values: number[]) => tensor('int64', [values.length], values);
const randomWeights = (seed: number, dims: number[]) => {
  const rand = seededRandom(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  return tensor(
    'float32',
    dims,
    Float32Array.from({ length: n }, () => rand() * 2 - 1),
  );
};
const x4 = (c: number, h: number, w: number, sample?: Sampler) => ({
  name: 'x',
  dims: ['N', c, h, w] as const,
  ...(sample ? { sample } : {}),
});

const conv = (
  label: string,
  c: number,
  m: number,
  hw: [number, number],
  k: number[],
  attributes: Record<string, AttrValue>,
) =>
  ({
    op: 'Conv',
    label,
    inputs: [x4(c, hw[0], hw[1])],
    nodeInputs: ['x', 'w', 'b'],
    consts: {
      w: randomWeights(11, [m, c / ((attributes.group as number | undefined) ?? 1), ...k]),
      b: randomWeights(12, [m]),
    },
    attributes: { kernel_shape: k, ...attributes },
  }) satisfies Row;

const ROWS: readonly Row[] = [
  { op: 'Identity', label: 'identity', inputs: [x4(2, 3, 3)], nodeInputs: ['x'] },
  {
    op: 'Dropout',
    label: 'inference dropout with a ratio',
    inputs: [x4(2, 3, 3)],
    nodeInputs: ['x', 'ratio'],
    consts: { ratio: tensor('float32', [], [0.3]) },
  },
  { op: 'Relu', label: 'relu', inputs: [x4(3, 4, 4)], nodeInputs: ['x'] },
  {
    op: 'LeakyRelu',
    label: 'alpha 0.2',
    inputs: [x4(3, 4, 4)],
    nodeInputs: ['x'],
    attributes: { alpha: 0.2 },
  },
  {
    op: 'Clip',
    label: 'min and max',
    inputs: [x4(3, 4, 4)],
    nodeInputs: ['x', 'lo', 'hi'],
    consts: { lo: tensor('float32', [], [-0.5]), hi: tensor('float32', [], [0.7]) },
  },
  {
    op: 'Clip',
    label: 'max only',
    inputs: [x4(3, 4, 4)],
    nodeInputs: ['x', '', 'hi'],
    consts: { hi: tensor('float32', [], [0.7]) },
  },
  { op: 'Sigmoid', label: 'sigmoid', inputs: [x4(3, 4, 4)], nodeInputs: ['x'] },
  { op: 'Tanh', label: 'tanh', inputs: [x4(3, 4, 4)], nodeInputs: ['x'] },
  {
    op: 'Add',
    label: 'per-channel broadcast, both differentiable',
    inputs: [x4(3, 4, 5), { name: 'b', dims: [1, 3, 1, 1] }],
    nodeInputs: ['x', 'b'],
  },
  {
    op: 'Add',
    label: 'rank broadcast',
    inputs: [
      { name: 'a', dims: ['N', 3, 4] },
      { name: 'b', dims: [4] },
    ],
    nodeInputs: ['a', 'b'],
  },
  { op: 'Add', label: 'fan-out: x + x', inputs: [x4(2, 3, 3)], nodeInputs: ['x', 'x'] },
  {
    op: 'Sub',
    label: 'broadcast',
    inputs: [x4(3, 4, 5), { name: 'b', dims: [3, 1, 5] }],
    nodeInputs: ['x', 'b'],
  },
  {
    op: 'Mul',
    label: 'broadcast',
    inputs: [x4(3, 4, 5), { name: 'b', dims: [1, 3, 4, 1] }],
    nodeInputs: ['x', 'b'],
  },
  {
    op: 'Div',
    label: 'broadcast divisor',
    inputs: [x4(3, 4, 5), { name: 'b', dims: [1, 3, 1, 5], sample: 'positive' }],
    nodeInputs: ['x', 'b'],
  },
  {
    op: 'BatchNormalization',
    label: 'inference',
    inputs: [x4(3, 4, 4)],
    nodeInputs: ['x', 'scale', 'bias', 'mean', 'var'],
    consts: {
      scale: f32([3], [0.5, -1.2, 2]),
      bias: f32([3], [0.1, 0.2, -0.3]),
      mean: f32([3], [0.3, -0.1, 0.2]),
      var: f32([3], [0.8, 1.5, 0.2]),
    },
    attributes: { epsilon: 1e-3 },
  },
  conv('3x3 pads 1', 3, 4, [6, 6], [3, 3], { pads: [1, 1, 1, 1] }),
  conv('stride 2 pads 1 (output_padding)', 3, 4, [8, 8], [3, 3], { pads: [1, 1, 1, 1], strides: [2, 2] }),
  conv('stride 3, trailing rows dropped', 2, 3, [8, 7], [2, 2], { strides: [3, 3] }),
  conv('auto_pad SAME_UPPER stride 2, odd size', 2, 3, [7, 7], [3, 3], {
    auto_pad: 'SAME_UPPER',
    strides: [2, 2],
  }),
  conv('auto_pad SAME_LOWER, even kernel', 2, 3, [6, 6], [2, 2], { auto_pad: 'SAME_LOWER' }),
  conv('auto_pad VALID', 2, 3, [6, 5], [3, 3], { auto_pad: 'VALID' }),
  conv('dilations 2, asymmetric pads', 2, 3, [9, 9], [3, 3], { dilations: [2, 2], pads: [2, 1, 0, 2] }),
  conv('groups 2', 4, 6, [6, 6], [3, 3], { group: 2, pads: [1, 1, 1, 1] }),
  conv('depthwise stride 2', 4, 4, [7, 7], [3, 3], { group: 4, pads: [1, 1, 1, 1], strides: [2, 2] }),
  conv('1x1 rectangular input', 5, 3, [4, 6], [1, 1], {}),
  {
    op: 'Gemm',
    label: 'transB, alpha, beta, all inputs differentiable',
    inputs: [
      { name: 'a', dims: ['N', 4] },
      { name: 'b', dims: [3, 4] },
      { name: 'c', dims: [3] },
    ],
    nodeInputs: ['a', 'b', 'c'],
    attributes: { transB: 1, alpha: 0.7, beta: 1.3 },
  },
  {
    op: 'Gemm',
    label: 'transA',
    inputs: [
      { name: 'a', dims: [4, 2] },
      { name: 'b', dims: [4, 3] },
      { name: 'c', dims: [2, 1] },
    ],
    nodeInputs: ['a', 'b', 'c'],
    attributes: { transA: 1 },
  },
  {
    op: 'Gemm',
    label: 'transA and transB',
    inputs: [
      { name: 'a', dims: [4, 2] },
      { name: 'b', dims: [3, 4] },
    ],
    nodeInputs: ['a', 'b'],
    attributes: { transA: 1, transB: 1, alpha: 2 },
  },
  {
    op: 'MatMul',
    label: 'batched x shared matrix',
    inputs: [
      { name: 'a', dims: ['N', 3, 4] },
      { name: 'b', dims: [4, 5] },
    ],
    nodeInputs: ['a', 'b'],
  },
  {
    op: 'MatMul',
    label: 'batch broadcast on the left operand',
    inputs: [
      { name: 'a', dims: [1, 3, 4] },
      { name: 'b', dims: ['N', 4, 2] },
    ],
    nodeInputs: ['a', 'b'],
  },
  {
    op: 'Concat',
    label: 'channels, three inputs',
    inputs: [x4(2, 3, 3), { name: 'y2', dims: ['N', 3, 3, 3] }, { name: 'y3', dims: ['N', 1, 3, 3] }],
    nodeInputs: ['x', 'y2', 'y3'],
    attributes: { axis: 1 },
  },
  {
    op: 'Concat',
    label: 'negative axis',
    inputs: [x4(2, 3, 3), { name: 'y2', dims: ['N', 2, 3, 2] }],
    nodeInputs: ['x', 'y2'],
    attributes: { axis: -1 },
  },
  {
    op: 'Split',
    label: 'explicit sizes, all outputs seeded',
    inputs: [x4(5, 3, 3)],
    nodeInputs: ['x', 'sizes'],
    consts: { sizes: i64([2, 3]) },
    attributes: { axis: 1 },
    outputs: ['y0', 'y1'],
  },
  {
    op: 'Split',
    label: 'equal parts, one output unused',
    inputs: [x4(2, 3, 4)],
    nodeInputs: ['x'],
    attributes: { axis: -1 },
    outputs: ['y0'],
  },
  {
    op: 'Slice',
    label: 'option-A shortcut: steps 2 on H and W',
    inputs: [x4(3, 6, 6)],
    nodeInputs: ['x', 's', 'e', 'a', 'st'],
    consts: { s: i64([0, 0]), e: i64([2 ** 53, 2 ** 53]), a: i64([2, 3]), st: i64([2, 2]) },
  },
  {
    op: 'Slice',
    label: 'negative starts, contiguous, batch axis whole',
    inputs: [x4(4, 5, 5)],
    nodeInputs: ['x', 's', 'e', 'a'],
    consts: { s: i64([0, 1, -4]), e: i64([2 ** 53, 3, -1]), a: i64([0, 1, 3]) },
  },
  {
    op: 'Slice',
    label: 'negative step',
    inputs: [x4(2, 6, 3)],
    nodeInputs: ['x', 's', 'e', 'a', 'st'],
    consts: { s: i64([-1]), e: i64([0]), a: i64([2]), st: i64([-2]) },
  },
  {
    op: 'Pad',
    label: 'constant pads',
    inputs: [x4(2, 3, 4)],
    nodeInputs: ['x', 'p'],
    consts: { p: i64([0, 1, 2, 0, 0, 0, 1, 3]) },
  },
  {
    op: 'Pad',
    label: 'crops (negative pads) and pads mixed, with a value',
    inputs: [x4(2, 5, 5)],
    nodeInputs: ['x', 'p', 'v'],
    consts: { p: i64([0, 0, -1, 2, 0, 0, 1, -2]), v: tensor('float32', [], [0.5]) },
  },
  {
    op: 'Reshape',
    label: 'batch-generic target shape',
    inputs: [x4(2, 3, 4)],
    nodeInputs: ['x', 'shape'],
    consts: { shape: i64([0, -1, 2]) },
  },
  { op: 'Flatten', label: 'axis 1', inputs: [x4(2, 3, 4)], nodeInputs: ['x'], attributes: { axis: 1 } },
  {
    op: 'Squeeze',
    label: 'axes input',
    inputs: [x4(3, 1, 4)],
    nodeInputs: ['x', 'axes'],
    consts: { axes: i64([2]) },
  },
  {
    op: 'Unsqueeze',
    label: 'axes input',
    inputs: [x4(3, 2, 4)],
    nodeInputs: ['x', 'axes'],
    consts: { axes: i64([1, -1]) },
  },
  {
    op: 'Transpose',
    label: 'perm',
    inputs: [x4(2, 3, 4)],
    nodeInputs: ['x'],
    attributes: { perm: [0, 2, 3, 1] },
  },
  { op: 'Transpose', label: 'default reverse', inputs: [{ name: 'x', dims: [2, 3, 4] }], nodeInputs: ['x'] },
  {
    op: 'MaxPool',
    label: 'SqueezeNet: 3x3 stride 2 ceil_mode, overlapping windows',
    inputs: [x4(2, 8, 8)],
    nodeInputs: ['x'],
    attributes: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 },
  },
  {
    op: 'MaxPool',
    label: '2x2 stride 1 with pads',
    inputs: [x4(2, 5, 5)],
    nodeInputs: ['x'],
    attributes: { kernel_shape: [2, 2], pads: [1, 1, 0, 0] },
  },
  {
    op: 'AveragePool',
    label: '3x3 pads 1, count_include_pad 0',
    inputs: [x4(2, 5, 5)],
    nodeInputs: ['x'],
    attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
  },
  {
    op: 'AveragePool',
    label: '3x3 stride 2 pads 1, count_include_pad 1',
    inputs: [x4(2, 6, 6)],
    nodeInputs: ['x'],
    attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], count_include_pad: 1 },
  },
  {
    op: 'AveragePool',
    label: '2x2 stride 2 ceil_mode on odd size',
    inputs: [x4(2, 5, 5)],
    nodeInputs: ['x'],
    attributes: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 },
  },
  { op: 'GlobalAveragePool', label: 'global', inputs: [x4(3, 4, 5)], nodeInputs: ['x'] },
  {
    op: 'ReduceMean',
    label: 'SqueezeNet head: axes [2, 3], keepdims 0',
    inputs: [x4(3, 4, 5)],
    nodeInputs: ['x'],
    attributes: { axes: [2, 3], keepdims: 0 },
  },
  {
    op: 'ReduceMean',
    label: 'keepdims 1 on one axis',
    inputs: [x4(3, 4, 5)],
    nodeInputs: ['x'],
    attributes: { axes: [-1] },
  },
  {
    op: 'ReduceMean',
    label: 'opset 18: axes as an input',
    inputs: [x4(3, 4, 5)],
    nodeInputs: ['x', 'axes'],
    consts: { axes: i64([1, 3]) },
    attributes: { keepdims: 0 },
    opset: 18,
  },
  {
    op: 'ReduceSum',
    label: 'axes input, keepdims 0',
    inputs: [x4(3, 4, 5)],
    nodeInputs: ['x', 'axes'],
    consts: { axes: i64([1]) },
    attributes: { keepdims: 0 },
  },
];

describe('backward rule table', () => {
  test('every rule has a test row, and every row tests a rule', () => {
    const tested = new Set(ROWS.map((r) => r.op));
    const missing = Object.keys(BACKWARD_RULES).filter((op) => !tested.has(op));
    assert.deepEqual(missing, [], `ops without a test row: ${missing.join(', ')}`);
    const extra = [...tested].filter((op) => !(op in BACKWARD_RULES));
    assert.deepEqual(extra, []);
  });

  ROWS.forEach((row, i) => {
    test(`${row.op}: ${row.label}`, async () => {
      const rand = seededRandom(100 + i);
      const outputs = row.outputs ?? ['y'];
      const model = modelProto({
        nodes: [
          {
            op: row.op,
            inputs: [...row.nodeInputs],
            outputs: [...outputs],
            ...(row.attributes ? { attributes: row.attributes } : {}),
          },
        ],
        inputs: row.inputs.map((input) => ({ name: input.name, dtype: 'float32', dims: [...input.dims] })),
        outputs: outputs.map((name) => ({ name, dtype: 'float32' })),
        ...(row.consts ? { initializers: row.consts } : {}),
        opset: row.opset ?? 17,
      });
      const feeds: Record<string, Tensor> = {};
      for (const input of row.inputs) {
        const dims = input.dims.map((d) => (d === 'N' ? BATCH : d));
        const n = dims.reduce((a, b) => a * b, 1);
        const values = sampleAwayFromZero(rand, n);
        if (input.sample === 'positive') for (let k = 0; k < n; k++) values[k] = Math.abs(values[k]!) + 0.3;
        feeds[input.name] = tensor('float32', dims, values);
      }
      const result = await gradCheck(model, {
        wrt: row.inputs.map((input) => input.name),
        outputs,
        feeds,
        seed: 1000 + i,
        batch: BATCH,
      });
      for (const r of result.rows) {
        assert.ok(
          r.relativeError < 1e-3,
          `d/d${r.name}: backward ${r.backward} vs finite differences ${r.finite} (relative error ${r.relativeError})`,
        );
      }
    });
  });
});
