/**
 * A model made ready for attribution (core/adapters/onnxruntime/prepare.ts builds it): the data that
 * graph building reads, and the two things every built model takes from it (the initializers its
 * forward nodes read, and the model header).
 */
import {
  type GraphIndex,
  type GraphProto,
  graphOf,
  type ModelProto,
  type NodeProto,
  onnx,
  type TensorProto,
} from '../onnx/model.js';
import { EMITTED_IR_VERSION } from '../onnx/opset.js';
import type { TensorInfo } from '../onnx/tensor-info.js';

export interface PreparedModel {
  readonly model: ModelProto;
  readonly index: GraphIndex;
  readonly info: ReadonlyMap<string, TensorInfo>;
  readonly opset: number;
  /** Tensors whose values depend on the image. */
  readonly dependent: ReadonlySet<string>;
  /** The image input's name. */
  readonly inputName: string;
  /** How many constant nodes folding removed. */
  readonly foldedNodes: number;
}

/** A probed tensor's info, or an error naming it. */
export function infoOf(prepared: PreparedModel, name: string): TensorInfo {
  const info = prepared.info.get(name);
  if (!info) throw new Error(`no shape known for tensor '${name}'`);
  return info;
}

/** The prepared model's initializers that `nodes` read, in the model's order. */
export function initializersReadBy(prepared: PreparedModel, nodes: readonly NodeProto[]): TensorProto[] {
  const read = new Set<string>();
  for (const node of nodes) for (const name of node.input ?? []) read.add(name);
  return (graphOf(prepared.model).initializer ?? []).filter((t) => read.has(t.name ?? ''));
}

/** A built graph as a model: the IR version we emit and the prepared model's operator sets. */
export function attributionModel(prepared: PreparedModel, graph: GraphProto): ModelProto {
  return onnx.ModelProto.create({
    irVersion: EMITTED_IR_VERSION,
    producerName: 'pure-attribution',
    opsetImport: prepared.model.opsetImport,
    graph,
  });
}
