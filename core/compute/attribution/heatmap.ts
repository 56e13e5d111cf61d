/**
 * The heatmap model (docs/design.md step 4): image -> what neuron (L, c) looks at. Inputs: images
 * [B, 3, H, W] and one channel per row. The initial relevance is ReLU(a_L) on channel c, either
 * over the whole map or only at the map's arg-max position; it is propagated to the image with a
 * composite of rules (`gradient` gives gradient x input; the LRP composites give relevance).
 * Outputs: the heat [B, 3, H, W] and the initial relevance per row (its total, for conservation).
 */

import { ancestorsOf } from '../onnx/cut.js';
import { featureCount, featureLayout, type TokenPositions } from '../onnx/feature-layout.js';
import { type ModelProto, type NodeProto, onnx, type TensorProto, valueInfo } from '../onnx/model.js';
import { probedValueInfo, type TensorInfo } from '../onnx/tensor-info.js';
import { type BackwardGraph, buildBackward } from './backward.js';
import { mergeBatchNorms } from './canonize.js';
import { CHANNEL_INPUT, channelMask, channelSeed, patchTokenMask } from './circuit.js';
import { BOOL, Emitter, FLOAT, INT64 } from './emitter.js';
import { type CompositeName, type CompositeOptions, compositeRuleOf } from './lrp.js';
import { attributionModel, infoOf, initializersReadBy, type PreparedModel } from './prepared.js';

export const HEAT_OUTPUT = 'heatmap/heat';
export const SEED_TOTAL_OUTPUT = 'heatmap/initial_relevance';

export type NeuronRegion = 'argmax' | 'map';

export interface HeatmapModelOptions extends CompositeOptions {
  readonly composite: CompositeName;
  /** Seed the neuron at its arg-max position only, or over its whole map. */
  readonly region: NeuronRegion;
  /**
   * Which tokens of a token layer count (SweepConfig.tokens, default 'all'): with 'patches' the leading
   * non-patch tokens get no initial relevance and are never the arg-max.
   */
  readonly tokens?: TokenPositions;
}

export interface HeatmapModel {
  readonly model: ModelProto;
  readonly inputName: string;
  readonly channels: number;
  /** The layer's token count T when its neurons are token features [N, T, D] (feature-layout.ts). */
  readonly tokens?: number;
}

export function buildHeatmapModel(
  prepared: PreparedModel,
  layer: string,
  options: HeatmapModelOptions,
): HeatmapModel {
  const layerInfo = infoOf(prepared, layer);
  const channels = channelsOfLayer(prepared, layer, layerInfo);
  const image = prepared.inputName;
  const forward = forwardToLayer(prepared, layer, options.composite);

  const emit = new Emitter('heatmap/');
  const seed = neuronSeed(emit, layer, layerInfo, channels, options);
  // Each row's total initial relevance, an output so that conservation can be checked against the heat.
  const seedTotal = emit.op('ReduceSum', [emit.op('Flatten', [seed], { axis: 1 }), emit.int64([1])], {
    keepdims: 0,
  });
  const backward = relevanceAtImage(prepared, forward, layer, seed, options);
  const tail = heatmapOutputs(backward.gradients.get(image)!, image, seedTotal, options.composite);

  const model = attributionModel(prepared, {
    name: `heatmap ${layer} (${options.composite}, ${options.region})`,
    node: [...forward.nodes, ...emit.nodes, ...backward.nodes, ...tail],
    initializer: [...forward.initializers, ...emit.initializers, ...backward.initializers],
    input: [probedValueInfo(image, infoOf(prepared, image)), valueInfo(CHANNEL_INPUT, INT64, ['N'])],
    output: [
      probedValueInfo(HEAT_OUTPUT, infoOf(prepared, image)),
      valueInfo(SEED_TOTAL_OUTPUT, FLOAT, ['N']),
    ],
  });
  const tokens = featureLayout(layerInfo.dims.length).kind === 'tokens' ? layerInfo.dims[1] : undefined;
  return { model, inputName: image, channels, ...(typeof tokens === 'number' ? { tokens } : {}) };
}

/**
 * The layer's neuron count; the layer must be a float [N, C, ...] or [N, T, D] tensor that depends on
 * the image.
 */
function channelsOfLayer(prepared: PreparedModel, layer: string, layerInfo: TensorInfo): number {
  const channels = featureCount(layerInfo.dims);
  if (layerInfo.elemType !== FLOAT || channels === undefined) {
    throw new Error(
      `layer '${layer}' is not a float [N, C, ...] or [N, T, D] tensor (shape [${layerInfo.dims.join(', ')}])`,
    );
  }
  if (!prepared.dependent.has(layer)) throw new Error(`layer '${layer}' does not depend on the image`);
  return channels;
}

/** The image -> layer part of the heatmap graph, as the backward pass reads it. */
interface ForwardToLayer {
  readonly nodes: readonly NodeProto[];
  /** Every constant the backward rules may read: the model's and any merged weights. */
  readonly constants: ReadonlyMap<string, TensorProto>;
  readonly info: ReadonlyMap<string, TensorInfo>;
  /** The graph's initializers: the model's that the nodes read, then any merged weights. */
  readonly initializers: readonly TensorProto[];
}

