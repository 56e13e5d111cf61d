/** Index-driven ops: Gather, GatherElements, ScatterElements, ScatterND, OneHot. */
import { attrInt, attrString } from '../../../core/compute/onnx/attributes.js';
import { numel, type Tensor, type TensorData, tensor, toNumbers } from '../../../core/compute/onnx/tensor.js';
import { bigMax, bigMin } from './elementwise.js';
import { fail, gatherData, type NodeProto, normAxis, type OpImpl, req, strides } from './util.js';

/** An index value, wrapped when negative and checked against the axis length. */
function wrapIndex(node: NodeProto, i: number, len: number): number {
  const k = i < 0 ? i + len : i;
  if (!Number.isInteger(k) || k < 0 || k >= len)
    fail(node, `index ${i} out of range for axis of size ${len}`);
  return k;
}

const gather: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const ind = req(node, inputs, 1);
  const axis = normAxis(node, attrInt(node, 'axis', 0), x.dims.length);
  const len = x.dims[axis]!;
  const idx = toNumbers(ind).map((i) => wrapIndex(node, i, len));
  const outer = numel(x.dims.slice(0, axis));
  const inner = numel(x.dims.slice(axis + 1));
  const dims = [...x.dims.slice(0, axis), ...ind.dims, ...x.dims.slice(axis + 1)];
  const map = new Int32Array(outer * idx.length * inner);
  let p = 0;
  for (let o = 0; o < outer; o++) {
    for (const k of idx) {
      const base = (o * len + k) * inner;
      for (let j = 0; j < inner; j++) map[p++] = base + j;
    }
  }
  return [tensor(x.dtype, dims, gatherData(x.data, map))];
};

/**
 * For each element of `indices` (of dims `idxDims`), the flat position in a tensor of `dims` with the
 * coordinate on `axis` replaced by the index value.
 */
function elementTargets(node: NodeProto, dims: readonly number[], ind: Tensor, axis: number): Int32Array {
  const idx = toNumbers(ind);
  const s = strides(dims);
  const is = strides(ind.dims);
  const out = new Int32Array(idx.length);
  const r = dims.length;
  for (let i = 0; i < idx.length; i++) {
    let rem = i;
    let pos = 0;
    for (let d = 0; d < r; d++) {
      const c = Math.floor(rem / is[d]!);
      rem -= c * is[d]!;
      pos += (d === axis ? wrapIndex(node, idx[i]!, dims[d]!) : c) * s[d]!;
    }
    out[i] = pos;
  }
  return out;
}

const gatherElements: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const ind = req(node, inputs, 1);
  if (ind.dims.length !== x.dims.length) fail(node, 'data and indices ranks differ');
  const axis = normAxis(node, attrInt(node, 'axis', 0), x.dims.length);
  return [tensor(x.dtype, ind.dims, gatherData(x.data, elementTargets(node, x.dims, ind, axis)))];
};

type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';

function reductionOf(node: NodeProto): Reduction {
  const r = attrString(node, 'reduction', 'none');
  if (r === 'none' || r === 'add' || r === 'mul' || r === 'max' || r === 'min') return r;
  fail(node, `unknown reduction '${r}'`);
}

function combineNumbers(red: Reduction): (old: number, v: number) => number {
  switch (red) {
    case 'none':
      return (_old, v) => v;
    case 'add':
      return (old, v) => old + v;
    case 'mul':
      return (old, v) => old * v;
    case 'max':
      return Math.max;
    case 'min':
      return Math.min;
    default: {
      const never: never = red;
      throw new Error(`unknown reduction ${String(never)}`);
    }
  }
}

function combineBigInts(red: Reduction): (old: bigint, v: bigint) => bigint {
  switch (red) {
    case 'none':
      return (_old, v) => v;
    case 'add':
      return (old, v) => old + v;
    case 'mul':
      return (old, v) => old * v;
    case 'max':
      return bigMax;
    case 'min':
      return bigMin;
    default: {
      const never: never = red;
      throw new Error(`unknown reduction ${String(never)}`);
    }
  }
}

