/**
 * The circuit model (docs/design.md, "The method", step 2): inputs a batch of lower-layer activations
 * a_L' (plus any side inputs the cut reads), one per image, and for each row an image and an upper
 * channel; outputs a_L and the circuit vectors R [rows, C'] with
 *   g = ReLU(a_L) on channel c of each row, zero on the other channels,
 *   R_j = sum over space of (dL/da_L')_j * (a_L')_j,   R <- R / (sum_j |R_j| + 1e-10).
 * For token layers [N, T, D] the channels are the D features and "space" is the tokens
 * (core/compute/onnx/feature-layout.ts).
 * Rows are independent, so one batch can mix (image, channel) pairs. The L' -> L forward runs once per
 * image; the backward runs per row and reads the forward tensors it needs (ReLU masks, a_L') gathered
 * to rows (docs/design.md, "Attribution on ONNX": an image that is a reference of several neurons pays
 * one forward, not one per neuron). The truncated model computes a_L' and the side inputs from images,
 * once per unique image.
 */

import { ancestorsOf, type Cut, cutGraph } from '../onnx/cut.js';
import { featureCount, featureLayout, leadingTokens, type TokenPositions } from '../onnx/feature-layout.js';
import { graphOf, type ModelProto, type NodeProto, onnx, valueInfo } from '../onnx/model.js';
import { probedValueInfo, type TensorInfo } from '../onnx/tensor-info.js';
import { type BackwardGraph, buildBackward } from './backward.js';
import { Emitter, FLOAT, INT64 } from './emitter.js';
import { attributionModel, infoOf, initializersReadBy, type PreparedModel } from './prepared.js';

export const CHANNEL_INPUT = 'circuit/channel';
/** int64 [rows]: the image (row of a_L' and the side inputs) of each row. */
export const IMAGE_INPUT = 'circuit/image';
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
  /**
   * Which tokens of a token layer L seed the circuit (SweepConfig.tokens, default 'all'): with
   * 'patches' the leading non-patch tokens of a_L get no initial relevance. The sum over L''s
   * positions in the tail keeps every token.
   */
  readonly tokens?: TokenPositions;
}

