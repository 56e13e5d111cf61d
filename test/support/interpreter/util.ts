/** Shared helpers for the op implementations: shapes, strides, axes, index maps, broadcasting. */
import type onnxProto from 'onnx-proto';
import {
  allocData,
  type DType,
  numel,
  type Tensor,
  type TensorData,
  tensor,
  toNumbers,
} from '../../../core/compute/onnx/tensor.js';

export type NodeProto = onnxProto.onnx.INodeProto;

export interface OpContext {
  /** Compute float math in float64 (inputs were promoted; float outputs are float64). */
  readonly float64: boolean;
}

/** One op: the node, its inputs ('' inputs are undefined), the context; returns the node's outputs in order. */
export type OpImpl = (node: NodeProto, inputs: readonly (Tensor | undefined)[], ctx: OpContext) => Tensor[];

/** The typed arrays that hold plain numbers (every kind but int64). */
export type NumberArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array;

export function describe(node: NodeProto): string {
  return `node '${node.name ?? ''}' (${node.opType ?? '?'})`;
}

export function fail(node: NodeProto, message: string): never {
  throw new Error(`${describe(node)}: ${message}`);
}

/** The i-th input, which must be present. */
export function req(node: NodeProto, inputs: readonly (Tensor | undefined)[], i: number): Tensor {
  const t = inputs[i];
  if (t === undefined) fail(node, `missing required input ${i}`);
  return t;
}

export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

export function normAxis(node: NodeProto, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail(node, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

export function sameKind(src: TensorData, n: number): TensorData {
  if (src instanceof BigInt64Array) return new BigInt64Array(n);
  const Ctor = src.constructor as new (n: number) => NumberArray;
  return new Ctor(n);
}

/** out[i] = src[map[i]] (a map entry < 0 leaves the zero fill). */
export function gatherData(src: TensorData, map: Int32Array): TensorData {
  const n = map.length;
  if (src instanceof BigInt64Array) {
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const j = map[i]!;
      if (j >= 0) out[i] = src[j]!;
    }
    return out;
  }
  const out = sameKind(src, n) as NumberArray;
  for (let i = 0; i < n; i++) {
    const j = map[i]!;
    if (j >= 0) out[i] = src[j]!;
  }
  return out;
}

/** Copy `count` elements from src[srcOff..] into dst[dstOff..] (same kind of array). */
export function copyRange(
  dst: TensorData,
  dstOff: number,
  src: TensorData,
  srcOff: number,
  count: number,
): void {
  if (dst instanceof BigInt64Array) {
    if (!(src instanceof BigInt64Array)) throw new Error('copyRange: mixed int64 and number arrays');
    dst.set(src.subarray(srcOff, srcOff + count), dstOff);
  } else {
    if (src instanceof BigInt64Array) throw new Error('copyRange: mixed int64 and number arrays');
    dst.set(src.subarray(srcOff, srcOff + count), dstOff);
  }
}

/** An optional 1-D int input (axes, pads, ...) as numbers; undefined when absent. */
export function optInts(t: Tensor | undefined): number[] | undefined {
  return t === undefined ? undefined : toNumbers(t);
}

/** Output dims of numpy (multidirectional) broadcasting. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const off = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!;
      const o = out[off + i]!;
      if (d === o || d === 1) continue;
      if (o === 1) out[off + i] = d;
      else throw new Error(`shapes [${shapes.map((x) => x.join(',')).join('] [')}] are not broadcastable`);
    }
  }
  return out;
}

/**
 * For each element of `outDims` (row-major), the flat index of the element of a tensor of `inDims`
 * that broadcasts onto it.
 */
export function broadcastMap(inDims: readonly number[], outDims: readonly number[]): Int32Array {
  const off = outDims.length - inDims.length;
  const inStr = strides(inDims);
  const bstr = new Array<number>(outDims.length).fill(0);
  for (let i = 0; i < inDims.length; i++) bstr[off + i] = inDims[i] === 1 ? 0 : inStr[i]!;
  return stridedMap(outDims, bstr);
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The tensor broadcast to `dims` (returned as is when it already has them). */
export function broadcastTo(t: Tensor, dims: readonly number[]): Tensor {
  if (sameDims(t.dims, dims)) return t;
  if (!sameDims(broadcastShapes(t.dims, dims), dims)) {
    throw new Error(`[${t.dims.join(',')}] does not broadcast to [${dims.join(',')}]`);
  }
  return tensor(t.dtype, dims, gatherData(t.data, broadcastMap(t.dims, dims)));
}

/**
 * Sum a gradient of broadcast shape back to the shape `dims` of the input that was broadcast
 * (the adjoint of broadcasting). Float tensors only; the result has t's dtype.
 */
export function reduceToShape(t: Tensor, dims: readonly number[]): Tensor {
  if (sameDims(t.dims, dims)) return t;
  if (t.data instanceof BigInt64Array) throw new Error('reduceToShape: int64 tensors are not supported');
  const target = broadcastShapes(dims, t.dims);
  if (!sameDims(target, t.dims)) {
    throw new Error(`reduceToShape: [${dims.join(',')}] does not broadcast to [${t.dims.join(',')}]`);
  }
  const map = broadcastMap(dims, t.dims);
  const acc = new Float64Array(numel(dims));
  const src = t.data;
  for (let i = 0; i < map.length; i++) acc[map[i]!]! += src[i]!;
  const out = allocData(t.dtype, acc.length) as NumberArray;
  out.set(acc);
  return tensor(t.dtype, dims, out);
}

/** Output float dtype for float math on `dtype` (float64 mode promotes float32). */
export function floatOut(dtype: DType, ctx: OpContext): DType {
  return ctx.float64 && dtype === 'float32' ? 'float64' : dtype;
}

/**
 * Row-major index map for taking, along each axis d, input coordinate `axisMaps[d][j]` for output
 * coordinate j (an entry < 0 marks a position with no source, e.g. constant padding).
 */
export function axisMapsToIndex(inDims: readonly number[], axisMaps: readonly Int32Array[]): Int32Array {
  const outDims = axisMaps.map((m) => m.length);
  const n = numel(outDims);
  const map = new Int32Array(n);
  const rank = outDims.length;
  if (n === 0) return map;
  const inStr = strides(inDims);
  if (rank === 0) {
    map[0] = 0;
    return map;
  }
  // Recursive walk: offset accumulates per axis; -1 propagates.
  let pos = 0;
  const walk = (d: number, off: number): void => {
    const m = axisMaps[d]!;
    const s = inStr[d]!;
    if (d === rank - 1) {
      for (let j = 0; j < m.length; j++) {
        const k = m[j]!;
        map[pos++] = off < 0 || k < 0 ? -1 : off + k * s;
      }
      return;
    }
    for (let j = 0; j < m.length; j++) {
      const k = m[j]!;
      walk(d + 1, off < 0 || k < 0 ? -1 : off + k * s);
    }
  };
  walk(0, 0);
  return map;
}

/** map[i] = offset + sum_d coord_d(i) * srcStrides[d], for i over the row-major elements of outDims. */
export function stridedMap(
  outDims: readonly number[],
  srcStrides: readonly number[],
  offset = 0,
): Int32Array {
  const n = numel(outDims);
  const map = new Int32Array(n);
  if (n === 0) return map;
  const rank = outDims.length;
  const idx = new Array<number>(rank).fill(0);
  let src = offset;
  for (let i = 0; i < n; i++) {
    map[i] = src;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      src += srcStrides[d]!;
      if (idx[d]! < outDims[d]!) break;
      src -= srcStrides[d]! * idx[d]!;
      idx[d] = 0;
    }
  }
  return map;
}
