/**
 * A small CNN with random weights built from the ops the shared models lack, for the PyTorch
 * cross-check (test/dev/torch-crosscheck.ts): HardSwish, bilinear Resize x2, reflect Pad, a Softmax
 * gate over channels, LayerNormalization over [C, H, W], GELU through Erf, nearest Resize /2 and a
 * Gather of channels with repeats. Input `input` [N, 3, 8, 8]; `block0_out` [N, 8, 16, 16] and
 * `block1_out` [N, 12, 8, 8] (ReLUs after convolutions, as the explained layers of a CNN).
 */
import type { ModelProto } from '../../core/compute/onnx/model.js';
import { type Tensor, tensor } from '../../core/compute/onnx/tensor.js';
import { modelProto, type NodeSpec, node } from './onnx-builders.js';
import { seededRandom } from './random.js';

export function mixedOpsModel(seed = 5): ModelProto {
  const rand = seededRandom(seed);
  const uniform = (dims: number[], scale: number, offset = 0): Tensor =>
    tensor(
      'float32',
      dims,
      Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => offset + (rand() * 2 - 1) * scale),
    );
  const conv = (cout: number, cin: number) => uniform([cout, cin, 3, 3], Math.sqrt(6 / (cin * 9)));
  const same = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };
  const nodes: NodeSpec[] = [
    node('Conv', ['input', 'w0', 'b0'], 'c0', same),
    node('HardSwish', ['c0'], 'h0'),
    node('Resize', ['h0', '', 'up2'], 'up', { mode: 'linear' }),
    node('Pad', ['up', 'pad1'], 'padded', { mode: 'reflect' }),
    node('Conv', ['padded', 'w1', 'b1'], 'c1', { kernel_shape: [3, 3] }),
    node('Relu', ['c1'], 'block0_out'),
    node('Softmax', ['block0_out'], 'gate', { axis: 1 }),
    node('Mul', ['block0_out', 'gate'], 'gated'),
    node('LayerNormalization', ['gated', 'ln_scale', 'ln_bias'], 'ln', { axis: 1 }),
    node('Div', ['ln', 'sqrt2'], 'ln_scaled'),
    node('Erf', ['ln_scaled'], 'erf'),
    node('Add', ['erf', 'one'], 'erf1'),
    node('Mul', ['ln', 'erf1'], 'gelu2'),
    node('Mul', ['gelu2', 'half'], 'gelu'),
    node('Resize', ['gelu', '', 'down2'], 'down', {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    }),
    node('Gather', ['down', 'channels'], 'picked', { axis: 1 }),
    node('Conv', ['picked', 'w2', 'b2'], 'c2', same),
    node('Relu', ['c2'], 'block1_out'),
  ];
  const scalar = (v: number) => tensor('float32', [], [v]);
  return modelProto({
    nodes,
    inputs: [{ name: 'input', dtype: 'float32', dims: ['N', 3, 8, 8] }],
    outputs: [{ name: 'block1_out', dtype: 'float32' }],
    initializers: {
      w0: conv(8, 3),
      b0: uniform([8], 0.1),
      w1: conv(8, 8),
      b1: uniform([8], 0.1, 0.05),
      w2: conv(12, 10),
      b2: uniform([12], 0.1),
      up2: tensor('float32', [4], [1, 1, 2, 2]),
      down2: tensor('float32', [4], [1, 1, 0.5, 0.5]),
      pad1: tensor('int64', [8], [0, 0, 1, 1, 0, 0, 1, 1]),
      ln_scale: uniform([8, 16, 16], 0.3, 1),
      ln_bias: uniform([8, 16, 16], 0.1),
      sqrt2: scalar(Math.SQRT2),
      one: scalar(1),
      half: scalar(0.5),
      channels: tensor('int64', [10], [0, 1, 1, 3, 4, 5, 5, 5, 7, 2]),
    },
  });
}
