/**
 * Every op of the interpreter against onnxruntime (CPU): one-node models with random inputs, run in
 * both and compared (floats within 1e-5 of the reference's scale, everything else exact), in float32
 * and float64 mode. The row table mirrors the op table: an op without rows fails.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numel, type Tensor, tensor } from '../../../core/compute/onnx/tensor.js';
import { evaluateNode, supportedOps } from '../../support/interpreter/index.js';
import { type AttrValue, nodeProto, singleNodeModel } from '../../support/onnx-builders.js';
import { assertClose, randomFloats, rng, runOrt } from './helpers.js';

interface Row {
  readonly label: string;
  /** Node inputs in order; undefined is an omitted optional input (''). */
  readonly inputs: readonly (Tensor | undefined)[];
  readonly attributes?: Record<string, AttrValue>;
  /** Number of node outputs (default 1). */
  readonly outputs?: number;
  readonly opset?: number;
}

const rand = rng(20240601);
const f = (dims: number[], lo = -1, hi = 1): Tensor => randomFloats(rand, dims, lo, hi);
/** Small integer-valued floats, so comparisons see ties. */
const fi = (dims: number[], lo = -2, hi = 2): Tensor =>
  tensor(
    'float32',
    dims,
    Array.from({ length: numel(dims) }, () => lo + Math.floor(rand() * (hi - lo + 1))),
  );
const i64 = (dims: number[], values: number[]): Tensor => tensor('int64', dims, values);
const i32 = (dims: number[], values: number[]): Tensor => tensor('int32', dims, values);
const bool = (dims: number[], values: number[]): Tensor => tensor('bool', dims, values);
const big = (v: bigint): Tensor => tensor('int64', [1], new BigInt64Array([v]));

function unaryRows(lo = -3, hi = 3): Row[] {
  return [{ label: 'float', inputs: [f([2, 3, 5], lo, hi)] }];
}

