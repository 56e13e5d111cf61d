/** Spatial geometry shared by Conv and the pools: kernel, strides, dilations, pads, output size. */
import { attrInt, attrInts, attrString } from '../../../core/compute/onnx/attributes.js';
import { fail, type NodeProto } from './util.js';

export interface Geometry {
  readonly kernel: number[];
  readonly strides: number[];
  readonly dilations: number[];
  /** Per spatial axis: padding before and after. */
  readonly padBegin: number[];
  readonly padEnd: number[];
  readonly out: number[];
}

/**
 * Conv / pool output geometry for spatial input dims `inDims`. `mode` decides the output size formula:
 * 'conv' floors; 'pool' floors or ceils by ceil_mode (a ceil-mode window that would start inside the
 * end padding is dropped, as onnxruntime and PyTorch do). SAME padding of pools ignores dilations, as
 * onnxruntime does.
 */
export function geometry(
  node: NodeProto,
  inDims: readonly number[],
  kernel: number[],
  mode: 'conv' | 'pool',
): Geometry {
  const r = inDims.length;
  if (kernel.length !== r) fail(node, `kernel has ${kernel.length} dims but the input has ${r} spatial dims`);
  const strides = attrInts(node, 'strides', new Array<number>(r).fill(1));
  const dilations = attrInts(node, 'dilations', new Array<number>(r).fill(1));
  const pads = attrInts(node, 'pads', new Array<number>(2 * r).fill(0));
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const ceil = mode === 'pool' && attrInt(node, 'ceil_mode', 0) === 1;
  if (strides.length !== r || dilations.length !== r || pads.length !== 2 * r) {
    fail(node, 'strides / dilations / pads do not match the number of spatial dims');
  }
  const padBegin = pads.slice(0, r);
  const padEnd = pads.slice(r);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const inSize = inDims[i]!;
    const s = strides[i]!;
    const dk = (kernel[i]! - 1) * dilations[i]! + 1;
    switch (autoPad) {
      case 'NOTSET':
        break;
      case 'VALID':
        padBegin[i] = 0;
        padEnd[i] = 0;
        break;
      case 'SAME_UPPER':
      case 'SAME_LOWER': {
        // onnxruntime pads pools for the undilated kernel (then sizes the output for the dilated one);
        // Conv pads for the dilated kernel, as the spec says (onnxruntime rejects dilated SAME Conv).
        const target = Math.ceil(inSize / s);
        const needed = Math.max(0, (target - 1) * s + (mode === 'pool' ? kernel[i]! : dk) - inSize);
        const small = Math.floor(needed / 2);
        padBegin[i] = autoPad === 'SAME_UPPER' ? small : needed - small;
        padEnd[i] = needed - padBegin[i]!;
        break;
      }
      default:
        fail(node, `unknown auto_pad '${autoPad}'`);
    }
    const span = inSize + padBegin[i]! + padEnd[i]! - dk;
    let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    if (ceil && (o - 1) * s >= inSize + padBegin[i]!) o--;
    if (o < 0) o = 0;
    out.push(o);
  }
  return { kernel, strides, dilations, padBegin, padEnd, out };
}

/** Range [lo, hi) of output positions o for which o*s + off lands inside [0, size). */
export function validRange(off: number, s: number, size: number, outSize: number): [number, number] {
  const lo = Math.max(0, Math.ceil(-off / s));
  const hi = Math.min(outSize, Math.floor((size - 1 - off) / s) + 1);
  return [lo, Math.max(lo, hi)];
}
