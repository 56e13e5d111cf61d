/** Element-wise ops: unary math, numpy-broadcast binary arithmetic, comparisons, logic, Where, Clip, Cast. */
import { attrFloat, attrInt } from '../../../core/compute/onnx/attributes.js';
import {
  allocData,
  type DType,
  dtypeFromOnnx,
  isFloat,
  numel,
  type Tensor,
  tensor,
} from '../../../core/compute/onnx/tensor.js';
import {
  broadcastMap,
  broadcastShapes,
  fail,
  floatOut,
  type NodeProto,
  type NumberArray,
  type OpImpl,
  req,
} from './util.js';

// ---- unary ----

/** An element-wise unary op on numbers; `big` handles int64 (ops without it reject int64). */
function unary(f: (x: number) => number, opts: { ints?: boolean; big?: (x: bigint) => bigint } = {}): OpImpl {
  return (node, inputs, ctx) => {
    const x = req(node, inputs, 0);
    const src = x.data;
    if (src instanceof BigInt64Array) {
      if (!opts.big) fail(node, 'int64 input is not supported');
      const out = new BigInt64Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = opts.big(src[i]!);
      return [tensor('int64', x.dims, out)];
    }
    if (!isFloat(x.dtype) && !opts.ints) fail(node, `${x.dtype} input is not supported`);
    const dtype = floatOut(x.dtype, ctx);
    const out = allocData(dtype, src.length) as NumberArray;
    for (let i = 0; i < src.length; i++) out[i] = f(src[i]!);
    return [tensor(dtype, x.dims, out)];
  };
}

export function bigMax(x: bigint, y: bigint): bigint {
  if (x > y) return x;
  return y;
}

export function bigMin(x: bigint, y: bigint): bigint {
  if (x < y) return x;
  return y;
}

const bigAbs = (x: bigint): bigint => (x < 0n ? -x : x);
const bigSign = (x: bigint): bigint => (x > 0n ? 1n : x < 0n ? -1n : 0n);

export const unaryOps: Record<string, OpImpl> = {
  Relu: unary((x) => Math.max(x, 0), { ints: true, big: (x) => (x > 0n ? x : 0n) }),
  Sigmoid: unary((x) => 1 / (1 + Math.exp(-x))),
  Tanh: unary(Math.tanh),
  Exp: unary(Math.exp),
  Log: unary(Math.log),
  Sqrt: unary(Math.sqrt),
  Abs: unary(Math.abs, { ints: true, big: bigAbs }),
  Neg: unary((x) => -x, { ints: true, big: (x) => -x }),
  Sign: unary(Math.sign, { ints: true, big: bigSign }),
  Reciprocal: unary((x) => 1 / x),
  Floor: unary(Math.floor),
  Ceil: unary(Math.ceil),
  Erf: unary(erf),
  LeakyRelu: (node, inputs, ctx) => {
    const alpha = attrFloat(node, 'alpha', 0.01);
    return unary((x) => (x >= 0 ? x : alpha * x))(node, inputs, ctx);
  },
};

/** erf to ~1e-15 (series for small |x|, continued fraction via erfc otherwise). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * sum * (2 / Math.sqrt(Math.PI));
  }
  if (ax > 6) return Math.sign(x);
  // Lentz's continued fraction for erfc.
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const a = n / 2;
    d = ax + a * d;
    d = 1 / d;
    c = ax + a / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}

// ---- binary with broadcasting ----

interface Broadcast {
  readonly dims: number[];
  /** Index maps from output element to input element; null when the input already has the output dims. */
  readonly maps: (Int32Array | null)[];
}

function plan(node: NodeProto, ts: readonly Tensor[]): Broadcast {
  let dims: number[];
  try {
    dims = broadcastShapes(...ts.map((t) => t.dims));
  } catch (e) {
    fail(node, (e as Error).message);
  }
  const n = numel(dims);
  const maps = ts.map((t) =>
    t.dims.length === dims.length && t.data.length === n ? null : broadcastMap(t.dims, dims),
  );
  return { dims, maps };
}

function sameDtypes(node: NodeProto, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) fail(node, `input dtypes differ: ${a.dtype} and ${b.dtype}`);
}

