/**
 * The planted model as ONNX bytes, built without I/O and without randomness (the weights are set by
 * hand from design.ts, so the bytes depend only on the image size):
 *
 *   input [N,3,S,S] -> /lower/Conv (9x9, no pad) -> /lower/Relu        (L': detectors + distractors)
 *     -> /pool/MaxPool (2x2) -> /upper/Conv (3x3, pad 1) -> /upper/Relu (L: OR neurons + distractors)
 *     -> /head/GlobalAveragePool -> /head/Flatten -> /head/Gemm -> logits [N, features]
 */
import { modelFromNodes, type NodeSpec } from '../onnx/builders.js';
import { type Tensor, tensor } from '../onnx/tensor.js';
import {
  LAYER_NAMES,
  LOWER_CHANNELS,
  type LowerChannel,
  NOMINAL_CONTRAST,
  UPPER_NEURONS,
  type UpperNeuron,
  WEIGHTS,
} from './design.js';
import { FEATURE_SIZE, FEATURES, PATTERN_ENERGY, zeroMeanPerChannel } from './features.js';

export const PLANTED_OPSET = 17;
const UPPER_KERNEL = 3;

/** Initializer names, as a PyTorch export would name them. */
export const WEIGHT_NAMES = {
  lowerWeight: 'lower.weight',
  lowerBias: 'lower.bias',
  upperWeight: 'upper.weight',
  upperBias: 'upper.bias',
  headWeight: 'head.weight',
  headBias: 'head.bias',
} as const;

const KERNEL_PLANE = FEATURE_SIZE * FEATURE_SIZE;

/** One lower channel's [3, 9, 9] kernel and its bias. */
function lowerKernel(channel: LowerChannel): { kernel: Float32Array; bias: number } {
  if (channel.kind === 'feature') {
    // Matched filter: <w, contrast * pattern> = detectorResponse * contrast / NOMINAL_CONTRAST, and a
    // per-channel constant (brightness, tint) contributes exactly nothing.
    const scale = WEIGHTS.detectorResponse / (NOMINAL_CONTRAST * PATTERN_ENERGY);
    const kernel = zeroMeanPerChannel(FEATURES[channel.feature]!.pattern).map((v) => v * scale);
    return { kernel, bias: -WEIGHTS.detectorThreshold };
  }
  const kernel = new Float32Array(3 * KERNEL_PLANE);
  const centre = (FEATURE_SIZE - 1) / 2;
  const at = (c: number, y: number, x: number) => c * KERNEL_PLANE + y * FEATURE_SIZE + x;
  switch (channel.nuisance) {
    case 'brightness':
      kernel.fill(WEIGHTS.brightnessGain / (3 * KERNEL_PLANE));
      return { kernel, bias: 0 };
    case 'warmth':
      for (let i = 0; i < KERNEL_PLANE; i++) {
        kernel[i] = WEIGHTS.warmthGain / KERNEL_PLANE;
        kernel[2 * KERNEL_PLANE + i] = -WEIGHTS.warmthGain / KERNEL_PLANE;
      }
      return { kernel, bias: WEIGHTS.warmthOffset };
    case 'noise': {
      const tap = WEIGHTS.noiseGain / 3;
      for (let c = 0; c < 3; c++) {
        kernel[at(c, centre, centre)] = 4 * tap;
        for (const [dy, dx] of [
          [-1, 0],
          [1, 0],
          [0, -1],
          [0, 1],
        ] as const) {
          kernel[at(c, centre + dy, centre + dx)] = -tap;
        }
      }
      return { kernel, bias: 0 };
    }
  }
}

/** One upper neuron's [C', 3, 3] kernel and its bias. */
function upperKernel(neuron: UpperNeuron): { kernel: Float32Array; bias: number } {
  const plane = UPPER_KERNEL * UPPER_KERNEL;
  const kernel = new Float32Array(LOWER_CHANNELS.length * plane);
  if (neuron.kind === 'distractor') {
    for (const j of neuron.lowerChannels) kernel.fill(WEIGHTS.distractorRead, j * plane, (j + 1) * plane);
    return { kernel, bias: 0 };
  }
  // Centre tap only: the neuron's value is then its detectors' peak, equally distributed for every
  // feature, so the neuron's top-k mixes its features evenly.
  for (const j of neuron.lowerChannels) kernel[j * plane + (plane - 1) / 2] = WEIGHTS.featureRead;
  return { kernel, bias: -WEIGHTS.featureBias };
}

/** [features, upper] classifier weights. */
function headWeights(): Float32Array {
  const upper = UPPER_NEURONS.length;
  const weights = new Float32Array(FEATURES.length * upper);
  for (const neuron of UPPER_NEURONS) {
    if (neuron.kind === 'distractor') continue;
    const share = neuron.kind === 'monosemantic' ? 1 : 0.5;
    for (const f of neuron.features) weights[f * upper + neuron.channel] = WEIGHTS.headGain * share;
  }
  return weights;
}