/** dst[targets[i] + j] = combine(dst[targets[i] + j], src[i * block + j]) for j < block. */
function scatterInto(
  node: NodeProto,
  dst: TensorData,
  src: TensorData,
  targets: Int32Array,
  block: number,
  red: Reduction,
): void {
  if (dst instanceof BigInt64Array) {
    if (!(src instanceof BigInt64Array)) fail(node, 'data and updates dtypes differ');
    const combine = combineBigInts(red);
    for (let i = 0; i < targets.length; i++) {
      for (let j = 0; j < block; j++)
        dst[targets[i]! + j] = combine(dst[targets[i]! + j]!, src[i * block + j]!);
    }
    return;
  }
  if (src instanceof BigInt64Array) fail(node, 'data and updates dtypes differ');
  const combine = combineNumbers(red);
  for (let i = 0; i < targets.length; i++) {
    for (let j = 0; j < block; j++)
      dst[targets[i]! + j] = combine(dst[targets[i]! + j]!, src[i * block + j]!);
  }
}

function copyOf(t: Tensor): TensorData {
  return t.data.slice();
}

const scatterElements: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const ind = req(node, inputs, 1);
  const upd = req(node, inputs, 2);
  if (upd.dtype !== x.dtype) fail(node, 'data and updates dtypes differ');
  if (ind.dims.join() !== upd.dims.join()) fail(node, 'indices and updates shapes differ');
  const axis = normAxis(node, attrInt(node, 'axis', 0), x.dims.length);
  const out = copyOf(x);
  scatterInto(node, out, upd.data, elementTargets(node, x.dims, ind, axis), 1, reductionOf(node));
  return [tensor(x.dtype, x.dims, out)];
};

const scatterND: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const ind = req(node, inputs, 1);
  const upd = req(node, inputs, 2);
  if (upd.dtype !== x.dtype) fail(node, 'data and updates dtypes differ');
  const k = ind.dims[ind.dims.length - 1] ?? fail(node, 'indices must have rank >= 1');
  if (k > x.dims.length) fail(node, 'indices last dim exceeds data rank');
  const idx = toNumbers(ind);
  const s = strides(x.dims);
  const block = numel(x.dims.slice(k));
  const count = idx.length / Math.max(k, 1);
  const targets = new Int32Array(k === 0 ? 1 : count);
  for (let i = 0; i < targets.length; i++) {
    let pos = 0;
    for (let d = 0; d < k; d++) pos += wrapIndex(node, idx[i * k + d]!, x.dims[d]!) * s[d]!;
    targets[i] = pos;
  }
  if (targets.length * block !== upd.data.length) fail(node, `updates [${upd.dims}] do not fit`);
  const out = copyOf(x);
  scatterInto(node, out, upd.data, targets, block, reductionOf(node));
  return [tensor(x.dtype, x.dims, out)];
};

/** OneHot(indices, depth, values=[off, on]); negative indices count from depth, others out of range stay off. */
const oneHot: OpImpl = (node, inputs) => {
  const ind = req(node, inputs, 0);
  const depth = Math.trunc(toNumbers(req(node, inputs, 1))[0] ?? fail(node, 'empty depth'));
  const values = req(node, inputs, 2);
  if (values.data.length !== 2) fail(node, 'values must hold [off, on]');
  const r = ind.dims.length + 1;
  const axis = normAxis(node, attrInt(node, 'axis', -1), r);
  const outer = numel(ind.dims.slice(0, axis));
  const inner = numel(ind.dims.slice(axis));
  const dims = [...ind.dims.slice(0, axis), depth, ...ind.dims.slice(axis)];
  const idx = toNumbers(ind);
  // map: 0 picks `off`, 1 picks `on` from values.
  const pick = new Int32Array(numel(dims));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let k = Math.trunc(idx[o * inner + j]!);
      if (k < 0) k += depth;
      if (k >= 0 && k < depth) pick[(o * depth + k) * inner + j] = 1;
    }
  }
  const out = gatherData(values.data, pick);
  return [tensor(values.dtype, dims, out)];
};

export const indexingOps: Record<string, OpImpl> = {
  Gather: gather,
  GatherElements: gatherElements,
  ScatterElements: scatterElements,
  ScatterND: scatterND,
  OneHot: oneHot,
};