/** out = f(a, b) element-wise with broadcasting; numbers in, numbers out (int64 through `big`). */
function zip(
  node: NodeProto,
  a: Tensor,
  b: Tensor,
  outDtype: DType,
  f: (x: number, y: number) => number,
  big?: (x: bigint, y: bigint) => bigint,
): Tensor {
  const { dims, maps } = plan(node, [a, b]);
  const [ma, mb] = maps;
  const n = numel(dims);
  const A = a.data;
  const B = b.data;
  if (A instanceof BigInt64Array || B instanceof BigInt64Array) {
    if (!big || !(A instanceof BigInt64Array) || !(B instanceof BigInt64Array) || outDtype !== 'int64') {
      fail(node, `int64 inputs are not supported here (${a.dtype}, ${b.dtype})`);
    }
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) out[i] = big(A[ma ? ma[i]! : i]!, B[mb ? mb[i]! : i]!);
    return tensor('int64', dims, out);
  }
  const out = allocData(outDtype, n) as NumberArray;
  if (!ma && !mb) for (let i = 0; i < n; i++) out[i] = f(A[i]!, B[i]!);
  else for (let i = 0; i < n; i++) out[i] = f(A[ma ? ma[i]! : i]!, B[mb ? mb[i]! : i]!);
  return tensor(outDtype, dims, out);
}

/** Arithmetic on two inputs of one dtype; integer results are truncated like C++ integer math. */
function arith(f: (x: number, y: number) => number, big: (x: bigint, y: bigint) => bigint): OpImpl {
  return (node, inputs, ctx) => {
    const a = req(node, inputs, 0);
    const b = req(node, inputs, 1);
    sameDtypes(node, a, b);
    const g = isFloat(a.dtype) ? f : (x: number, y: number) => Math.trunc(f(x, y));
    return [zip(node, a, b, floatOut(a.dtype, ctx), g, big)];
  };
}

/** Variadic Max / Min: folds pairwise with broadcasting. */
function variadic(f: (x: number, y: number) => number, big: (x: bigint, y: bigint) => bigint): OpImpl {
  return (node, inputs, ctx) => {
    const present = inputs.filter((t): t is Tensor => t !== undefined);
    if (present.length === 0) fail(node, 'needs at least one input');
    let acc = present[0]!;
    for (const t of present.slice(1)) {
      sameDtypes(node, acc, t);
      acc = zip(node, acc, t, floatOut(acc.dtype, ctx), f, big);
    }
    return [acc];
  };
}

const nanMax = (x: number, y: number): number =>
  Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : Math.max(x, y);
const nanMin = (x: number, y: number): number =>
  Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : Math.min(x, y);

/** Comparison to a bool tensor; int64 compared exactly. */
function compare(f: (x: number | bigint, y: number | bigint) => boolean): OpImpl {
  return (node, inputs) => {
    const a = req(node, inputs, 0);
    const b = req(node, inputs, 1);
    sameDtypes(node, a, b);
    const { dims, maps } = plan(node, [a, b]);
    const [ma, mb] = maps;
    const n = numel(dims);
    const out = new Uint8Array(n);
    const A = a.data;
    const B = b.data;
    for (let i = 0; i < n; i++) out[i] = f(A[ma ? ma[i]! : i]!, B[mb ? mb[i]! : i]!) ? 1 : 0;
    return [tensor('bool', dims, out)];
  };
}

function logic(f: (x: number, y: number) => number): OpImpl {
  return (node, inputs) => {
    const a = req(node, inputs, 0);
    const b = req(node, inputs, 1);
    if (a.dtype !== 'bool' || b.dtype !== 'bool') fail(node, `needs bool inputs, got ${a.dtype}, ${b.dtype}`);
    return [zip(node, a, b, 'bool', (x, y) => (f(x, y) ? 1 : 0))];
  };
}

