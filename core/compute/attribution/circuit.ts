/**
 * The circuit model (docs/design.md, "The method", step 2): inputs a batch of lower-layer activations
 * a_L' (plus any side inputs the cut reads) and one upper channel per row; outputs a_L and the
 * circuit vectors R [B, C'] with
 *   g = ReLU(a_L) on channel c of each row, zero on the other channels,
 *   R_j = sum over space of (dL/da_L')_j * (a_L')_j,   R <- R / (sum_j |R_j| + 1e-10).
 * For token layers [N, T, D] the channels are the D features and "space" is the tokens
 * (core/compute/onnx/feature-layout.ts).
 * Rows are independent, so one batch can mix (image, channel) pairs. The truncated model computes
 * a_L' and the side inputs from images, once per unique image.
 */

import { ancestorsOf, type Cut, cutGraph } from '../onnx/cut.js';
import { featureCount, featureLayout } from '../onnx/feature-layout.js';
import { graphOf, type ModelProto, onnx, valueInfo } from '../onnx/model.js';
import { probedValueInfo, type TensorInfo } from '../onnx/tensor-info.js';
import { type BackwardGraph, buildBackward } from './backward.js';
import { Emitter, FLOAT, INT64 } from './emitter.js';
import { attributionModel, infoOf, initializersReadBy, type PreparedModel } from './prepared.js';

export const CHANNEL_INPUT = 'circuit/channel';
export const RELEVANCE_OUTPUT = 'circuit/relevance';
export const MAPS_OUTPUT = 'circuit/relevance_maps';
/** The stabiliser of the normalisation, as the authors use it. */
export const NORMALISATION_EPSILON = 1e-10;

export interface CircuitModelOptions {
  /** Also output the unreduced gradient x activation maps [B, C', H', W']. */
  readonly maps?: boolean;
  /**
   * Let 1x1 convolutions whose output gradient is one channel per row read one row of their weights
   * (window-adjoints.ts, oneChannelPointwiseConv). Default true; false only to measure or test it
   * against the plain adjoint.
   */
  readonly oneChannelShortcut?: boolean;
}

export interface CircuitModel {
  readonly model: ModelProto;
  readonly cut: Cut;
  readonly lowerChannels: number;
  readonly upperChannels: number;
  /** Input names in the order a caller feeds them: a_L', side inputs, channel. */
  readonly inputs: { readonly lower: string; readonly side: readonly string[]; readonly channel: string };
  readonly outputs: { readonly upper: string; readonly relevance: string; readonly maps?: string };
}

/**
 * One-hot mask from the neuron index of each row, broadcastable to the layer: [B, C, 1, ...] for
 * channels, [B, 1, D] for tokens (feature-layout.ts).
 */
export function channelMask(emit: Emitter, channel: string, channels: number, rank: number): string {
  const oneHot = emit.op('OneHot', [channel, emit.int64([channels], []), emit.float([0, 1])], { axis: -1 });
  if (rank <= 2) return oneHot;
  return emit.op('Unsqueeze', [oneHot, emit.int64(featureLayout(rank).positionAxes)]);
}

/**
 * ReLU(a) on each row's neuron (CHANNEL_INPUT) at every position, zero on the other neurons: the
 * initial relevance. For tokens too: a residual stream can be negative, and the positive part is where
 * the neuron fires, what ActMax ranks by (docs/attribution.md, "Token neurons").
 */
export function channelSeed(emit: Emitter, tensor: string, channels: number, rank: number): string {
  const relu = emit.op('Relu', [tensor]);
  return emit.op('Mul', [relu, channelMask(emit, CHANNEL_INPUT, channels, rank)]);
}

