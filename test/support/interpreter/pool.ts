/** MaxPool, AveragePool (1-D and 2-D spatial), GlobalAveragePool, GlobalMaxPool. */
import { attrInt, attrInts } from '../../../core/compute/onnx/attributes.js';
import { allocData, numel, tensor } from '../../../core/compute/onnx/tensor.js';
import { plane } from './conv.js';
import { geometry, validRange } from './geometry.js';
import { fail, floatOut, type NumberArray, type OpImpl, req } from './util.js';

/**
 * MaxPool; the optional second output holds, per output element, the flat index of the max in the
 * whole input (N*C*H*W; storage_order 1 counts the spatial part column-major). Ties keep the first.
 */
const maxPool: OpImpl = (node, inputs, ctx) => {
  const x = req(node, inputs, 0);
  if (x.data instanceof BigInt64Array) fail(node, 'int64 input is not supported');
  const [N = 0, C = 0, ...spatial] = x.dims;
  const g = geometry(node, spatial, attrInts(node, 'kernel_shape'), 'pool');
  const { H, W, kH, kW, sH, sW, dH, dW, pT, pL, OH, OW } = plane(node, spatial, g);
  const colMajor = attrInt(node, 'storage_order', 0) === 1;
  const X = x.data;
  const dtype = floatOut(x.dtype, ctx);
  const out = allocData(dtype, N * C * OH * OW) as NumberArray;
  const wantIndices = (node.output?.length ?? 0) > 1 && node.output![1] !== '';
  const idx = wantIndices ? new BigInt64Array(out.length) : undefined;
  let o = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const [kh0, kh1] = validRange(oh * sH - pT, dH, H, kH);
      for (let ow = 0; ow < OW; ow++) {
        const [kw0, kw1] = validRange(ow * sW - pL, dW, W, kW);
        let best = Number.NEGATIVE_INFINITY;
        let at = -1;
        for (let kh = kh0; kh < kh1; kh++) {
          const ih = oh * sH - pT + kh * dH;
          for (let kw = kw0; kw < kw1; kw++) {
            const iw = ow * sW - pL + kw * dW;
            const v = X[base + ih * W + iw]!;
            if (v > best || at < 0) {
              best = v;
              at = colMajor ? base + iw * H + ih : base + ih * W + iw;
            }
          }
        }
        out[o] = best;
        if (idx) idx[o] = BigInt(at);
        o++;
      }
    }
  }
  const dims = [N, C, ...g.out];
  const y = tensor(dtype, dims, out);
  return idx ? [y, tensor('int64', dims, idx)] : [y];
};

/**
 * AveragePool. With count_include_pad the divisor counts the window clipped to the padded input
 * (so ceil-mode windows past the end padding do not count the overhang), as onnxruntime does.
 */
const averagePool: OpImpl = (node, inputs, ctx) => {
  const x = req(node, inputs, 0);
  if (x.data instanceof BigInt64Array) fail(node, 'int64 input is not supported');
  const [N = 0, C = 0, ...spatial] = x.dims;
  const g = geometry(node, spatial, attrInts(node, 'kernel_shape'), 'pool');
  if (g.dilations.some((d) => d !== 1)) fail(node, 'dilations are not supported for AveragePool');
  const { H, W, kH, kW, sH, sW, pT, pL, OH, OW } = plane(node, spatial, g);
  const is2d = spatial.length === 2;
  const padB = is2d ? g.padEnd[0]! : 0;
  const padR = g.padEnd[is2d ? 1 : 0]!;
  const includePad = attrInt(node, 'count_include_pad', 0) === 1;
  const X = x.data;
  const dtype = floatOut(x.dtype, ctx);
  const out = allocData(dtype, N * C * OH * OW) as NumberArray;
  let o = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const hs = oh * sH - pT;
      const he = Math.min(hs + kH, H + padB);
      const h0 = Math.max(hs, 0);
      const h1 = Math.min(he, H);
      for (let ow = 0; ow < OW; ow++) {
        const ws = ow * sW - pL;
        const we = Math.min(ws + kW, W + padR);
        const w0 = Math.max(ws, 0);
        const w1 = Math.min(we, W);
        let sum = 0;
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) sum += X[base + ih * W + iw]!;
        const count = includePad ? (he - hs) * (we - ws) : (h1 - h0) * (w1 - w0);
        out[o++] = sum / count;
      }
    }
  }
  return [tensor(dtype, [N, C, ...g.out], out)];
};

function globalPool(kind: 'avg' | 'max'): OpImpl {
  return (node, inputs, ctx) => {
    const x = req(node, inputs, 0);
    if (x.data instanceof BigInt64Array) fail(node, 'int64 input is not supported');
    const [N = 0, C = 0, ...spatial] = x.dims;
    const inner = numel(spatial);
    const X = x.data;
    const dtype = floatOut(x.dtype, ctx);
    const out = allocData(dtype, N * C) as NumberArray;
    for (let nc = 0; nc < N * C; nc++) {
      let acc = kind === 'avg' ? 0 : Number.NEGATIVE_INFINITY;
      const base = nc * inner;
      if (kind === 'avg') for (let i = base; i < base + inner; i++) acc += X[i]!;
      else for (let i = base; i < base + inner; i++) acc = Math.max(acc, X[i]!);
      out[nc] = kind === 'avg' ? acc / inner : acc;
    }
    return [tensor(dtype, [N, C, ...spatial.map(() => 1)], out)];
  };
}

export const poolOps: Record<string, OpImpl> = {
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
};