/** Pow: base dtype out; the exponent may be of any numeric dtype. */
const pow: OpImpl = (node, inputs, ctx) => {
  const a = req(node, inputs, 0);
  let b = req(node, inputs, 1);
  if (b.data instanceof BigInt64Array) b = tensor('float64', b.dims, Float64Array.from(b.data, Number));
  if (a.data instanceof BigInt64Array) {
    const e = b;
    const base = tensor('float64', a.dims, Float64Array.from(a.data, Number));
    const r = zip(node, base, e, 'float64', (x, y) => Math.trunc(x ** y));
    return [
      tensor(
        'int64',
        r.dims,
        BigInt64Array.from(r.data as Float64Array, (v) => BigInt(v)),
      ),
    ];
  }
  const f = isFloat(a.dtype)
    ? (x: number, y: number) => x ** y
    : (x: number, y: number) => Math.trunc(x ** y);
  return [zip(node, a, b, floatOut(a.dtype, ctx), f)];
};

export const binaryOps: Record<string, OpImpl> = {
  Add: arith(
    (x, y) => x + y,
    (x, y) => x + y,
  ),
  Sub: arith(
    (x, y) => x - y,
    (x, y) => x - y,
  ),
  Mul: arith(
    (x, y) => x * y,
    (x, y) => x * y,
  ),
  Div: arith(
    (x, y) => x / y,
    (x, y) => x / y,
  ),
  Pow: pow,
  Max: variadic(nanMax, bigMax),
  Min: variadic(nanMin, bigMin),
  Greater: compare((x, y) => x > y),
  Less: compare((x, y) => x < y),
  GreaterOrEqual: compare((x, y) => x >= y),
  LessOrEqual: compare((x, y) => x <= y),
  Equal: compare((x, y) => x === y),
  And: logic((x, y) => x & y),
  Or: logic((x, y) => x | y),
  Xor: logic((x, y) => x ^ y),
};

// ---- the rest ----

const not: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  if (x.dtype !== 'bool') fail(node, `needs a bool input, got ${x.dtype}`);
  const src = x.data as Uint8Array;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] ? 0 : 1;
  return [tensor('bool', x.dims, out)];
};

const where: OpImpl = (node, inputs) => {
  const c = req(node, inputs, 0);
  const x = req(node, inputs, 1);
  const y = req(node, inputs, 2);
  sameDtypes(node, x, y);
  const { dims, maps } = plan(node, [c, x, y]);
  const [mc, mx, my] = maps;
  const n = numel(dims);
  const C = c.data;
  const X = x.data;
  const Y = y.data;
  const pick = new Int32Array(n); // source index, encoded: >= 0 from X, < 0 from Y as -(i+1)
  for (let i = 0; i < n; i++) {
    pick[i] = C[mc ? mc[i]! : i] ? (mx ? mx[i]! : i) : -((my ? my[i]! : i) + 1);
  }
  if (X instanceof BigInt64Array && Y instanceof BigInt64Array) {
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const p = pick[i]!;
      out[i] = p >= 0 ? X[p]! : Y[-p - 1]!;
    }
    return [tensor(x.dtype, dims, out)];
  }
  if (X instanceof BigInt64Array || Y instanceof BigInt64Array) fail(node, 'mixed int64 inputs');
  const out = allocData(x.dtype, n) as NumberArray;
  for (let i = 0; i < n; i++) {
    const p = pick[i]!;
    out[i] = p >= 0 ? X[p]! : Y[-p - 1]!;
  }
  return [tensor(x.dtype, dims, out)];
};

/** Clip: min / max as optional scalar inputs (opset >= 11), or attributes (older opsets). */
const clip: OpImpl = (node, inputs, ctx) => {
  const x = req(node, inputs, 0);
  const lo = inputs[1];
  const hi = inputs[2];
  const src = x.data;
  if (src instanceof BigInt64Array) {
    const l = lo ? (lo.data as BigInt64Array)[0]! : undefined;
    const h = hi ? (hi.data as BigInt64Array)[0]! : undefined;
    const out = new BigInt64Array(src.length);
    for (let i = 0; i < src.length; i++) {
      let v = src[i]!;
      if (l !== undefined && v < l) v = l;
      if (h !== undefined && v > h) v = h;
      out[i] = v;
    }
    return [tensor('int64', x.dims, out)];
  }
  const l = lo ? Number(lo.data[0]) : attrFloat(node, 'min', Number.NEGATIVE_INFINITY);
  const h = hi ? Number(hi.data[0]) : attrFloat(node, 'max', Number.POSITIVE_INFINITY);
  const dtype = floatOut(x.dtype, ctx);
  const out = allocData(dtype, src.length) as NumberArray;
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    out[i] = Math.min(Math.max(v, l), h);
  }
  return [tensor(dtype, x.dims, out)];
};