export interface CircuitModel {
  readonly model: ModelProto;
  readonly cut: Cut;
  readonly lowerChannels: number;
  readonly upperChannels: number;
  /**
   * Input names: a_L' and the side inputs, one row per image (under their own names, or as
   * `circuit/images/<name>` when the forward runs per row), then the image and channel of each row.
   */
  readonly inputs: {
    readonly lower: string;
    readonly side: readonly string[];
    readonly image: string;
    readonly channel: string;
  };
  /**
   * True when the L' -> L forward runs once per image; false when the backward reads an image-dependent
   * tensor whose rows cannot be gathered (a [B * heads, ...] attention tensor, a computed shape), and the
   * forward runs once per row instead. The results are the same.
   */
  readonly sharedForward: boolean;
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
 * the neuron fires, what ActMax ranks by (docs/attribution.md, "Token neurons"). With tokens 'patches'
 * a token layer's leading non-patch tokens are zero too (patchTokenMask).
 */
export function channelSeed(
  emit: Emitter,
  tensor: string,
  channels: number,
  dims: readonly (number | string)[],
  tokens: TokenPositions = 'all',
): string {
  const relu = emit.op('Relu', [tensor]);
  const seed = emit.op('Mul', [relu, channelMask(emit, CHANNEL_INPUT, channels, dims.length)]);
  const patches = patchTokenMask(emit, tensor, dims, tokens);
  return patches ? emit.op('Mul', [seed, patches]) : seed;
}

/**
 * [1, T, 1]: 0 at a token layer's leading non-patch tokens (feature-layout.ts, leadingTokens), 1 at its
 * patches; undefined where every position counts (tokens 'all', or a channel layer).
 */
export function patchTokenMask(
  emit: Emitter,
  tensor: string,
  dims: readonly (number | string)[],
  tokens: TokenPositions = 'all',
): string | undefined {
  if (tokens !== 'patches' || featureLayout(dims.length).kind !== 'tokens') return undefined;
  const count = dims[1];
  if (typeof count !== 'number') {
    throw new Error(
      `tokens 'patches' needs the token count of '${tensor}', but its shape is [${dims.join(', ')}]; ` +
        "give the model a fixed input size, or use tokens 'all'",
    );
  }
  const extra = leadingTokens(count);
  return emit.float(
    Array.from({ length: count }, (_, t) => (t < extra ? 0 : 1)),
    [1, count, 1],
  );
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
  const seed = channelSeed(emit, upper, upperChannels, upperInfo.dims, options.tokens);
  const backward = gradientAtLower(prepared, cut, seed, options.oneChannelShortcut !== false);
  // Without `maps` the gradient x activation maps are an internal tensor, so they get a fresh name.
  const mapsName = options.maps ? MAPS_OUTPUT : emit.fresh('maps');
  const tail = relevanceTail(backward.gradients.get(lower)!, lower, lowerInfo.dims.length, mapsName);

  const rowNodes = [...emit.nodes, ...backward.nodes, ...tail.nodes];
  const layout = rowLayout(prepared, cut, rowNodes);
  const graph = graphOf(prepared.model);
  const model = attributionModel(prepared, {
    name: `circuit ${lower} -> ${upper}`,
    node: [...layout.before, ...cut.nodes, ...layout.after, ...rowNodes.map(layout.renamed)],
    initializer: [
      ...cut.initializers.map((name) => prepared.index.initializers.get(name)!),
      ...emit.initializers,
      ...backward.initializers,
      ...tail.initializers,
    ],
    input: [
      probedValueInfo(layout.input(lower), lowerInfo, 'images'),
      ...cut.sideInputs.map((name) => probedValueInfo(layout.input(name), infoOf(prepared, name), 'images')),
      valueInfo(IMAGE_INPUT, INT64, ['rows']),
      valueInfo(CHANNEL_INPUT, INT64, ['rows']),
    ],
    output: [
      probedValueInfo(layout.rowsOf(upper), upperInfo, 'rows'),
      valueInfo(RELEVANCE_OUTPUT, FLOAT, ['rows', lowerChannels]),
      ...(options.maps ? [probedValueInfo(MAPS_OUTPUT, lowerInfo, 'rows')] : []),
    ],
    valueInfo: [],
    ...(graph.docString ? { docString: graph.docString } : {}),
  });
  return {
    model,
    cut,
    lowerChannels,
    upperChannels,
    inputs: {
      lower: layout.input(lower),
      side: cut.sideInputs.map(layout.input),
      image: IMAGE_INPUT,
      channel: CHANNEL_INPUT,
    },
    outputs: {
      upper: layout.rowsOf(upper),
      relevance: RELEVANCE_OUTPUT,
      ...(options.maps ? { maps: MAPS_OUTPUT } : {}),
    },
    sharedForward: layout.shared,
  };
}

/** Where the circuit model turns per-image tensors into per-row ones. */
interface RowLayout {
  readonly shared: boolean;
  /** Nodes before the cut's forward (per-row forward: a_L' and side inputs gathered to rows). */
  readonly before: NodeProto[];
  /** Nodes after it (shared forward: the forward tensors the row nodes read, gathered to rows). */
  readonly after: NodeProto[];
  /** The graph input that carries a per-image tensor. */
  input(name: string): string;
  /** The name of a forward tensor's per-row copy. */
  rowsOf(name: string): string;
  /** A row node reading per-row copies instead of per-image tensors. */
  renamed(node: NodeProto): NodeProto;
}

/**
 * The seed, backward and tail nodes are per row; the forward is per image when every image-dependent
 * forward tensor they read has a batch axis to gather along (TensorInfo.batchAxis), per row otherwise.
 */
function rowLayout(prepared: PreparedModel, cut: Cut, rowNodes: readonly NodeProto[]): RowLayout {
  const perImage = new Set([cut.lower, ...cut.sideInputs, ...cut.nodes.flatMap((n) => n.output ?? [])]);
  const read = new Set(rowNodes.flatMap((n) => n.input ?? []).filter((name) => perImage.has(name)));
  read.add(cut.upper); // the a_L output
  const gathered = [...read].filter((name) => name === cut.lower || prepared.dependent.has(name));
  const shared = gathered.every((name) => infoOf(prepared, name).batchAxis !== undefined);
  const gather = (from: string, to: string, name: string) =>
    onnx.NodeProto.create({
      opType: 'Gather',
      input: [from, IMAGE_INPUT],
      output: [to],
      name: to,
      attribute: [{ name: 'axis', type: 2, i: infoOf(prepared, name).batchAxis ?? 0 }],
    });
  if (!shared) {
    // Per-row forward: a_L' and the side inputs come in per image and are gathered to rows under
    // their own names, so the forward, backward and tail nodes run unchanged.
    const inputs = [cut.lower, ...cut.sideInputs];
    return {
      shared,
      before: inputs.map((name) => gather(`circuit/images/${name}`, name, name)),
      after: [],
      input: (name) => `circuit/images/${name}`,
      rowsOf: (name) => name,
      renamed: (node) => node,
    };
  }
  const rows = new Map(gathered.map((name) => [name, `circuit/rows/${name}`]));
  return {
    shared,
    before: [],
    after: gathered.map((name) => gather(name, rows.get(name)!, name)),
    input: (name) => name,
    rowsOf: (name) => rows.get(name) ?? name,
    renamed: (node) =>
      (node.input ?? []).some((name) => rows.has(name))
        ? onnx.NodeProto.create({ ...node, input: (node.input ?? []).map((name) => rows.get(name) ?? name) })
        : node,
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
