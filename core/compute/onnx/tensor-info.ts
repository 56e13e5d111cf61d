/**
 * What the shape probe (core/adapters/onnxruntime/shapes.ts) learns about each tensor, as plain data:
 * graph building reads it without running anything.
 */
import { valueInfo } from './model.js';

/** A dimension: fixed, or `'N'` when it changes with the batch size. */
export type Dim = number | 'N';

export interface TensorInfo {
  /** ONNX element type (1 = float, 7 = int64, 9 = bool ...). */
  readonly elemType: number;
  readonly dims: readonly Dim[];
}

/** Static dims of a probed tensor, with the batch dimension given explicitly. */
export function concreteDims(info: TensorInfo, batch: number): number[] {
  return info.dims.map((d) => (d === 'N' ? batch : d));
}

/** A ValueInfo for a probed tensor with the batch dimension symbolic. */
export function probedValueInfo(name: string, info: TensorInfo): ReturnType<typeof valueInfo> {
  return valueInfo(
    name,
    info.elemType,
    info.dims.map((d) => (d === 'N' ? 'N' : d)),
  );
}
