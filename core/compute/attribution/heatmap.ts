/**
 * The heatmap model (docs/design.md step 4): image -> what neuron (L, c) looks at. Inputs: images
 * [B, 3, H, W] and one channel per row. The initial relevance is ReLU(a_L) on channel c, either
 * over the whole map or only at the map's arg-max position; it is propagated to the image with a
 * composite of rules (`gradient` gives gradient x input; the LRP composites give relevance).
 * Outputs: the heat [B, 3, H, W] and the initial relevance per row (its total, for conservation).
 */

import { ancestorsOf } from '../onnx/cut.js';
import { graphOf, type ModelProto, onnx, type TensorProto, valueInfo } from '../onnx/model.js';
import { EMITTED_IR_VERSION } from '../onnx/opset.js';
import { probedValueInfo } from '../onnx/tensor-info.js';
import { buildBackward } from './backward.js';
import { mergeBatchNorms } from './canonize.js';
import { CHANNEL_INPUT, channelMask } from './circuit.js';
import { Emitter, FLOAT, INT64 } from './emitter.js';
import { type CompositeName, type CompositeOptions, compositeRuleOf } from './lrp.js';
import { infoOf, type PreparedModel } from './prepared.js';

export const HEAT_OUTPUT = 'heatmap/heat';
export const SEED_TOTAL_OUTPUT = 'heatmap/initial_relevance';

export type NeuronRegion = 'argmax' | 'map';

export interface HeatmapModelOptions extends CompositeOptions {
  readonly composite: CompositeName;
  /** Seed the neuron at its arg-max position only, or over its whole map. */
  readonly region: NeuronRegion;
}

export interface HeatmapModel {
  readonly model: ModelProto;
  readonly inputName: string;
  readonly channels: number;
}

export function buildHeatmapModel(
  prepared: PreparedModel,
  layer: string,
  options: HeatmapModelOptions,
): HeatmapModel {
  const layerInfo = infoOf(prepared, layer);
  if (layerInfo.elemType !== FLOAT || layerInfo.dims.length < 2 || typeof layerInfo.dims[1] !== 'number') {
    throw new Error(
      `layer '${layer}' is not a float [N, C, ...] tensor (shape [${layerInfo.dims.join(', ')}])`,
    );
  }
  if (!prepared.dependent.has(layer)) throw new Error(`layer '${layer}' does not depend on the image`);
  const channels = layerInfo.dims[1];
  const rank = layerInfo.dims.length;
  const image = prepared.inputName;
  // LRP composites see Conv + BN as one layer (the authors' canonizer); gradients need no canonizer.
  const forward = ancestorsOf(prepared.index, [layer]);
  const canonized =
    options.composite === 'gradient'
      ? undefined
      : mergeBatchNorms(forward, prepared.index.initializers, new Set([layer, image]));
  const nodes = canonized?.nodes ?? forward;
  const initializerMap = new Map(prepared.index.initializers);
  const info = new Map(prepared.info);
  for (const t of canonized?.initializers ?? []) initializerMap.set(t.name!, t);
  for (const [name, i] of canonized?.info ?? []) info.set(name, i);

  const emit = new Emitter('heatmap/');
  const relu = emit.op('Relu', [layer]);
  let seed = emit.op('Mul', [relu, channelMask(emit, CHANNEL_INPUT, channels, rank)]);
  if (options.region === 'argmax' && rank > 2) {
    // The channel's map [B, space]; the one-hot of its arg-max, back in [B, 1, ...spatial].
    const map = emit.op(
      'ReduceSum',
      [emit.op('Mul', [layer, channelMask(emit, CHANNEL_INPUT, channels, rank)]), emit.int64([1])],
      {
        keepdims: 1,
      },
    );
    const flat = emit.op('Flatten', [map], { axis: 1 });
    const space = layerInfo.dims.slice(2).reduce<number>((a, d) => a * (d as number), 1);
    const position = emit.op('ArgMax', [flat], { axis: 1, keepdims: 0 });
    const oneHot = emit.op('OneHot', [position, emit.int64([space], []), emit.float([0, 1])], { axis: -1 });
    const spatialMask = emit.op('Reshape', [oneHot, emit.op('Shape', [map])]);
    seed = emit.op('Mul', [seed, spatialMask]);
  }
  const seedTotal = emit.op('ReduceSum', [emit.op('Flatten', [seed], { axis: 1 }), emit.int64([1])], {
    keepdims: 0,
  });

  const backward = buildBackward({
    nodes,
    initializers: initializerMap,
    info,
    seeds: [{ tensor: layer, gradient: seed, channel: CHANNEL_INPUT }],
    wrt: [image],
    opset: prepared.opset,
    ruleOf: compositeRuleOf(options.composite, nodes, options),
    prefix: 'heatmap/back/',
  });
  if (backward.unreached.length > 0) throw new Error(`no differentiable path from the image to '${layer}'`);
  const atImage = backward.gradients.get(image)!;
  const tail: ReturnType<typeof onnx.NodeProto.create>[] = [
    options.composite === 'gradient'
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

  const read = new Set<string>();
  for (const node of nodes) for (const name of node.input ?? []) read.add(name);
  const initializers: TensorProto[] = [
    ...(graphOf(prepared.model).initializer ?? []).filter((t) => read.has(t.name ?? '')),
    ...(canonized?.initializers ?? []),
    ...emit.initializers,
    ...backward.initializers,
  ];
  const model = onnx.ModelProto.create({
    irVersion: EMITTED_IR_VERSION,
    producerName: 'pure-attribution',
    opsetImport: prepared.model.opsetImport,
    graph: {
      name: `heatmap ${layer} (${options.composite}, ${options.region})`,
      node: [...nodes, ...emit.nodes, ...backward.nodes, ...tail],
      initializer: initializers,
      input: [probedValueInfo(image, infoOf(prepared, image)), valueInfo(CHANNEL_INPUT, INT64, ['N'])],
      output: [
        probedValueInfo(HEAT_OUTPUT, infoOf(prepared, image)),
        valueInfo(SEED_TOTAL_OUTPUT, FLOAT, ['N']),
      ],
    },
  });
  return { model, inputName: image, channels };
}
