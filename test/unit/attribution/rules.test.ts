/**
 * The test table mirrors the rule table: every op in BACKWARD_RULES has at least one row, each row
 * a small model whose ORT-run backward graph is checked against float64 central finite differences
 * (reference interpreter) along random directions, with inputs sampled away from kinks.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKWARD_RULES } from '../../../core/compute/attribution/rules.js';
import { type Tensor, tensor } from '../../../core/compute/onnx/tensor.js';
import { type AttrValue, modelProto, type NodeSpec } from '../../support/onnx-builders.js';
import { seededRandom } from '../../support/random.js';
import { gradCheck, sampleAwayFromZero } from './gradcheck.js';

/** Float inputs are sampled away from 0: signed in ±[0.2, 1.5], positive in [0.5, 1.8], wide in ±[0.6, 4.5]. */
type Sampler = 'signed' | 'positive' | 'wide';

interface Row {
  readonly op: string;
  readonly label: string;
  /** Float graph inputs, each differentiated. */
  readonly inputs: readonly { name: string; dims: readonly (number | 'N')[]; sample?: Sampler }[];
  /** int64 graph inputs (run-time indices), fed these values at the test's batch size. */
  readonly indexInputs?: readonly { name: string; dims: readonly (number | 'N')[]; values: number[] }[];
  /** Nodes before the op under test: run-time shape arithmetic, conditions. */
  readonly before?: readonly NodeSpec[];
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

/** Resize of an [N, 2, h, w] input by constant scales (roi and sizes omitted). */
const resize = (
  label: string,
  scales: number[],
  attributes: Record<string, AttrValue>,
  hw: [number, number] = [3, 4],
) =>
  ({
    op: 'Resize',
    label,
    inputs: [x4(2, hw[0], hw[1])],
    nodeInputs: ['x', '', 'sc'],
    consts: { sc: f32([scales.length], scales) },
    attributes,
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
  {
    op: 'ReduceMean',
    label: 'every axis, the batch included (run-time count), keepdims 0',
    inputs: [x4(2, 3, 4)],
    nodeInputs: ['x'],
    attributes: { keepdims: 0 },
  },
  { op: 'ReduceSum', label: 'default: every axis, keepdims 1', inputs: [x4(2, 3, 3)], nodeInputs: ['x'] },
  {
    op: 'ReduceSum',
    label: 'no axes with noop_with_empty_axes: the identity',
    inputs: [x4(2, 3, 3)],
    nodeInputs: ['x'],
    attributes: { noop_with_empty_axes: 1 },
  },
  {
    op: 'MatMul',
    label: 'attention scores: 4-D batched, both operands differentiable',
    inputs: [
      { name: 'q', dims: ['N', 2, 3, 4] },
      { name: 'k', dims: ['N', 2, 4, 3] },
    ],
    nodeInputs: ['q', 'k'],
  },
  {
    op: 'MatMul',
    label: 'broadcast on both sides',
    inputs: [
      { name: 'a', dims: ['N', 1, 3, 4] },
      { name: 'b', dims: [1, 2, 4, 5] },
    ],
    nodeInputs: ['a', 'b'],
  },
  {
    op: 'Transpose',
    label: 'attention heads [0, 2, 1, 3]',
    inputs: [{ name: 'x', dims: ['N', 3, 2, 4] }],
    nodeInputs: ['x'],
    attributes: { perm: [0, 2, 1, 3] },
  },
  {
    op: 'Squeeze',
    label: 'two axes, one negative',
    inputs: [{ name: 'x', dims: ['N', 1, 3, 1] }],
    nodeInputs: ['x', 'axes'],
    consts: { axes: i64([-1, 1]) },
  },
  {
    op: 'Split',
    label: 'opset 18 num_outputs, uneven',
    inputs: [{ name: 'x', dims: ['N', 7, 2] }],
    nodeInputs: ['x'],
    attributes: { axis: 1, num_outputs: 3 },
    outputs: ['y0', 'y1', 'y2'],
    opset: 18,
  },
  // ---- element-wise functions of transformers and mobile CNNs ----
  { op: 'Erf', label: 'erf (GELU)', inputs: [x4(3, 4, 4)], nodeInputs: ['x'] },
  { op: 'Sqrt', label: 'sqrt', inputs: [x4(3, 4, 4, 'positive')], nodeInputs: ['x'] },
  { op: 'Reciprocal', label: 'reciprocal', inputs: [x4(3, 4, 4)], nodeInputs: ['x'] },
  { op: 'Exp', label: 'exp', inputs: [x4(3, 4, 4)], nodeInputs: ['x'] },
  { op: 'Log', label: 'log', inputs: [x4(3, 4, 4, 'positive')], nodeInputs: ['x'] },
  { op: 'Neg', label: 'neg', inputs: [x4(3, 4, 4)], nodeInputs: ['x'] },
  {
    op: 'Pow',
    label: 'positive base, broadcast exponent, both differentiable',
    inputs: [x4(3, 4, 4, 'positive'), { name: 'b', dims: [1, 3, 1, 1] }],
    nodeInputs: ['x', 'b'],
  },
  {
    op: 'Pow',
    label: 'square of a signed base (decomposed LayerNorm)',
    inputs: [x4(3, 4, 4)],
    nodeInputs: ['x', 'two'],
    consts: { two: tensor('float32', [], [2]) },
  },
  {
    op: 'HardSigmoid',
    label: 'default alpha 0.2 beta 0.5, both saturated sides',
    inputs: [x4(3, 4, 4, 'wide')],
    nodeInputs: ['x'],
  },
  {
    op: 'HardSigmoid',
    label: 'PyTorch: alpha 1/6',
    inputs: [x4(3, 4, 4, 'wide')],
    nodeInputs: ['x'],
    attributes: { alpha: 1 / 6, beta: 0.5 },
  },
  { op: 'Gelu', label: 'exact (opset 20)', inputs: [x4(3, 4, 4, 'wide')], nodeInputs: ['x'], opset: 20 },
  {
    op: 'Gelu',
    label: 'tanh approximation (opset 20)',
    inputs: [x4(3, 4, 4, 'wide')],
    nodeInputs: ['x'],
    attributes: { approximate: 'tanh' },
    opset: 20,
  },
  {
    op: 'HardSwish',
    label: 'both saturated sides and the ramp',
    inputs: [x4(3, 4, 4, 'wide')],
    nodeInputs: ['x'],
  },
  {
    op: 'Where',
    label: 'condition computed from the input, broadcast value',
    inputs: [x4(3, 4, 5), { name: 'b', dims: [1, 3, 1, 5] }],
    before: [{ op: 'Greater', inputs: ['x', 'zero'], outputs: ['c'] }],
    nodeInputs: ['c', 'x', 'b'],
    consts: { zero: tensor('float32', [], [0]) },
  },
  {
    op: 'Where',
    label: 'constant per-channel condition, scalar-broadcast value',
    inputs: [x4(3, 2, 2), { name: 'b', dims: [1] }],
    nodeInputs: ['c', 'b', 'x'],
    consts: { c: tensor('bool', [1, 3, 1, 1], [1, 0, 1]) },
  },
  // ---- shape and index ops ----
  {
    op: 'Expand',
    label: 'per-channel values to a map',
    inputs: [{ name: 'x', dims: ['N', 3, 1, 1] }],
    nodeInputs: ['x', 'shape'],
    consts: { shape: i64([1, 3, 4, 5]) },
  },
  {
    op: 'Expand',
    label: 'rank grows to a run-time shape',
    inputs: [{ name: 'b', dims: [4, 1] }, x4(2, 4, 3)],
    before: [{ op: 'Shape', inputs: ['x'], outputs: ['shape'] }],
    nodeInputs: ['b', 'shape'],
  },
  {
    op: 'Gather',
    label: 'constant indices, repeated and negative, axis 1',
    inputs: [x4(4, 3, 3)],
    nodeInputs: ['x', 'idx'],
    consts: { idx: i64([2, 0, 2, -1, 2]) },
    attributes: { axis: 1 },
  },
  {
    op: 'Gather',
    label: 'run-time 2-D indices with repeats, axis -1',
    inputs: [x4(3, 2, 5)],
    indexInputs: [{ name: 'idx', dims: [2, 3], values: [4, 0, 4, 1, -1, 4] }],
    nodeInputs: ['x', 'idx'],
    attributes: { axis: -1 },
  },
  {
    op: 'Gather',
    label: 'scalar index: the class token x[:, 0]',
    inputs: [{ name: 'x', dims: ['N', 5, 6] }],
    nodeInputs: ['x', 'idx'],
    consts: { idx: tensor('int64', [], [0]) },
    attributes: { axis: 1 },
  },
  {
    op: 'Gather',
    label: 'the batch axis, run-time indices with a repeat',
    inputs: [x4(2, 3, 3)],
    indexInputs: [{ name: 'idx', dims: [3], values: [1, 0, 1] }],
    nodeInputs: ['x', 'idx'],
  },
  {
    op: 'GatherElements',
    label: 'run-time indices with repeats, axis 1',
    inputs: [{ name: 'x', dims: ['N', 4, 3] }],
    indexInputs: [
      {
        name: 'idx',
        dims: ['N', 5, 3],
        values: [
          0, 3, 3, 3, -1, 2, 1, 1, 1, 0, 0, 0, 2, -4, 3, 3, 2, 1, 0, 0, 0, 1, 2, 3, -1, -2, -3, 2, 2, 2,
        ],
      },
    ],
    nodeInputs: ['x', 'idx'],
    attributes: { axis: 1 },
  },
  {
    op: 'GatherElements',
    label: 'constant indices, last axis',
    inputs: [{ name: 'x', dims: ['N', 3, 4] }],
    nodeInputs: ['x', 'idx'],
    consts: { idx: tensor('int64', [1, 3, 2], [0, 3, 3, 1, -1, 3]) },
    attributes: { axis: -1 },
  },
  {
    op: 'Slice',
    label: 'run-time starts (Shape arithmetic), step 2',
    inputs: [x4(3, 6, 7)],
    before: [
      { op: 'Shape', inputs: ['x'], outputs: ['hw'], attributes: { start: 2 } },
      { op: 'Sub', inputs: ['hw', 'four_six'], outputs: ['s'] },
    ],
    nodeInputs: ['x', 's', 'e', 'a', 'st'],
    consts: { four_six: i64([4, 6]), e: i64([2 ** 53, 6]), a: i64([2, 3]), st: i64([1, 2]) },
  },
  {
    op: 'Slice',
    label: 'every parameter computed, int32, negative step, no axes, batch whole',
    inputs: [x4(2, 5, 6)],
    before: ['s', 'e', 'st'].map((name) => ({
      op: 'Cast',
      inputs: [`${name}64`],
      outputs: [name],
      attributes: { to: 6 },
    })),
    nodeInputs: ['x', 's', 'e', '', 'st'],
    consts: {
      s64: i64([0, 1, -1, 0]),
      e64: i64([2 ** 31 - 1, 2, -6, 5]),
      st64: i64([1, 1, -2, 2]),
    },
  },
  {
    op: 'Pad',
    label: 'reflect on H and W',
    inputs: [x4(2, 4, 5)],
    nodeInputs: ['x', 'p'],
    consts: { p: i64([0, 0, 2, 1, 0, 0, 1, 3]) },
    attributes: { mode: 'reflect' },
  },
  {
    op: 'Pad',
    label: 'edge, pads wider than the input',
    inputs: [x4(2, 2, 3)],
    nodeInputs: ['x', 'p'],
    consts: { p: i64([0, 0, 3, 0, 0, 0, 1, 4]) },
    attributes: { mode: 'edge' },
  },
  {
    op: 'Pad',
    label: 'wrap (opset 19) with an axes input',
    inputs: [x4(2, 3, 4)],
    nodeInputs: ['x', 'p', '', 'ax'],
    consts: { p: i64([1, 2, 2, 1]), ax: i64([2, 3]) },
    attributes: { mode: 'wrap' },
    opset: 19,
  },
  // ---- transformer blocks ----
  {
    op: 'Softmax',
    label: 'default last axis (attention scores)',
    inputs: [{ name: 'x', dims: ['N', 2, 3, 5] }],
    nodeInputs: ['x'],
  },
  {
    op: 'Softmax',
    label: 'axis 1 (channels)',
    inputs: [x4(3, 4, 4)],
    nodeInputs: ['x'],
    attributes: { axis: 1 },
  },
  {
    op: 'LayerNormalization',
    label: 'last axis (tokens x features), scale and bias differentiable',
    inputs: [
      { name: 'x', dims: ['N', 4, 6] },
      { name: 's', dims: [6] },
      { name: 'b', dims: [6] },
    ],
    nodeInputs: ['x', 's', 'b'],
    attributes: { epsilon: 1e-3 },
  },
  {
    op: 'LayerNormalization',
    label: 'axis 1, constant scale, Mean and InvStdDev outputs seeded',
    inputs: [x4(2, 3, 3)],
    nodeInputs: ['x', 's'],
    consts: { s: randomWeights(21, [2, 3, 3]) },
    attributes: { axis: 1 },
    outputs: ['y', 'mean', 'inv'],
  },
  // ---- upsampling ----
  resize('nearest x2, asymmetric floor (PyTorch nearest)', [1, 1, 2, 2], {
    mode: 'nearest',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  }),
  resize('linear x2, half_pixel (PyTorch bilinear)', [1, 1, 2, 2], { mode: 'linear' }),
  resize('nearest down, half_pixel, round_prefer_floor', [1, 1, 0.5, 0.6], {}, [6, 7]),
  resize('cubic x2 (PyTorch bicubic)', [1, 1, 2, 2], { mode: 'cubic' }),
  {
    op: 'Resize',
    label: 'linear to run-time sizes (Shape(x)[:2] ++ [7, 9]), align_corners',
    inputs: [x4(2, 4, 3)],
    before: [
      { op: 'Shape', inputs: ['x'], outputs: ['nc'], attributes: { end: 2 } },
      { op: 'Concat', inputs: ['nc', 'hw'], outputs: ['sizes'], attributes: { axis: 0 } },
    ],
    nodeInputs: ['x', '', '', 'sizes'],
    consts: { hw: i64([7, 9]) },
    attributes: { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
  },
  {
    op: 'Resize',
    label: 'opset 18 axes, non-integer scale',
    inputs: [x4(2, 3, 3)],
    nodeInputs: ['x', '', 'sc'],
    consts: { sc: f32([2], [2, 1.5]) },
    attributes: { mode: 'linear', axes: [2, 3] },
    opset: 18,
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
          ...(row.before ?? []),
          {
            op: row.op,
            inputs: [...row.nodeInputs],
            outputs: [...outputs],
            ...(row.attributes ? { attributes: row.attributes } : {}),
          },
        ],
        inputs: [
          ...row.inputs.map((input) => ({
            name: input.name,
            dtype: 'float32' as const,
            dims: [...input.dims],
          })),
          ...(row.indexInputs ?? []).map((input) => ({
            name: input.name,
            dtype: 'int64' as const,
            dims: [...input.dims],
          })),
        ],
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
        if (input.sample === 'wide') for (let k = 0; k < n; k++) values[k] = values[k]! * 3;
        feeds[input.name] = tensor('float32', dims, values);
      }
      for (const input of row.indexInputs ?? []) {
        feeds[input.name] = tensor(
          'int64',
          input.dims.map((d) => (d === 'N' ? BATCH : d)),
          input.values,
        );
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