const rows: Record<string, Row[]> = {
  // ---- element-wise unary ----
  Relu: [...unaryRows(), { label: 'int32', inputs: [i32([5], [-3, -1, 0, 2, 7])] }],
  LeakyRelu: [
    { label: 'alpha 0.2', inputs: [f([3, 4])], attributes: { alpha: 0.2 } },
    { label: 'default', inputs: [f([6])] },
  ],
  Sigmoid: unaryRows(-8, 8),
  Tanh: unaryRows(-4, 4),
  Exp: unaryRows(-5, 5),
  Log: unaryRows(0.01, 10),
  Sqrt: unaryRows(0, 10),
  Abs: [...unaryRows(), { label: 'int64', inputs: [i64([4], [-5, 0, 3, -1])] }],
  Neg: [...unaryRows(), { label: 'int64', inputs: [i64([3], [-5, 0, 3])] }],
  Sign: [
    { label: 'float with zeros', inputs: [tensor('float32', [5], [-2.5, 0, 3, -0.1, 0])] },
    { label: 'int32', inputs: [i32([3], [-4, 0, 9])] },
  ],
  Reciprocal: unaryRows(0.5, 4),
  Floor: unaryRows(),
  Ceil: unaryRows(),
  Erf: unaryRows(-4, 4),
  HardSigmoid: [
    { label: 'default alpha, beta', inputs: [f([2, 3, 5], -4, 4)] },
    { label: 'PyTorch: alpha 1/6', inputs: [f([2, 3, 5], -5, 5)], attributes: { alpha: 1 / 6, beta: 0.5 } },
  ],
  HardSwish: unaryRows(-5, 5),
  Gelu: [
    { label: 'exact (opset 20)', inputs: [f([2, 3, 5], -4, 4)], opset: 20 },
    {
      label: 'tanh approximation',
      inputs: [f([2, 3, 5], -4, 4)],
      attributes: { approximate: 'tanh' },
      opset: 20,
    },
  ],
  // ---- element-wise binary, with numpy broadcasting ----
  Add: [
    { label: 'broadcast', inputs: [f([2, 3, 4]), f([3, 1])] },
    { label: 'scalar', inputs: [f([2, 3]), f([])] },
    { label: 'int64', inputs: [i64([2, 2], [1, -2, 3, 4]), i64([2], [10, 20])] },
  ],
  Sub: [
    { label: 'same shape', inputs: [f([3, 4]), f([3, 4])] },
    { label: 'broadcast both', inputs: [f([3, 1, 2]), f([1, 4, 1])] },
  ],
  Mul: [
    { label: 'broadcast', inputs: [f([2, 1, 4]), f([3, 1])] },
    { label: 'int32', inputs: [i32([3], [2, -3, 4]), i32([1], [5])] },
  ],
  Div: [
    { label: 'broadcast', inputs: [f([2, 3]), f([3], 0.5, 2)] },
    { label: 'int32 truncates', inputs: [i32([4], [7, -7, 9, -9]), i32([4], [2, 2, -4, -4])] },
    { label: 'int64 truncates', inputs: [i64([3], [7, -7, 5]), i64([1], [2])] },
  ],
  Pow: [
    { label: 'float exponent', inputs: [f([2, 3], 0.1, 3), f([3], -2, 2)] },
    { label: 'int64 exponent', inputs: [f([4], -2, 2), i64([1], [3])] },
  ],
  Max: [
    { label: 'three inputs', inputs: [f([2, 3]), f([3]), f([2, 1])] },
    { label: 'one input', inputs: [f([4])] },
  ],
  Min: [{ label: 'three inputs', inputs: [f([2, 3]), f([1, 3]), f([2, 1])] }],
  Greater: [{ label: 'ties', inputs: [fi([3, 4]), fi([4])] }],
  Less: [{ label: 'ties', inputs: [fi([3, 4]), fi([3, 1])] }],
  GreaterOrEqual: [{ label: 'ties', inputs: [fi([3, 4]), fi([4])] }],
  LessOrEqual: [{ label: 'ties', inputs: [fi([3, 4]), fi([4])] }],
  Equal: [
    { label: 'float ties', inputs: [fi([3, 4]), fi([4])] },
    { label: 'int64', inputs: [i64([4], [1, 2, 3, 4]), i64([4], [1, 0, 3, 5])] },
  ],
  And: [{ label: 'broadcast', inputs: [bool([2, 3], [1, 0, 1, 1, 0, 0]), bool([3], [1, 1, 0])] }],
  Or: [{ label: 'broadcast', inputs: [bool([2, 3], [1, 0, 1, 1, 0, 0]), bool([3], [1, 0, 0])] }],
  Xor: [{ label: 'broadcast', inputs: [bool([2, 3], [1, 0, 1, 1, 0, 0]), bool([3], [1, 0, 0])] }],
  Not: [{ label: 'bool', inputs: [bool([4], [1, 0, 0, 1])] }],
  Where: [
    { label: 'broadcast', inputs: [bool([3, 1], [1, 0, 1]), f([3, 4]), f([4])] },
    { label: 'int64', inputs: [bool([3], [0, 1, 1]), i64([3], [1, 2, 3]), i64([1], [-1])] },
  ],
  Clip: [
    { label: 'min and max', inputs: [f([3, 4], -2, 2), f([], -0.5, -0.4), f([], 0.5, 0.6)] },
    { label: 'max only', inputs: [f([5], -2, 2), undefined, f([], 0.1, 0.2)] },
    { label: 'no bounds', inputs: [f([5])] },
    { label: 'int64', inputs: [i64([4], [-5, 0, 3, 9]), i64([], [-1]), i64([], [4])] },
  ],
  Cast: [
    { label: 'float to int64', inputs: [f([6], -5, 5)], attributes: { to: 7 } },
    { label: 'float to int32', inputs: [f([6], -5, 5)], attributes: { to: 6 } },
    { label: 'float to bool', inputs: [tensor('float32', [4], [0, -0.5, 2, 0])], attributes: { to: 9 } },
    { label: 'float to uint8', inputs: [f([5], 0, 200)], attributes: { to: 2 } },
    { label: 'float to int8', inputs: [f([5], -100, 100)], attributes: { to: 3 } },
    { label: 'float to double', inputs: [f([3])], attributes: { to: 11 } },
    { label: 'int64 to float', inputs: [i64([3], [-3, 0, 12345])], attributes: { to: 1 } },
    { label: 'bool to float', inputs: [bool([3], [1, 0, 1])], attributes: { to: 1 } },
    { label: 'int64 to int32', inputs: [i64([2], [-7, 8])], attributes: { to: 6 } },
  ],
  BatchNormalization: [
    {
      label: 'inference',
      inputs: [f([2, 3, 4, 4]), f([3]), f([3]), f([3]), f([3], 0.1, 2)],
      attributes: { epsilon: 1e-3 },
    },
  ],
  Softmax: [
    { label: 'last axis', inputs: [f([2, 3, 5], -5, 5)] },
    { label: 'axis 1', inputs: [f([2, 3, 5], -5, 5)], attributes: { axis: 1 } },
  ],
  LayerNormalization: [
    {
      label: 'last axis, scale and bias',
      inputs: [f([2, 3, 5]), f([5]), f([5])],
      attributes: { epsilon: 1e-3 },
    },
    {
      label: 'axis 1, no bias, mean and inverse std outputs',
      inputs: [f([2, 3, 2, 2]), f([3, 2, 2])],
      attributes: { axis: 1 },
      outputs: 3,
    },
  ],
  // ---- resize ----
  Resize: [
    {
      label: 'nearest x2, asymmetric floor (PyTorch nearest)',
      inputs: [f([1, 2, 3, 4]), undefined, tensor('float32', [4], [1, 1, 2, 2])],
      attributes: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
    },
    {
      label: 'nearest down, half_pixel, round_prefer_floor',
      inputs: [f([1, 2, 6, 7]), undefined, tensor('float32', [4], [1, 1, 0.5, 0.6])],
    },
    {
      label: 'nearest up, round_prefer_ceil and ceil',
      inputs: [f([1, 1, 3, 3]), undefined, undefined, i64([4], [1, 1, 7, 5])],
      attributes: {
        nearest_mode: 'round_prefer_ceil',
        coordinate_transformation_mode: 'tf_half_pixel_for_nn',
      },
    },
    {
      label: 'linear x2, half_pixel (PyTorch bilinear)',
      inputs: [f([2, 2, 3, 4]), undefined, tensor('float32', [4], [1, 1, 2, 2])],
      attributes: { mode: 'linear' },
    },
    {
      label: 'linear to sizes, align_corners',
      inputs: [f([1, 2, 4, 3]), undefined, undefined, i64([4], [1, 2, 7, 8])],
      attributes: { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
    },
    {
      label: 'linear down to sizes, pytorch_half_pixel, one row out',
      inputs: [f([1, 2, 5, 6]), undefined, undefined, i64([4], [1, 2, 1, 4])],
      attributes: { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' },
    },
    {
      label: 'cubic x2, half_pixel',
      inputs: [f([1, 2, 4, 5]), undefined, tensor('float32', [4], [1, 1, 2, 2])],
      attributes: { mode: 'cubic' },
    },
    {
      label: 'cubic, exclude_outside, align_corners, a=-0.5',
      inputs: [f([1, 1, 4, 4]), undefined, undefined, i64([4], [1, 1, 6, 3])],
      attributes: {
        mode: 'cubic',
        exclude_outside: 1,
        cubic_coeff_a: -0.5,
        coordinate_transformation_mode: 'align_corners',
      },
    },
    {
      label: 'opset 18 axes',
      inputs: [f([1, 2, 3, 3]), undefined, tensor('float32', [2], [2, 1.5])],
      attributes: { mode: 'linear', axes: [2, 3] },
      opset: 18,
    },
  ],
  // ---- conv ----
  Conv: [
    {
      label: '3x3 pads 1, bias',
      inputs: [f([2, 4, 7, 6]), f([5, 4, 3, 3]), f([5])],
      attributes: { pads: [1, 1, 1, 1] },
    },
    {
      label: 'strides 2, dilations 2, asymmetric pads',
      inputs: [f([1, 3, 9, 8]), f([4, 3, 3, 2])],
      attributes: { strides: [2, 2], dilations: [2, 2], pads: [0, 1, 2, 1] },
    },
    { label: 'group 2', inputs: [f([1, 4, 6, 6]), f([6, 2, 3, 3]), f([6])], attributes: { group: 2 } },
    {
      label: 'depthwise',
      inputs: [f([1, 4, 5, 5]), f([4, 1, 3, 3])],
      attributes: { group: 4, pads: [1, 1, 1, 1] },
    },
    {
      label: 'SAME_UPPER odd pad',
      inputs: [f([1, 2, 7, 7]), f([3, 2, 4, 4])],
      attributes: { auto_pad: 'SAME_UPPER', strides: [2, 2] },
    },
    {
      label: 'SAME_LOWER odd pad',
      inputs: [f([1, 2, 7, 7]), f([3, 2, 4, 4])],
      attributes: { auto_pad: 'SAME_LOWER', strides: [2, 2] },
    },
    { label: 'VALID', inputs: [f([1, 2, 6, 5]), f([3, 2, 3, 2])], attributes: { auto_pad: 'VALID' } },
    {
      label: '1-D',
      inputs: [f([2, 3, 10]), f([2, 3, 3]), f([2])],
      attributes: { strides: [2], pads: [1, 1] },
    },
  ],
  ConvTranspose: [
    {
      label: 'stride 2, pads, output_padding, bias',
      inputs: [f([1, 3, 4, 5]), f([3, 2, 3, 3]), f([2])],
      attributes: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] },
    },
    {
      label: 'group 2, dilations 2',
      inputs: [f([2, 4, 3, 3]), f([4, 3, 3, 3])],
      attributes: { group: 2, dilations: [2, 2] },
    },
    {
      label: 'output_shape',
      inputs: [f([1, 2, 4, 5]), f([2, 3, 3, 3])],
      attributes: { strides: [2, 2], output_shape: [9, 10] },
    },
    {
      label: 'output_shape odd total padding',
      inputs: [f([1, 2, 4, 4]), f([2, 1, 4, 4])],
      attributes: { strides: [2, 2], output_shape: [8, 9] },
    },
    {
      label: 'asymmetric pads',
      inputs: [f([1, 2, 3, 4]), f([2, 2, 3, 2])],
      attributes: { pads: [0, 1, 2, 0], strides: [1, 2] },
    },
    { label: '1-D', inputs: [f([1, 2, 5]), f([2, 3, 3])], attributes: { strides: [3], pads: [1, 0] } },
    {
      label: 'SAME_UPPER',
      inputs: [f([1, 2, 3, 4]), f([2, 2, 4, 3])],
      attributes: { strides: [2, 2], auto_pad: 'SAME_UPPER' },
    },
    {
      label: 'SAME_LOWER',
      inputs: [f([1, 2, 3, 4]), f([2, 2, 4, 3])],
      attributes: { strides: [2, 2], auto_pad: 'SAME_LOWER' },
    },
  ],
  // ---- linear algebra ----
  Gemm: [
    { label: 'C row broadcast', inputs: [f([3, 4]), f([4, 5]), f([5])] },
    {
      label: 'transA transB alpha beta',
      inputs: [f([4, 3]), f([5, 4]), f([3, 5])],
      attributes: { transA: 1, transB: 1, alpha: 0.5, beta: 2 },
    },
    { label: 'no C', inputs: [f([2, 3]), f([3, 4])] },
    { label: 'C column broadcast', inputs: [f([2, 3]), f([3, 4]), f([2, 1])], attributes: { beta: 1 } },
  ],
  MatMul: [
    { label: '2-D', inputs: [f([3, 4]), f([4, 5])] },
    { label: 'batched x 2-D', inputs: [f([2, 3, 4, 5]), f([5, 6])] },
    { label: 'broadcast batch', inputs: [f([2, 1, 3, 4]), f([3, 4, 2])] },
    { label: '1-D x 2-D', inputs: [f([4]), f([2, 4, 3])] },
    { label: '2-D x 1-D', inputs: [f([3, 4]), f([4])] },
  ],
  // ---- pooling ----
  MaxPool: [
    {
      label: '3x3 s2 pads 1',
      inputs: [f([2, 3, 8, 7])],
      attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
    },
    {
      label: 'ceil_mode',
      inputs: [f([1, 2, 8, 8])],
      attributes: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 },
    },
    {
      label: 'ceil_mode with pads',
      inputs: [f([1, 2, 7, 7])],
      attributes: { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 },
    },
    {
      label: 'dilations',
      inputs: [f([1, 2, 9, 9])],
      attributes: { kernel_shape: [2, 3], dilations: [2, 2] },
    },
    {
      label: 'with Indices',
      inputs: [f([2, 3, 6, 5])],
      attributes: { kernel_shape: [2, 2], strides: [2, 1], pads: [0, 1, 1, 0] },
      outputs: 2,
    },
    {
      label: 'Indices, storage_order 1',
      inputs: [f([2, 2, 5, 6])],
      attributes: { kernel_shape: [3, 2], strides: [2, 2], storage_order: 1 },
      outputs: 2,
    },
    {
      label: 'SAME_UPPER',
      inputs: [f([1, 2, 7, 6])],
      attributes: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' },
    },
    { label: '1-D', inputs: [f([1, 3, 11])], attributes: { kernel_shape: [3], strides: [2], pads: [1, 1] } },
    {
      label: 'SAME_LOWER with dilations',
      inputs: [f([1, 2, 8, 7])],
      attributes: { kernel_shape: [2, 3], strides: [2, 1], dilations: [2, 2], auto_pad: 'SAME_LOWER' },
    },
  ],
  AveragePool: [
    {
      label: 'exclude pad',
      inputs: [f([2, 3, 7, 6])],
      attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
    },
    {
      label: 'include pad',
      inputs: [f([1, 3, 7, 6])],
      attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 },
    },
    {
      label: 'ceil_mode',
      inputs: [f([1, 2, 8, 8])],
      attributes: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 },
    },
    {
      label: 'ceil_mode include pad',
      inputs: [f([1, 2, 8, 8])],
      attributes: {
        kernel_shape: [3, 3],
        strides: [2, 2],
        pads: [1, 1, 1, 1],
        ceil_mode: 1,
        count_include_pad: 1,
      },
    },
    { label: '1-D', inputs: [f([1, 2, 9])], attributes: { kernel_shape: [4], strides: [3] } },
    {
      label: 'SAME_UPPER',
      inputs: [f([1, 2, 7, 6])],
      attributes: { kernel_shape: [2, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' },
    },
  ],
  GlobalAveragePool: [{ label: '2-D', inputs: [f([2, 3, 5, 4])] }],
  GlobalMaxPool: [{ label: '2-D', inputs: [f([2, 3, 5, 4])] }],
  // ---- reductions ----
  ReduceSum: [
    { label: 'axes input, keepdims', inputs: [f([2, 3, 4]), i64([2], [0, -1])] },
    { label: 'keepdims 0', inputs: [f([2, 3, 4]), i64([1], [1])], attributes: { keepdims: 0 } },
    { label: 'all axes', inputs: [f([2, 3, 4])] },
    { label: 'noop_with_empty_axes', inputs: [f([2, 3])], attributes: { noop_with_empty_axes: 1 } },
  ],
  ReduceMean: [
    { label: 'axes attribute', inputs: [f([2, 3, 4])], attributes: { axes: [2, 3].map((a) => a - 1) } },
    { label: 'keepdims 0', inputs: [f([2, 3, 4])], attributes: { axes: [0], keepdims: 0 } },
  ],
  ReduceMax: [{ label: 'axes attribute', inputs: [f([2, 3, 4])], attributes: { axes: [1], keepdims: 0 } }],
  ReduceMin: [{ label: 'axes attribute', inputs: [f([2, 3, 4])], attributes: { axes: [-1] } }],
  ReduceProd: [{ label: 'axes attribute', inputs: [f([2, 3, 4], 0.5, 1.5)], attributes: { axes: [1] } }],
  ReduceL1: [{ label: 'axes attribute', inputs: [f([2, 3, 4])], attributes: { axes: [0, 2] } }],
  ReduceL2: [{ label: 'axes attribute', inputs: [f([2, 3, 4])], attributes: { axes: [2] } }],
  ReduceSumSquare: [{ label: 'all axes', inputs: [f([2, 3, 4])], attributes: { keepdims: 0 } }],
  ArgMax: [
    { label: 'axis 1 keepdims 0', inputs: [f([2, 5, 3])], attributes: { axis: 1, keepdims: 0 } },
    { label: 'ties, first', inputs: [fi([4, 6], 0, 2)], attributes: { axis: 1 } },
    {
      label: 'ties, select_last_index',
      inputs: [fi([4, 6], 0, 2)],
      attributes: { axis: -1, select_last_index: 1 },
    },
  ],
  ArgMin: [{ label: 'axis 0', inputs: [fi([5, 3], 0, 2)] }],
  // ---- shapes and data movement ----
  Reshape: [
    { label: '0 and -1', inputs: [f([2, 3, 4]), i64([3], [0, -1, 2])] },
    { label: 'allowzero', inputs: [f([0, 3]), i64([2], [3, 0])], attributes: { allowzero: 1 } },
  ],
  Flatten: [
    { label: 'axis 1', inputs: [f([2, 3, 4])] },
    { label: 'axis 0', inputs: [f([2, 3, 4])], attributes: { axis: 0 } },
    { label: 'axis -1', inputs: [f([2, 3, 4])], attributes: { axis: -1 } },
  ],
  Squeeze: [
    { label: 'axes input', inputs: [f([1, 3, 1, 2]), i64([2], [0, -2])] },
    { label: 'all ones', inputs: [f([1, 3, 1, 2])] },
  ],
  Unsqueeze: [
    { label: 'axes input', inputs: [f([3, 2]), i64([2], [0, -1])] },
    { label: 'middle', inputs: [f([3, 2]), i64([2], [1, 3])] },
    { label: 'opset 11 attribute', inputs: [f([3, 2])], attributes: { axes: [1] }, opset: 11 },
  ],
  Transpose: [
    { label: 'default reverses', inputs: [f([2, 3, 4])] },
    { label: 'perm', inputs: [f([2, 3, 4, 5])], attributes: { perm: [0, 2, 3, 1] } },
  ],
  Expand: [
    { label: 'to larger', inputs: [f([3, 1]), i64([3], [2, 3, 4])] },
    { label: 'bidirectional', inputs: [f([2, 1, 3]), i64([2], [4, 1])] },
  ],
  Tile: [{ label: 'repeats', inputs: [f([2, 3]), i64([2], [2, 3])] }],
  Concat: [
    { label: 'axis 1', inputs: [f([2, 1, 3]), f([2, 4, 3]), f([2, 2, 3])], attributes: { axis: 1 } },
    {
      label: 'axis -1 int64',
      inputs: [i64([2, 1], [1, 2]), i64([2, 2], [3, 4, 5, 6])],
      attributes: { axis: -1 },
    },
  ],
  Split: [
    {
      label: 'split input',
      inputs: [f([2, 6, 3]), i64([3], [2, 3, 1])],
      attributes: { axis: 1 },
      outputs: 3,
    },
    { label: 'equal parts', inputs: [f([6, 2])], outputs: 3 },
    {
      label: 'num_outputs uneven (opset 18)',
      inputs: [f([2, 7])],
      attributes: { axis: 1, num_outputs: 3 },
      outputs: 3,
      opset: 18,
    },
    {
      label: 'opset 11 attribute',
      inputs: [f([5, 2])],
      attributes: { split: [1, 4] },
      outputs: 2,
      opset: 11,
    },
  ],
  Slice: [
    {
      label: 'axes and steps',
      inputs: [f([5, 6, 7]), i64([2], [1, 0]), i64([2], [4, 7]), i64([2], [0, 2]), i64([2], [2, 3])],
    },
    {
      label: 'negative steps',
      inputs: [f([6, 5]), i64([2], [-1, 3]), i64([2], [-7, 0]), i64([2], [0, 1]), i64([2], [-2, -1])],
    },
    {
      label: 'INT64 extremes clamp',
      inputs: [f([4, 5]), i64([1], [1]), big(9223372036854775807n), i64([1], [1])],
    },
    {
      label: 'reverse to INT64_MIN',
      inputs: [f([4, 5]), i64([1], [-1]), big(-9223372036854775808n), i64([1], [0]), i64([1], [-1])],
    },
    { label: 'no axes, empty result', inputs: [f([4, 5]), i64([2], [3, 0]), i64([2], [1, 5])] },
  ],
  Pad: [
    { label: 'constant value', inputs: [f([2, 3]), i64([4], [1, 0, 2, 3]), f([])] },
    {
      label: 'reflect',
      inputs: [f([1, 2, 4, 5]), i64([8], [0, 0, 2, 1, 0, 0, 1, 3])],
      attributes: { mode: 'reflect' },
    },
    {
      label: 'edge',
      inputs: [f([1, 2, 3, 4]), i64([8], [0, 0, 2, 1, 0, 0, 3, 2])],
      attributes: { mode: 'edge' },
    },
    { label: 'negative pads crop', inputs: [f([4, 5]), i64([4], [-1, 2, 1, -2])] },
    {
      label: 'axes input (opset 18)',
      inputs: [f([2, 3, 4]), i64([2], [1, 2]), undefined, i64([1], [-1])],
      opset: 18,
    },
    {
      label: 'wrap (opset 19)',
      inputs: [f([3, 4]), i64([4], [1, 2, 2, 1])],
      attributes: { mode: 'wrap' },
      opset: 19,
    },
    { label: 'int64 constant', inputs: [i64([2], [1, 2]), i64([2], [1, 1]), i64([], [-9])] },
  ],
  Shape: [
    { label: 'all', inputs: [f([2, 3, 4])] },
    { label: 'start/end', inputs: [f([2, 3, 4, 5])], attributes: { start: 1, end: -1 } },
    { label: 'clamped', inputs: [f([2, 3])], attributes: { start: -10, end: 10 } },
  ],
  Size: [{ label: '3-D', inputs: [f([2, 3, 4])] }],
  Identity: [{ label: 'float', inputs: [f([2, 3])] }],
  Dropout: [
    { label: 'output and mask', inputs: [f([2, 3])], outputs: 2 },
    { label: 'ratio input', inputs: [f([4]), f([], 0.3, 0.4)] },
  ],
  Gather: [
    { label: 'axis 0, negative', inputs: [f([5, 3]), i64([4], [0, -1, 2, 2])] },
    {
      label: 'axis 1, 2-D indices',
      inputs: [f([2, 5, 3]), i64([2, 2], [4, 0, 1, -2])],
      attributes: { axis: 1 },
    },
    { label: 'scalar index', inputs: [f([4, 3]), i64([], [2])] },
    { label: 'int64 data, int32 indices', inputs: [i64([4], [10, 20, 30, 40]), i32([2], [3, 1])] },
  ],
  GatherElements: [
    {
      label: 'axis 1, negative',
      inputs: [f([3, 4]), i64([3, 2], [0, -1, 3, 2, 1, 1])],
      attributes: { axis: 1 },
    },
    { label: 'axis 0', inputs: [f([3, 2]), i64([2, 2], [2, 0, 1, 2])] },
  ],
  ScatterElements: [
    {
      label: 'none',
      inputs: [f([3, 4]), i64([2, 3], [1, 0, 3, 2, 1, -1]), f([2, 3])],
      attributes: { axis: 1 },
    },
    {
      label: 'add with duplicates',
      inputs: [f([3, 4]), i64([2, 3], [1, 1, 0, 2, 2, 2]), f([2, 3])],
      attributes: { axis: 0, reduction: 'add' },
    },
  ],
  ScatterND: [
    { label: 'rows', inputs: [f([4, 3]), i64([2, 1], [3, 1]), f([2, 3])] },
    { label: 'elements', inputs: [f([2, 3, 2]), i64([3, 3], [0, 1, 1, 1, 2, 0, 0, 0, 1]), f([3])] },
    {
      label: 'add',
      inputs: [f([4, 2]), i64([3, 1], [0, 2, 0]), f([3, 2])],
      attributes: { reduction: 'add' },
    },
  ],
  OneHot: [
    { label: 'axis -1, negatives', inputs: [i64([2, 3], [0, 2, -1, 5, 1, -4]), i64([], [4]), f([2])] },
    {
      label: 'axis 0, float depth',
      inputs: [i64([3], [1, 0, 2]), tensor('float32', [1], [3]), f([2])],
      attributes: { axis: 0 },
    },
  ],
  // ---- generators ----
  Constant: [
    { label: 'value tensor', inputs: [], attributes: { value: f([2, 3]) } },
    { label: 'value_float', inputs: [], attributes: { value_float: 2.5 } },
    { label: 'value_ints', inputs: [], attributes: { value_ints: [3, -1, 4] } },
    { label: 'value_int', inputs: [], attributes: { value_int: 7 } },
  ],
  ConstantOfShape: [
    { label: 'int64 value', inputs: [i64([2], [2, 3])], attributes: { value: i64([1], [5]) } },
    { label: 'default float zeros', inputs: [i64([3], [1, 2, 2])] },
  ],
  Range: [
    {
      label: 'float',
      inputs: [tensor('float32', [], [0.5]), tensor('float32', [], [3.3]), tensor('float32', [], [0.7])],
    },
    { label: 'int64 negative delta', inputs: [i64([], [10]), i64([], [1]), i64([], [-3])] },
    { label: 'empty', inputs: [i64([], [5]), i64([], [1]), i64([], [2])] },
  ],
};

