/**
 * A model made ready for attribution (core/adapters/onnxruntime/prepare.ts builds it): the data that
 * graph building reads.
 */
import type { GraphIndex, ModelProto } from '../onnx/model.js';
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
