/** LayerNormalization and the activations of transformers and mobile CNNs: HardSigmoid, HardSwish, Gelu. */
import { attrFloat, attrInt, attrString } from '../../../core/compute/onnx/attributes.js';
import { allocData, isFloat, numel, tensor } from '../../../core/compute/onnx/tensor.js';
import { erf } from './elementwise.js';
import { broadcastTo, fail, floatOut, type NumberArray, normAxis, type OpImpl, req } from './util.js';

/** y = max(0, min(1, alpha x + beta)) (defaults alpha 0.2, beta 0.5). */
const hardSigmoid: OpImpl = (node, inputs, ctx) => {
  const x = req(node, inputs, 0);
  if (!isFloat(x.dtype)) fail(node, `${x.dtype} input is not supported`);
  const alpha = attrFloat(node, 'alpha', 0.2);
  const beta = attrFloat(node, 'beta', 0.5);
  const dtype = floatOut(x.dtype, ctx);
  const src = x.data as NumberArray;
  const out = allocData(dtype, src.length) as NumberArray;
  for (let i = 0; i < src.length; i++) out[i] = Math.max(0, Math.min(1, alpha * src[i]! + beta));
  return [tensor(dtype, x.dims, out)];
};

/** y = x max(0, min(1, x / 6 + 1/2)). */
const hardSwish: OpImpl = (node, inputs, ctx) => {
  const x = req(node, inputs, 0);
  if (!isFloat(x.dtype)) fail(node, `${x.dtype} input is not supported`);
  const dtype = floatOut(x.dtype, ctx);
  const src = x.data as NumberArray;
  const out = allocData(dtype, src.length) as NumberArray;
  for (let i = 0; i < src.length; i++) out[i] = src[i]! * Math.max(0, Math.min(1, src[i]! / 6 + 0.5));
  return [tensor(dtype, x.dims, out)];
};

/** Gelu (opset 20): x Phi(x), or with approximate='tanh' x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2. */
const gelu: OpImpl = (node, inputs, ctx) => {
  const x = req(node, inputs, 0);
  if (!isFloat(x.dtype)) fail(node, `${x.dtype} input is not supported`);
  const tanh = attrString(node, 'approximate', 'none') === 'tanh';
  const c = Math.sqrt(2 / Math.PI);
  const f = tanh
    ? (v: number) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3)))
    : (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
  const dtype = floatOut(x.dtype, ctx);
  const src = x.data as NumberArray;
  const out = allocData(dtype, src.length) as NumberArray;
  for (let i = 0; i < src.length; i++) out[i] = f(src[i]!);
  return [tensor(dtype, x.dims, out)];
};

/**
 * LayerNormalization (opset 17): each group of the trailing axes from `axis` normalised to mean 0 and
 * variance 1 (biased), times Scale plus B (broadcast over those axes); optional Mean and InvStdDev.
 */
const layerNormalization: OpImpl = (node, inputs, ctx) => {
  const x = req(node, inputs, 0);
  if (!isFloat(x.dtype)) fail(node, `${x.dtype} input is not supported`);
  const rank = x.dims.length;
  const axis = normAxis(node, attrInt(node, 'axis', -1), rank);
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const inner = x.dims.slice(axis);
  const n = numel(inner);
  const groups = numel(x.dims.slice(0, axis));
  const scale = broadcastTo(req(node, inputs, 1), inner).data as NumberArray;
  const bias = inputs[2] ? (broadcastTo(inputs[2], inner).data as NumberArray) : undefined;
  const dtype = floatOut(x.dtype, ctx);
  const src = x.data as NumberArray;
  const out = allocData(dtype, src.length) as NumberArray;
  const means = allocData(dtype, groups) as NumberArray;
  const inverse = allocData(dtype, groups) as NumberArray;
  for (let g = 0; g < groups; g++) {
    const base = g * n;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += src[base + i]!;
    mean /= n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (src[base + i]! - mean) ** 2;
    const r = 1 / Math.sqrt(variance / n + eps);
    for (let i = 0; i < n; i++)
      out[base + i] = (src[base + i]! - mean) * r * scale[i]! + (bias ? bias[i]! : 0);
    means[g] = mean;
    inverse[g] = r;
  }
  const statDims = [...x.dims.slice(0, axis), ...inner.map(() => 1)];
  const outs = [tensor(dtype, x.dims, out), tensor(dtype, statDims, means), tensor(dtype, statDims, inverse)];
  return outs.slice(0, Math.max(1, node.output?.length ?? 1));
};

export const normalizeOps: Record<string, OpImpl> = {
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Gelu: gelu,
  LayerNormalization: layerNormalization,
};
