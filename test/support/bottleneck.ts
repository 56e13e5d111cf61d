/**
 * ResNet-50-style bottleneck stages with random weights (torchvision's v1.5 block: 1x1 -> 3x3 with
 * the stride -> 1x1 expanding 4x; block 0 adds a 1x1 strided downsample on the skip). Used where the
 * shared models have no such blocks: the one-channel 1x1 shortcut of the rule table, and benchmarks.
 */
import type { ModelProto } from '../../core/compute/onnx/model.js';
import { type Tensor, tensor } from '../../core/compute/onnx/tensor.js';
import { modelProto, type NodeSpec } from './onnx-builders.js';
import { seededRandom } from './random.js';

export interface BottleneckStageSpec {
  readonly inChannels: number;
  /** Inner width; the output has 4x as many channels. */
  readonly width: number;
  /** Input height = width. */
  readonly size: number;
  readonly blocks: number;
  /** Unfused BatchNormalization after every conv (as some exporters leave it), or biases only. */
  readonly batchNorm?: boolean;
  /**
   * A 3x3 stem conv (+ BN) before the stage, so one conv reads the input: LRP composites give the
   * first layer its own rule, and a stage alone has two first layers (block 0's conv and downsample).
   */
  readonly stem?: boolean;
  readonly seed?: number;
}

/** Input `input` [N, inChannels, size, size]; `stage_in` = ReLU(input or stem); `block<i>_out` per block. */
export function bottleneckStage(spec: BottleneckStageSpec): ModelProto {
  const rand = seededRandom(spec.seed ?? 50);
  const uniform = (dims: number[], scale: number, offset = 0): Tensor => {
    const n = dims.reduce((a, b) => a * b, 1);
    return tensor(
      'float32',
      dims,
      Float32Array.from({ length: n }, () => offset + (rand() * 2 - 1) * scale),
    );
  };
  const nodes: NodeSpec[] = [];
  const initializers: Record<string, Tensor> = {};
  const out = spec.width * 4;
  const conv = (x: string, name: string, cin: number, cout: number, k: number, stride: number): string => {
    initializers[`${name}_w`] = uniform([cout, cin, k, k], Math.sqrt(6 / (cin * k * k)));
    const inputs = [x, `${name}_w`];
    if (!spec.batchNorm) {
      initializers[`${name}_b`] = uniform([cout], 0.05);
      inputs.push(`${name}_b`);
    }
    const pad = (k - 1) / 2;
    nodes.push({
      op: 'Conv',
      inputs,
      outputs: [name],
      attributes: { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] },
    });
    if (!spec.batchNorm) return name;
    for (const [p, value] of [
      ['scale', uniform([cout], 0.3, 1)],
      ['bias', uniform([cout], 0.1)],
      ['mean', uniform([cout], 0.1)],
      ['var', uniform([cout], 0.2, 1)],
    ] as const) {
      initializers[`${name}_bn_${p}`] = value;
    }
    const bn = `${name}_bn`;
    nodes.push({
      op: 'BatchNormalization',
      inputs: [name, `${bn}_scale`, `${bn}_bias`, `${bn}_mean`, `${bn}_var`],
      outputs: [bn],
    });
    return bn;
  };
  const stemOut = spec.stem ? conv('input', 'stem', spec.inChannels, spec.inChannels, 3, 1) : 'input';
  nodes.push({ op: 'Relu', inputs: [stemOut], outputs: ['stage_in'] });
  let x = 'stage_in';
  let channels = spec.inChannels;
  for (let b = 0; b < spec.blocks; b++) {
    const stride = b === 0 ? 2 : 1;
    const r1 = `b${b}_r1`;
    const r2 = `b${b}_r2`;
    nodes.push({ op: 'Relu', inputs: [conv(x, `b${b}_c1`, channels, spec.width, 1, 1)], outputs: [r1] });
    nodes.push({
      op: 'Relu',
      inputs: [conv(r1, `b${b}_c2`, spec.width, spec.width, 3, stride)],
      outputs: [r2],
    });
    const main = conv(r2, `b${b}_c3`, spec.width, out, 1, 1);
    const skip = b === 0 ? conv(x, `b${b}_down`, channels, out, 1, stride) : x;
    nodes.push({ op: 'Add', inputs: [main, skip], outputs: [`b${b}_sum`] });
    nodes.push({ op: 'Relu', inputs: [`b${b}_sum`], outputs: [`block${b}_out`] });
    x = `block${b}_out`;
    channels = out;
  }
  return modelProto({
    nodes,
    inputs: [{ name: 'input', dtype: 'float32', dims: ['N', spec.inChannels, spec.size, spec.size] }],
    outputs: [{ name: x, dtype: 'float32' }],
    initializers,
  });
}