export function buildCircuitModel(
  prepared: PreparedModel,
  lower: string,
  upper: string,
  options: CircuitModelOptions = {},
): CircuitModel {
  const cut = cutGraph(prepared.index, lower, upper, prepared.dependent);
  const lowerInfo = infoOf(prepared, lower);
  const upperInfo = infoOf(prepared, upper);
  const lowerChannels = checkChannelTensor('lower', lower, lowerInfo);
  const upperChannels = checkChannelTensor('upper', upper, upperInfo);

  const emit = new Emitter('circuit/');
  const seed = channelSeed(emit, upper, upperChannels, upperInfo.dims.length);
  const backward = gradientAtLower(prepared, cut, seed, options.oneChannelShortcut !== false);
  // Without `maps` the gradient x activation maps are an internal tensor, so they get a fresh name.
  const mapsName = options.maps ? MAPS_OUTPUT : emit.fresh('maps');
  const tail = relevanceTail(backward.gradients.get(lower)!, lower, lowerInfo.dims.length, mapsName);

  const graph = graphOf(prepared.model);
  const model = attributionModel(prepared, {
    name: `circuit ${lower} -> ${upper}`,
    node: [...cut.nodes, ...emit.nodes, ...backward.nodes, ...tail.nodes],
    initializer: [
      ...cut.initializers.map((name) => prepared.index.initializers.get(name)!),
      ...emit.initializers,
      ...backward.initializers,
      ...tail.initializers,
    ],
    input: [
      probedValueInfo(lower, lowerInfo),
      ...cut.sideInputs.map((name) => probedValueInfo(name, infoOf(prepared, name))),
      valueInfo(CHANNEL_INPUT, INT64, ['N']),
    ],
    output: [
      probedValueInfo(upper, upperInfo),
      valueInfo(RELEVANCE_OUTPUT, FLOAT, ['N', lowerChannels]),
      ...(options.maps ? [probedValueInfo(MAPS_OUTPUT, lowerInfo)] : []),
    ],
    valueInfo: [],
    ...(graph.docString ? { docString: graph.docString } : {}),
  });
  return {
    model,
    cut,
    lowerChannels,
    upperChannels,
    inputs: { lower, side: cut.sideInputs, channel: CHANNEL_INPUT },
    outputs: { upper, relevance: RELEVANCE_OUTPUT, ...(options.maps ? { maps: MAPS_OUTPUT } : {}) },
  };
}

/**
 * Both ends of a circuit are float [N, C, ...] or [N, T, D] tensors; returns the neuron count (C or D)
 * the circuit indexes.
 */
function checkChannelTensor(role: 'lower' | 'upper', name: string, info: TensorInfo): number {
  if (info.elemType !== FLOAT)
    throw new Error(`${role} tensor '${name}' is not float32 (type ${info.elemType})`);
  const channels = featureCount(info.dims);
  if (channels === undefined) {
    throw new Error(
      `${role} tensor '${name}' has shape [${info.dims.join(', ')}]; expected [N, C, ...] or [N, T, D]`,
    );
  }
  return channels;
}

/** The backward pass of the cut from the seed at `upper` to dL/da_L' at `lower`. */
function gradientAtLower(
  prepared: PreparedModel,
  cut: Cut,
  seed: string,
  oneChannelShortcut: boolean,
): BackwardGraph {
  const backward = buildBackward({
    nodes: cut.nodes,
    initializers: prepared.index.initializers,
    info: prepared.info,
    seeds: [{ tensor: cut.upper, gradient: seed, ...(oneChannelShortcut ? { channel: CHANNEL_INPUT } : {}) }],
    wrt: [cut.lower],
    opset: prepared.opset,
    prefix: 'circuit/grad/',
  });
  if (backward.unreached.length > 0) {
    throw new Error(
      `no differentiable path leads from '${cut.lower}' to '${cut.upper}' ` +
        '(only integer or shape edges connect them)',
    );
  }
  return backward;
}

/**
 * maps = gradient x a_L' (named `mapsName`), R = maps summed over positions (space, or tokens), then
 * R / (sum_j |R_j| + eps) as RELEVANCE_OUTPUT. The two named nodes are built by hand because their
 * outputs have fixed names.
 */
function relevanceTail(gradient: string, lower: string, rank: number, mapsName: string): Emitter {
  const spatialAxes = featureLayout(rank).positionAxes;
  const tail = new Emitter('circuit/tail/');
  tail.nodes.push(
    onnx.NodeProto.create({ opType: 'Mul', input: [gradient, lower], output: [mapsName], name: mapsName }),
  );
  const raw =
    spatialAxes.length > 0
      ? tail.op('ReduceSum', [mapsName, tail.int64(spatialAxes)], { keepdims: 0 })
      : tail.op('Identity', [mapsName]);
  const norm = tail.op('Add', [
    tail.op('ReduceSum', [tail.op('Abs', [raw]), tail.int64([1])], { keepdims: 1 }),
    tail.scalar(NORMALISATION_EPSILON),
  ]);
  tail.nodes.push(
    onnx.NodeProto.create({
      opType: 'Div',
      input: [raw, norm],
      output: [RELEVANCE_OUTPUT],
      name: RELEVANCE_OUTPUT,
    }),
  );
  return tail;
}

/** image -> the given tensors (a_L' and side inputs), keeping only the nodes they need. */
export function buildTruncatedModel(prepared: PreparedModel, outputs: readonly string[]): ModelProto {
  const nodes = ancestorsOf(prepared.index, outputs);
  return attributionModel(prepared, {
    name: `forward to ${outputs.join(', ')}`,
    node: nodes,
    initializer: initializersReadBy(prepared, nodes),
    input: prepared.index.inputs.map((i) => i),
    output: outputs.map((name) => probedValueInfo(name, infoOf(prepared, name))),
  });
}