/** Run one row in onnxruntime and in the interpreter (float32 and float64 modes) and compare. */
async function check(op: string, row: Row): Promise<void> {
  const inputNames = row.inputs.map((t, i) => (t ? `x${i}` : ''));
  const outputNames = Array.from({ length: row.outputs ?? 1 }, (_, i) => `y${i}`);
  const node = nodeProto({
    op,
    inputs: inputNames,
    outputs: outputNames,
    ...(row.attributes ? { attributes: row.attributes } : {}),
  });
  const mine = evaluateNode(node, row.inputs);
  assert.equal(mine.length, outputNames.length, `${op} ${row.label}: number of outputs`);
  const feeds: Record<string, Tensor> = {};
  row.inputs.forEach((t, i) => {
    if (t) feeds[`x${i}`] = t;
  });
  const model = singleNodeModel({
    op,
    inputs: Object.entries(feeds).map(([name, t]) => ({ name, dtype: t.dtype, dims: [...t.dims] })),
    outputs: outputNames.map((name, i) => ({ name, dtype: mine[i]!.dtype })),
    nodeInputs: inputNames,
    ...(row.attributes ? { attributes: row.attributes } : {}),
    ...(row.opset !== undefined ? { opset: row.opset } : {}),
  });
  const ref = await runOrt(model, feeds, outputNames);
  const mine64 = evaluateNode(node, row.inputs, { float64: true });
  outputNames.forEach((name, i) => {
    const what = `${op} ${row.label} ${name}`;
    assertClose(mine[i]!, ref[name]!, 1e-5, what);
    if (ref[name]!.dtype === 'float32')
      assert.equal(mine64[i]!.dtype, 'float64', `${what}: float64 mode dtype`);
    assertClose(mine64[i]!, ref[name]!, 1e-5, `${what} (float64 mode)`);
  });
}

test('the row table mirrors the op table', () => {
  const missing = supportedOps.filter((op) => (rows[op]?.length ?? 0) === 0);
  assert.deepEqual(missing, [], `ops without a test row: ${missing.join(', ')}`);
  const extra = Object.keys(rows).filter((op) => !supportedOps.includes(op));
  assert.deepEqual(extra, [], `rows for ops the interpreter does not list: ${extra.join(', ')}`);
});

for (const op of supportedOps) {
  test(`${op} matches onnxruntime`, async () => {
    for (const row of rows[op] ?? []) await check(op, row);
  });
}
