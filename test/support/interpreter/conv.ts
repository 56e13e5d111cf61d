/** Conv and ConvTranspose (1-D and 2-D spatial), direct loops accumulating in float64. */
import { attrInt, attrInts, attrString } from '../../../core/compute/onnx/attributes.js';
import { allocData, isFloat, type Tensor, tensor } from '../../../core/compute/onnx/tensor.js';
import { type Geometry, geometry, validRange } from './geometry.js';
import { fail, floatOut, type NodeProto, type NumberArray, type OpImpl, req } from './util.js';

/** A 1-D or 2-D geometry seen as 2-D (1-D gets a height of 1). */
interface Plane {
  H: number;
  W: number;
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  dH: number;
  dW: number;
  pT: number;
  pL: number;
  OH: number;
  OW: number;
}

export function plane(node: NodeProto, spatial: readonly number[], g: Geometry): Plane {
  if (spatial.length === 2) {
    return {
      H: spatial[0]!,
      W: spatial[1]!,
      kH: g.kernel[0]!,
      kW: g.kernel[1]!,
      sH: g.strides[0]!,
      sW: g.strides[1]!,
      dH: g.dilations[0]!,
      dW: g.dilations[1]!,
      pT: g.padBegin[0]!,
      pL: g.padBegin[1]!,
      OH: g.out[0]!,
      OW: g.out[1]!,
    };
  }
  if (spatial.length === 1) {
    return {
      H: 1,
      W: spatial[0]!,
      kH: 1,
      kW: g.kernel[0]!,
      sH: 1,
      sW: g.strides[0]!,
      dH: 1,
      dW: g.dilations[0]!,
      pT: 0,
      pL: g.padBegin[0]!,
      OH: 1,
      OW: g.out[0]!,
    };
  }
  fail(node, `only 1-D and 2-D spatial inputs are supported, got ${spatial.length}-D`);
}

function floatInputs(node: NodeProto, ts: readonly (Tensor | undefined)[]): void {
  for (const t of ts) if (t && !isFloat(t.dtype)) fail(node, `${t.dtype} input is not supported`);
}

const conv: OpImpl = (node, inputs, ctx) => {
  const x = req(node, inputs, 0);
  const w = req(node, inputs, 1);
  const b = inputs[2];
  floatInputs(node, [x, w, b]);
  const [N = 0, C = 0, ...spatial] = x.dims;
  const [M = 0, Cg = 0, ...wk] = w.dims;
  const group = attrInt(node, 'group', 1);
  if (Cg * group !== C || M % group !== 0) {
    fail(node, `weight [${w.dims}] with group ${group} does not fit input [${x.dims}]`);
  }
  const g = geometry(node, spatial, attrInts(node, 'kernel_shape', wk), 'conv');
  const p = plane(node, spatial, g);
  const { H, W, kH, kW, sH, sW, dH, dW, pT, pL, OH, OW } = p;
  const Mg = M / group;
  const X = x.data as NumberArray;
  const Wt = w.data as NumberArray;
  const dtype = floatOut(x.dtype, ctx);
  const out = allocData(dtype, N * M * OH * OW) as NumberArray;
  const acc = new Float64Array(OH * OW);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < M; oc++) {
      acc.fill(b ? Number(b.data[oc]) : 0);
      const grp = Math.floor(oc / Mg);
      for (let c = 0; c < Cg; c++) {
        const xBase = (n * C + grp * Cg + c) * H * W;
        const wBase = (oc * Cg + c) * kH * kW;
        for (let kh = 0; kh < kH; kh++) {
          const offH = kh * dH - pT;
          const [oh0, oh1] = validRange(offH, sH, H, OH);
          for (let kw = 0; kw < kW; kw++) {
            const wv = Wt[wBase + kh * kW + kw]!;
            if (wv === 0) continue;
            const offW = kw * dW - pL;
            const [ow0, ow1] = validRange(offW, sW, W, OW);
            for (let oh = oh0; oh < oh1; oh++) {
              const xRow = xBase + (oh * sH + offH) * W + offW;
              const aRow = oh * OW;
              for (let ow = ow0; ow < ow1; ow++) acc[aRow + ow]! += wv * X[xRow + ow * sW]!;
            }
          }
        }
      }
      out.set(acc, (n * M + oc) * OH * OW);
    }
  }
  return [tensor(dtype, [N, M, ...g.out], out)];
};