function stack(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Image sides the model supports: even, so the 2x2 pool tiles the lower map (S - 8) exactly, and at
 * least 16, so a feature fits with room to move.
 */
export const PLANTED_SIZES = { min: 16, max: 256 } as const;

export function assertPlantedSize(size: number): void {
  if (!Number.isInteger(size) || size < PLANTED_SIZES.min || size > PLANTED_SIZES.max || size % 2 !== 0) {
    throw new Error(
      `planted: size must be an even integer from ${PLANTED_SIZES.min} to ${PLANTED_SIZES.max} (pixels), got ${size}`,
    );
  }
}

/** The encoded planted model for square images of side `size` (even, 16..256). */
export function buildPlantedModel(size: number): Uint8Array {
  assertPlantedSize(size);
  return modelFromNodes({
    graphName: 'planted',
    producerName: 'pure planted',
    opset: PLANTED_OPSET,
    nodes: plantedNodes(),
    inputs: [{ name: LAYER_NAMES.input, dtype: 'float32', dims: ['N', 3, size, size] }],
    outputs: [{ name: LAYER_NAMES.output, dtype: 'float32', dims: ['N', FEATURES.length] }],
    initializers: plantedWeights(),
  });
}

/** The graph drawn at the top of this file, with the node names a PyTorch export gives. */
function plantedNodes(): NodeSpec[] {
  return [
    {
      name: '/lower/Conv',
      op: 'Conv',
      inputs: [LAYER_NAMES.input, WEIGHT_NAMES.lowerWeight, WEIGHT_NAMES.lowerBias],
      outputs: ['/lower/Conv_output_0'],
      // No padding: a zero border would look like an edge to the zero-mean detectors and fire them.
      attributes: { kernel_shape: [FEATURE_SIZE, FEATURE_SIZE], pads: [0, 0, 0, 0], strides: [1, 1] },
    },
    { name: '/lower/Relu', op: 'Relu', inputs: ['/lower/Conv_output_0'], outputs: [LAYER_NAMES.lower] },
    {
      name: '/pool/MaxPool',
      op: 'MaxPool',
      inputs: [LAYER_NAMES.lower],
      outputs: ['/pool/MaxPool_output_0'],
      attributes: { kernel_shape: [2, 2], strides: [2, 2] },
    },
    {
      name: '/upper/Conv',
      op: 'Conv',
      inputs: ['/pool/MaxPool_output_0', WEIGHT_NAMES.upperWeight, WEIGHT_NAMES.upperBias],
      outputs: ['/upper/Conv_output_0'],
      attributes: { kernel_shape: [UPPER_KERNEL, UPPER_KERNEL], pads: [1, 1, 1, 1], strides: [1, 1] },
    },
    { name: '/upper/Relu', op: 'Relu', inputs: ['/upper/Conv_output_0'], outputs: [LAYER_NAMES.upper] },
    {
      name: '/head/GlobalAveragePool',
      op: 'GlobalAveragePool',
      inputs: [LAYER_NAMES.upper],
      outputs: ['/head/GlobalAveragePool_output_0'],
    },
    {
      name: '/head/Flatten',
      op: 'Flatten',
      inputs: ['/head/GlobalAveragePool_output_0'],
      outputs: ['/head/Flatten_output_0'],
      attributes: { axis: 1 },
    },
    {
      name: '/head/Gemm',
      op: 'Gemm',
      inputs: ['/head/Flatten_output_0', WEIGHT_NAMES.headWeight, WEIGHT_NAMES.headBias],
      outputs: [LAYER_NAMES.output],
      attributes: { transB: 1 },
    },
  ];
}

/** The hand-set weights of the three layers, by initializer name; none depends on the image size. */
function plantedWeights(): Record<string, Tensor> {
  const lower = LOWER_CHANNELS.map(lowerKernel);
  const upper = UPPER_NEURONS.map(upperKernel);
  const lowerCount = LOWER_CHANNELS.length;
  const upperCount = UPPER_NEURONS.length;
  return {
    [WEIGHT_NAMES.lowerWeight]: tensor(
      'float32',
      [lowerCount, 3, FEATURE_SIZE, FEATURE_SIZE],
      stack(lower.map((l) => l.kernel)),
    ),
    [WEIGHT_NAMES.lowerBias]: tensor('float32', [lowerCount], new Float32Array(lower.map((l) => l.bias))),
    [WEIGHT_NAMES.upperWeight]: tensor(
      'float32',
      [upperCount, lowerCount, UPPER_KERNEL, UPPER_KERNEL],
      stack(upper.map((u) => u.kernel)),
    ),
    [WEIGHT_NAMES.upperBias]: tensor('float32', [upperCount], new Float32Array(upper.map((u) => u.bias))),
    [WEIGHT_NAMES.headWeight]: tensor('float32', [FEATURES.length, upperCount], headWeights()),
    [WEIGHT_NAMES.headBias]: tensor('float32', [FEATURES.length], new Float32Array(FEATURES.length)),
  };
}
