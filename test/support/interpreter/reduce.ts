/** Reductions over axes (ReduceSum, ReduceMean, ...) and ArgMax / ArgMin. */
import { attrInt, attrInts, hasAttr } from '../../../core/compute/onnx/attributes.js';
import { allocData, numel, tensor } from '../../../core/compute/onnx/tensor.js';
import {
  broadcastMap,
  fail,
  floatOut,
  type NumberArray,
  normAxis,
  type OpImpl,
  optInts,
  req,
} from './util.js';

interface Reducer {
  readonly init: number;
  readonly step: (acc: number, x: number) => number;
  readonly finish: (acc: number, count: number) => number;
}

const same = (acc: number): number => acc;

const reducers: Record<string, Reducer> = {
  ReduceSum: { init: 0, step: (a, x) => a + x, finish: same },
  ReduceMean: { init: 0, step: (a, x) => a + x, finish: (a, n) => a / n },
  ReduceMax: {
    init: Number.NEGATIVE_INFINITY,
    step: (a, x) => (x > a || Number.isNaN(x) ? x : a),
    finish: same,
  },
  ReduceMin: {
    init: Number.POSITIVE_INFINITY,
    step: (a, x) => (x < a || Number.isNaN(x) ? x : a),
    finish: same,
  },
  ReduceProd: { init: 1, step: (a, x) => a * x, finish: same },
  ReduceL1: { init: 0, step: (a, x) => a + Math.abs(x), finish: same },
  ReduceL2: { init: 0, step: (a, x) => a + x * x, finish: (a) => Math.sqrt(a) },
  ReduceSumSquare: { init: 0, step: (a, x) => a + x * x, finish: same },
};

/**
 * A reduction; axes come from the second input (ReduceSum since opset 13, all since opset 18) or the
 * `axes` attribute; no axes reduces everything unless noop_with_empty_axes. int64 data is reduced
 * through float64 (exact below 2^53).
 */
function reduce(r: Reducer): OpImpl {
  return (node, inputs, ctx) => {
    const x = req(node, inputs, 0);
    const rank = x.dims.length;
    const given = optInts(inputs[1]) ?? (hasAttr(node, 'axes') ? attrInts(node, 'axes') : []);
    if (given.length === 0 && attrInt(node, 'noop_with_empty_axes', 0) === 1) return [x];
    const axes = new Set(
      given.length === 0 ? [...Array(rank).keys()] : given.map((a) => normAxis(node, a, rank)),
    );
    const keepDims = x.dims.map((d, i) => (axes.has(i) ? 1 : d));
    const map = broadcastMap(keepDims, x.dims);
    const nOut = numel(keepDims);
    const acc = new Float64Array(nOut).fill(r.init);
    const src = x.data;
    if (src instanceof BigInt64Array)
      for (let i = 0; i < src.length; i++) acc[map[i]!] = r.step(acc[map[i]!]!, Number(src[i]!));
    else for (let i = 0; i < src.length; i++) acc[map[i]!] = r.step(acc[map[i]!]!, src[i]!);
    const count = nOut === 0 ? 0 : src.length / nOut;
    const dims = attrInt(node, 'keepdims', 1) === 1 ? keepDims : x.dims.filter((_, i) => !axes.has(i));
    const dtype = floatOut(x.dtype, ctx);
    const out = allocData(dtype, nOut);
    if (out instanceof BigInt64Array)
      for (let i = 0; i < nOut; i++) out[i] = BigInt(Math.trunc(r.finish(acc[i]!, count)));
    else for (let i = 0; i < nOut; i++) (out as NumberArray)[i] = r.finish(acc[i]!, count);
    return [tensor(dtype, dims, out)];
  };
}

/** ArgMax / ArgMin along one axis, int64 out; ties pick the first index unless select_last_index. */
function arg(better: (x: number, best: number) => boolean): OpImpl {
  return (node, inputs) => {
    const x = req(node, inputs, 0);
    const axis = normAxis(node, attrInt(node, 'axis', 0), x.dims.length);
    const last = attrInt(node, 'select_last_index', 0) === 1;
    const len = x.dims[axis]!;
    if (len === 0) fail(node, 'cannot take the arg of an empty axis');
    const outer = numel(x.dims.slice(0, axis));
    const inner = numel(x.dims.slice(axis + 1));
    const out = new BigInt64Array(outer * inner);
    const src = x.data;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * len * inner + j;
        let best = Number(src[base]!);
        let at = 0;
        for (let k = 1; k < len; k++) {
          const v = Number(src[base + k * inner]!);
          if (better(v, best) || (last && v === best)) {
            best = v;
            at = k;
          }
        }
        out[o * inner + j] = BigInt(at);
      }
    }
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const dims = keep ? x.dims.map((d, i) => (i === axis ? 1 : d)) : x.dims.filter((_, i) => i !== axis);
    return [tensor('int64', dims, out)];
  };
}

export const reduceOps: Record<string, OpImpl> = {
  ...Object.fromEntries(Object.entries(reducers).map(([op, r]) => [op, reduce(r)])),
  ArgMax: arg((x, best) => x > best),
  ArgMin: arg((x, best) => x < best),
};
