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
  /**
   * The axis that is the batch itself (size 1 at batch 1, 2 at batch 2, every other axis fixed), when
   * there is one. An `'N'` axis is not always that: an attention export's [B * heads, T, d] follows the
   * batch too. Rows of a tensor with a batch axis belong to one image each, so they can be gathered.
   */
  readonly batchAxis?: number;
}

/** The batch axis of a tensor seen at batch 1 (`one`) and batch 2 (`two`), if it has one. */
export function batchAxisOf(one: readonly number[], two: readonly number[]): number | undefined {
  if (one.length !== two.length) return undefined;
  const differing = one.flatMap((d, k) => (d === two[k] ? [] : [k]));
  if (differing.length !== 1) return undefined;
  const axis = differing[0]!;
  return one[axis] === 1 && two[axis] === 2 ? axis : undefined;
}

/** Static dims of a probed tensor, with the batch dimension given explicitly. */
export function concreteDims(info: TensorInfo, batch: number): number[] {
  return info.dims.map((d) => (d === 'N' ? batch : d));
}

/** A ValueInfo for a probed tensor with the batch dimension symbolic. */
export function probedValueInfo(
  name: string,
  info: TensorInfo,
  batchName = 'N',
): ReturnType<typeof valueInfo> {
  return valueInfo(
    name,
    info.elemType,
    info.dims.map((d) => (d === 'N' ? batchName : d)),
  );
}
