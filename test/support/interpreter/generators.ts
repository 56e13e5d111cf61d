/** Ops that make tensors from attributes or scalars: Constant, ConstantOfShape, Range. */
import {
  attrFloat,
  attrFloats,
  attrInt,
  attrInts,
  attrTensor,
  hasAttr,
} from '../../../core/compute/onnx/attributes.js';
import { allocData, numel, tensor, toNumbers } from '../../../core/compute/onnx/tensor.js';
import { fail, gatherData, type OpImpl, req } from './util.js';

const constant: OpImpl = (node) => {
  const t = attrTensor(node, 'value');
  if (t) return [t];
  if (hasAttr(node, 'value_float')) return [tensor('float32', [], [attrFloat(node, 'value_float')])];
  if (hasAttr(node, 'value_floats')) {
    const v = attrFloats(node, 'value_floats');
    return [tensor('float32', [v.length], v)];
  }
  if (hasAttr(node, 'value_int')) return [tensor('int64', [], [attrInt(node, 'value_int')])];
  if (hasAttr(node, 'value_ints')) {
    const v = attrInts(node, 'value_ints');
    return [tensor('int64', [v.length], v)];
  }
  for (const a of ['value_string', 'value_strings', 'sparse_value']) {
    if (hasAttr(node, a)) fail(node, `attribute '${a}' is not supported (string and sparse tensors)`);
  }
  fail(node, 'has no value attribute');
};

const constantOfShape: OpImpl = (node, inputs) => {
  const dims = toNumbers(req(node, inputs, 0));
  const value = attrTensor(node, 'value') ?? tensor('float32', [1], [0]);
  if (value.data.length !== 1) fail(node, 'value must hold one element');
  return [tensor(value.dtype, dims, gatherData(value.data, new Int32Array(numel(dims))))];
};

/** Range(start, limit, delta): max(ceil((limit - start) / delta), 0) elements, accumulated in the dtype. */
const range: OpImpl = (node, inputs) => {
  const start = req(node, inputs, 0);
  const [s0] = toNumbers(start);
  const [limit] = toNumbers(req(node, inputs, 1));
  const [delta] = toNumbers(req(node, inputs, 2));
  if (s0 === undefined || limit === undefined || delta === undefined) fail(node, 'inputs must be scalars');
  if (delta === 0) fail(node, 'delta is 0');
  const n = Math.max(Math.ceil((limit - s0) / delta), 0);
  const out = allocData(start.dtype, n);
  if (out instanceof BigInt64Array) {
    const d = BigInt(delta);
    let v = BigInt(s0);
    for (let i = 0; i < n; i++, v += d) out[i] = v;
  } else {
    const round = start.dtype === 'float32' ? Math.fround : (v: number) => v;
    let v = s0;
    for (let i = 0; i < n; i++) {
      out[i] = v;
      v = round(v + delta);
    }
  }
  return [tensor(start.dtype, [n], out)];
};

export const generatorOps: Record<string, OpImpl> = {
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Range: range,
};