const INT64_MIN = -(2n ** 63n);

/** Cast with C++ conversion rules: float to int truncates, to bool is `!= 0`. */
export function castTensor(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  const src = x.data;
  const n = src.length;
  const out = allocData(to, n);
  if (out instanceof BigInt64Array) {
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (typeof v === 'bigint') out[i] = v;
      else out[i] = Number.isFinite(v) ? BigInt(Math.trunc(v)) : INT64_MIN;
    }
  } else if (to === 'bool') {
    for (let i = 0; i < n; i++) out[i] = src[i] ? 1 : 0;
  } else if (isFloat(to)) {
    for (let i = 0; i < n; i++) out[i] = Number(src[i]!);
  } else {
    const bits = to === 'int32' ? 32 : 8;
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      out[i] = typeof v === 'bigint' ? Number(BigInt.asIntN(bits, v)) : Math.trunc(v);
    }
  }
  return tensor(to, x.dims, out);
}

const cast: OpImpl = (node, inputs, ctx) => {
  const x = req(node, inputs, 0);
  let to: DType;
  try {
    to = dtypeFromOnnx(attrInt(node, 'to'));
  } catch (e) {
    fail(node, (e as Error).message);
  }
  return [castTensor(x, floatOut(to, ctx))];
};

/** BatchNormalization in inference mode: (x - mean) / sqrt(var + eps) * scale + B, per channel (axis 1). */
const batchNorm: OpImpl = (node, inputs, ctx) => {
  const x = req(node, inputs, 0);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => req(node, inputs, i));
  if (attrInt(node, 'training_mode', 0) !== 0)
    fail(node, 'training_mode=1 is not supported (inference only)');
  if (!isFloat(x.dtype)) fail(node, `${x.dtype} input is not supported`);
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const N = x.dims[0] ?? 1;
  const C = x.dims[1] ?? 1;
  const inner = numel(x.dims.slice(2));
  const src = x.data as NumberArray;
  const dtype = floatOut(x.dtype, ctx);
  const out = allocData(dtype, src.length) as NumberArray;
  for (let c = 0; c < C; c++) {
    const m = Number(mean!.data[c]);
    const k = Number(scale!.data[c]) / Math.sqrt(Number(variance!.data[c]) + eps);
    const b = Number(bias!.data[c]);
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * inner;
      for (let i = base; i < base + inner; i++) out[i] = (src[i]! - m) * k + b;
    }
  }
  return [tensor(dtype, x.dims, out)];
};

/** Softmax along one axis (opset 13 semantics, default axis -1). */
const softmax: OpImpl = (node, inputs, ctx) => {
  const x = req(node, inputs, 0);
  if (!isFloat(x.dtype)) fail(node, `${x.dtype} input is not supported`);
  const rank = x.dims.length;
  let axis = attrInt(node, 'axis', -1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) fail(node, `axis out of range for rank ${rank}`);
  const len = x.dims[axis]!;
  const inner = numel(x.dims.slice(axis + 1));
  const outer = numel(x.dims.slice(0, axis));
  const src = x.data as NumberArray;
  const dtype = floatOut(x.dtype, ctx);
  const out = allocData(dtype, src.length) as NumberArray;
  const tmp = new Float64Array(len);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * len * inner + j;
      let max = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < len; k++) max = Math.max(max, src[base + k * inner]!);
      let sum = 0;
      for (let k = 0; k < len; k++) {
        tmp[k] = Math.exp(src[base + k * inner]! - max);
        sum += tmp[k]!;
      }
      for (let k = 0; k < len; k++) out[base + k * inner] = tmp[k]! / sum;
    }
  }
  return [tensor(dtype, x.dims, out)];
};

export const otherElementwiseOps: Record<string, OpImpl> = {
  Not: not,
  Where: where,
  Clip: clip,
  Cast: cast,
  BatchNormalization: batchNorm,
  Softmax: softmax,
};