/** The nodes that compute the layer from the image, canonized for the LRP composites. */
function forwardToLayer(prepared: PreparedModel, layer: string, composite: CompositeName): ForwardToLayer {
  const forward = ancestorsOf(prepared.index, [layer]);
  // LRP composites see Conv + BN as one layer (the authors' canonizer); gradients need no canonizer.
  const canonized =
    composite === 'gradient'
      ? undefined
      : mergeBatchNorms(forward, prepared.index.initializers, new Set([layer, prepared.inputName]));
  const nodes = canonized?.nodes ?? forward;
  const constants = new Map(prepared.index.initializers);
  const info = new Map(prepared.info);
  for (const t of canonized?.initializers ?? []) constants.set(t.name!, t);
  for (const [name, i] of canonized?.info ?? []) info.set(name, i);
  const initializers = [...initializersReadBy(prepared, nodes), ...(canonized?.initializers ?? [])];
  return { nodes, constants, info, initializers };
}

/**
 * The initial relevance: ReLU(a_L) on the row's channel, over its whole map or at its arg-max only
 * (over the counted tokens only, with tokens 'patches').
 */
function neuronSeed(
  emit: Emitter,
  layer: string,
  layerInfo: TensorInfo,
  channels: number,
  options: Pick<HeatmapModelOptions, 'region' | 'tokens'>,
): string {
  const rank = layerInfo.dims.length;
  const seed = channelSeed(emit, layer, channels, layerInfo.dims, options.tokens);
  // A layer without spatial axes has one position per channel: the arg-max is the whole map.
  if (options.region !== 'argmax' || rank <= 2) return seed;
  return emit.op('Mul', [seed, argmaxMask(emit, layer, layerInfo, channels, options.tokens)]);
}

/**
 * The one-hot of the arg-max position of each row's channel map, as [B, 1, ...spatial], or of its
 * arg-max token as [B, T, 1] (feature-layout.ts); with tokens 'patches' the arg-max over patch tokens
 * only, as ActMax takes it.
 */
function argmaxMask(
  emit: Emitter,
  layer: string,
  layerInfo: TensorInfo,
  channels: number,
  tokens: TokenPositions | undefined,
): string {
  const rank = layerInfo.dims.length;
  const layout = featureLayout(rank);
  // The row's channel map as [B, 1, ...spatial]: mask the other channels, then sum over channels.
  const channelOnly = emit.op('Mul', [layer, channelMask(emit, CHANNEL_INPUT, channels, rank)]);
  const summed = emit.op('ReduceSum', [channelOnly, emit.int64([layout.featureAxis])], { keepdims: 1 });
  // Leading non-patch tokens set to -inf, so the arg-max is a patch token ([B, T, 1] where 1 is a patch).
  const patches = patchTokenMask(emit, layer, layerInfo.dims, tokens);
  const map = patches
    ? emit.op('Where', [emit.op('Cast', [patches], { to: BOOL }), summed, emit.scalar(-Infinity)])
    : summed;
  const flat = emit.op('Flatten', [map], { axis: 1 });
  const space = layout.positionAxes.reduce<number>((a, axis) => a * (layerInfo.dims[axis] as number), 1);
  const position = emit.op('ArgMax', [flat], { axis: 1, keepdims: 0 });
  const oneHot = emit.op('OneHot', [position, emit.int64([space], []), emit.float([0, 1])], { axis: -1 });
  return emit.op('Reshape', [oneHot, emit.op('Shape', [map])]);
}

/** The backward pass from the seed at the layer to the image, with the composite's rule per node. */
function relevanceAtImage(
  prepared: PreparedModel,
  forward: ForwardToLayer,
  layer: string,
  seed: string,
  options: HeatmapModelOptions,
): BackwardGraph {
  const backward = buildBackward({
    nodes: forward.nodes,
    initializers: forward.constants,
    info: forward.info,
    seeds: [{ tensor: layer, gradient: seed, channel: CHANNEL_INPUT }],
    wrt: [prepared.inputName],
    opset: prepared.opset,
    ruleOf: compositeRuleOf(options.composite, forward.nodes, options),
    prefix: 'heatmap/back/',
  });
  if (backward.unreached.length > 0) throw new Error(`no differentiable path from the image to '${layer}'`);
  return backward;
}

/**
 * The two named outputs. `gradient` propagates a gradient, so the heat is gradient x input; the LRP
 * composites propagate relevance itself, which arrives at the image as the heat.
 */
function heatmapOutputs(
  atImage: string,
  image: string,
  seedTotal: string,
  composite: CompositeName,
): NodeProto[] {
  return [
    composite === 'gradient'
      ? onnx.NodeProto.create({
          opType: 'Mul',
          input: [atImage, image],
          output: [HEAT_OUTPUT],
          name: HEAT_OUTPUT,
        })
      : onnx.NodeProto.create({
          opType: 'Identity',
          input: [atImage],
          output: [HEAT_OUTPUT],
          name: HEAT_OUTPUT,
        }),
    onnx.NodeProto.create({
      opType: 'Identity',
      input: [seedTotal],
      output: [SEED_TOTAL_OUTPUT],
      name: SEED_TOTAL_OUTPUT,
    }),
  ];
}