/**
 * ConvTranspose: weight [C, M/group, k...]; output size from pads and output_padding, or pads derived
 * from output_shape (SAME_UPPER puts the odd pad at the end, otherwise at the beginning, per the spec).
 */
const convTranspose: OpImpl = (node, inputs, ctx) => {
  const x = req(node, inputs, 0);
  const w = req(node, inputs, 1);
  const b = inputs[2];
  floatInputs(node, [x, w, b]);
  const [N = 0, C = 0, ...spatial] = x.dims;
  const [Cw = 0, Mg = 0, ...wk] = w.dims;
  const group = attrInt(node, 'group', 1);
  if (Cw !== C || C % group !== 0)
    fail(node, `weight [${w.dims}] with group ${group} does not fit input [${x.dims}]`);
  const r = spatial.length;
  const kernel = attrInts(node, 'kernel_shape', wk);
  const strides = attrInts(node, 'strides', new Array<number>(r).fill(1));
  const dilations = attrInts(node, 'dilations', new Array<number>(r).fill(1));
  const outPad = attrInts(node, 'output_padding', new Array<number>(r).fill(0));
  const pads = attrInts(node, 'pads', new Array<number>(2 * r).fill(0));
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let outShape = attrInts(node, 'output_shape', []);
  if (outShape.length === r + 2) outShape = outShape.slice(2);
  const padBegin = pads.slice(0, r);
  const padEnd = pads.slice(r);
  const outDims: number[] = [];
  for (let i = 0; i < r; i++) {
    const dk = (kernel[i]! - 1) * dilations[i]! + 1;
    const full = strides[i]! * (spatial[i]! - 1) + outPad[i]! + dk;
    let target = outShape[i];
    if (target === undefined && (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER')) {
      target = spatial[i]! * strides[i]!;
    }
    if (target !== undefined) {
      const total = full - target;
      const half = Math.floor(total / 2);
      padBegin[i] = autoPad === 'SAME_UPPER' ? half : total - half;
      padEnd[i] = total - padBegin[i]!;
    } else if (autoPad === 'VALID') {
      padBegin[i] = 0;
      padEnd[i] = 0;
    }
    outDims.push(full - padBegin[i]! - padEnd[i]!);
  }
  if (outDims.some((d) => d < 0)) fail(node, `negative output size [${outDims}]`);
  const g: Geometry = { kernel, strides, dilations, padBegin, padEnd, out: outDims };
  const { H, W, kH, kW, sH, sW, dH, dW, pT, pL, OH, OW } = plane(node, spatial, g);
  const Cg = C / group;
  const M = Mg * group;
  const X = x.data as NumberArray;
  const Wt = w.data as NumberArray;
  const dtype = floatOut(x.dtype, ctx);
  const out = allocData(dtype, N * M * OH * OW) as NumberArray;
  const acc = new Float64Array(M * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < M; oc++) acc.fill(b ? Number(b.data[oc]) : 0, oc * OH * OW, (oc + 1) * OH * OW);
    for (let ic = 0; ic < C; ic++) {
      const grp = Math.floor(ic / Cg);
      const xBase = (n * C + ic) * H * W;
      for (let m = 0; m < Mg; m++) {
        const oc = grp * Mg + m;
        const aBase = oc * OH * OW;
        const wBase = (ic * Mg + m) * kH * kW;
        for (let kh = 0; kh < kH; kh++) {
          const offH = kh * dH - pT;
          const [ih0, ih1] = validRange(offH, sH, OH, H);
          for (let kw = 0; kw < kW; kw++) {
            const wv = Wt[wBase + kh * kW + kw]!;
            if (wv === 0) continue;
            const offW = kw * dW - pL;
            const [iw0, iw1] = validRange(offW, sW, OW, W);
            for (let ih = ih0; ih < ih1; ih++) {
              const aRow = aBase + (ih * sH + offH) * OW + offW;
              const xRow = xBase + ih * W;
              for (let iw = iw0; iw < iw1; iw++) acc[aRow + iw * sW]! += wv * X[xRow + iw]!;
            }
          }
        }
      }
    }
    out.set(acc, n * M * OH * OW);
  }
  return [tensor(dtype, [N, M, ...outDims], out)];
};

export const convOps: Record<string, OpImpl> = { Conv: conv, ConvTranspose: convTranspose };
