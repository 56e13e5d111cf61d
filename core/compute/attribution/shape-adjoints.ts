/**
 * Adjoints of the ops that move, select or reduce elements without arithmetic on them (Reshape,
 * Transpose, Slice, Pad, the reductions, MatMul's operand transposes) for the rule table
 * (rules.ts), kept out of it so that the table reads as one entry per op; and the readers of a
 * node's rank, axes and constant inputs that they, the table and the window adjoints use.
 */

import { attrInt, attrInts, attrString } from '../onnx/attributes.js';
import { toNumbers } from '../onnx/tensor.js';
import { FLOAT } from './emitter.js';
import type { AdjointContext, Formula } from './rules.js';

// ---------------------------------------------------------------------------------------------
// Readers of the forward node.

export function rankOf(ctx: AdjointContext, name: string): number {
  return ctx.dims(name).length;
}

/** An ONNX axis attribute or input, negative counting from the end, as a non-negative axis. */
export function normaliseAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/**
 * The integer values of constant input k (starts, ends, axes, pads...), undefined when the input is
 * absent. Adjoints built at graph-construction time need them fixed; a computed one is an error.
 */
export function constantInts(ctx: AdjointContext, k: number, what: string): number[] | undefined {
  if (!ctx.hasInput(k)) return undefined;
  const value = ctx.constant(ctx.input(k));
  if (!value) throw ctx.fail(`${what} (input ${k}) must be a constant to differentiate`);
  return toNumbers(value);
}

/** [0, 1, ..., rank - 1]: every axis, or the identity permutation. */
function allAxes(rank: number): number[] {
  return Array.from({ length: rank }, (_, a) => a);
}

/** The permutation that swaps axes `a` and `b` (its own inverse). */
function swapAxesPerm(rank: number, a: number, b: number): number[] {
  const perm = allAxes(rank);
  perm[a] = b;
  perm[b] = a;
  return perm;
}

// ---------------------------------------------------------------------------------------------
// Reshapes and transposes.

/** Gradient reshaped back to the forward input's run-time shape (Reshape, Flatten, Squeeze...). */
export const reshapeBack: Formula = (ctx) =>
  ctx.emit.op('Reshape', [ctx.gradOutput(), ctx.emit.op('Shape', [ctx.input(0)])]);

/** Swap the last two axes (MatMul's transpose). */
export function swapLastTwo(ctx: AdjointContext, name: string, rank: number): string {
  return ctx.emit.op('Transpose', [name], { perm: swapAxesPerm(rank, rank - 1, rank - 2) });
}

/** The ranks of MatMul's operands; a 1-D operand (a vector product) is not handled by its adjoints. */
export function matMulRanks(ctx: AdjointContext): [number, number] {
  const [ra, rb] = [rankOf(ctx, ctx.input(0)), rankOf(ctx, ctx.input(1))];
  if (ra < 2 || rb < 2) throw ctx.fail('MatMul with a 1-D operand has no adjoint here');
  return [ra, rb];
}

/** The inverse of a Transpose's permutation (default: reversed axes) applied to the gradient. */
export const transposeBack: Formula = (ctx) => {
  const rank = rankOf(ctx, ctx.input(0));
  const perm = attrInts(ctx.node, 'perm', allAxes(rank).reverse());
  const inverse = new Array<number>(rank);
  perm.forEach((p, a) => {
    inverse[p] = a;
  });
  return ctx.emit.op('Transpose', [ctx.gradOutput()], { perm: inverse });
};

// ---------------------------------------------------------------------------------------------
// Selections (Slice, Pad): the transpose of picking elements is putting them back among zeros.

/** Indices an ONNX Slice takes along one axis of size `size`. */
export function sliceIndices(start: number, end: number, step: number, size: number): number[] {
  if (step === 0) throw new Error('Slice step 0');
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const s = start < 0 ? start + size : start;
  const e = end < 0 ? end + size : end;
  const out: number[] = [];
  if (step > 0) {
    for (let i = clamp(s, 0, size); i < clamp(e, 0, size); i += step) out.push(i);
  } else {
    for (let i = clamp(s, 0, size - 1); i > clamp(e, -1, size - 1); i += step) out.push(i);
  }
  return out;
}

/**
 * `grad` (length `rows` along `axis`) times a constant [rows, cols] matrix along that axis: the
 * transpose of a fixed linear map along one axis (out[j] = sum_i M[j, i] in[i]) applied to a gradient.
 * Selections, reflect/edge padding and resize interpolation are such maps.
 */
export function applyAlongAxis(
  ctx: AdjointContext,
  grad: string,
  rank: number,
  axis: number,
  matrix: Float32Array,
  rows: number,
): string {
  const m = ctx.emit.float(matrix, [rows, matrix.length / rows]);
  if (axis === rank - 1) return ctx.emit.op('MatMul', [grad, m]);
  const perm = swapAxesPerm(rank, axis, rank - 1);
  const moved = ctx.emit.op('Transpose', [grad], { perm });
  return ctx.emit.op('Transpose', [ctx.emit.op('MatMul', [moved, m])], { perm });
}

/**
 * The transpose of reading input position `sources[j]` into output position j along `axis` (of input
 * length `size`; -1 reads nothing): the 0/1 matrix with a one at (j, sources[j]). Repeated sources
 * (reflect and edge padding) sum their gradients.
 */
function gatherMatrix(sources: readonly number[], size: number): Float32Array {
  const matrix = new Float32Array(sources.length * size);
  sources.forEach((v, j) => {
    if (v >= 0) matrix[j * size + v] = 1;
  });
  return matrix;
}

/**
 * The transpose of selecting `indices` along `axis` (of length `size`): contiguous ascending runs
 * become padding; anything else (steps, reversal) a product with the 0/1 selection matrix.
 */
function scatterAlongAxis(
  ctx: AdjointContext,
  grad: string,
  rank: number,
  axis: number,
  indices: readonly number[],
  size: number,
): { grad: string; pads?: [number, number] } {
  const first = indices[0]!;
  const contiguous = indices.every((v, i) => v === first + i);
  if (contiguous) return { grad, pads: [first, size - first - indices.length] };
  return { grad: applyAlongAxis(ctx, grad, rank, axis, gatherMatrix(indices, size), indices.length) };
}

/** Zero-pad `grad` by [begin, end] along each listed axis; one Pad node, none when all are zero. */
function padAxes(
  ctx: AdjointContext,
  grad: string,
  rank: number,
  perAxis: ReadonlyMap<number, [number, number]>,
) {
  if ([...perAxis.values()].every(([b, e]) => b === 0 && e === 0)) return grad;
  const pads = new Array<number>(2 * rank).fill(0);
  for (const [axis, [b, e]] of perAxis) {
    pads[axis] = b;
    pads[axis + rank] = e;
  }
  return ctx.emit.op('Pad', [grad, ctx.emit.int64(pads)], { mode: 'constant' });
}

/** Slice's transpose for constant starts, ends and steps: each sliced axis scattered back (padding or a selection matrix). */
export const constantSliceBack: Formula = (ctx) => {
  const data = ctx.input(0);
  const rank = rankOf(ctx, data);
  const starts = constantInts(ctx, 1, 'starts')!;
  const ends = constantInts(ctx, 2, 'ends')!;
  const axes = constantInts(ctx, 3, 'axes') ?? starts.map((_, i) => i);
  const steps = constantInts(ctx, 4, 'steps') ?? starts.map(() => 1);
  let grad = ctx.gradOutput();
  const pads = new Map<number, [number, number]>();
  axes.forEach((rawAxis, i) => {
    const axis = normaliseAxis(rawAxis, rank);
    const dim = ctx.dims(data)[axis];
    if (dim === 'N') {
      const whole = starts[i] === 0 && steps[i] === 1 && ends[i]! >= 2 ** 31 - 1;
      if (whole) return;
      throw ctx.fail(`slicing the batch axis ${axis} has no adjoint here`);
    }
    const indices = sliceIndices(starts[i]!, ends[i]!, steps[i]!, dim!);
    if (indices.length === 0) throw ctx.fail(`Slice selects nothing along axis ${axis}`);
    const step = scatterAlongAxis(ctx, grad, rank, axis, indices, dim!);
    grad = step.grad;
    if (step.pads) pads.set(axis, step.pads);
  });
  return padAxes(ctx, grad, rank, pads);
};

/** Pad's constant pads per padded axis: [begin, end], negative values crop. */
function padsPerAxis(ctx: AdjointContext, rank: number): Map<number, [number, number]> {
  const raw = constantInts(ctx, 1, 'pads')!;
  const axes = (constantInts(ctx, 3, 'axes') ?? allAxes(rank)).map((a) => normaliseAxis(a, rank));
  const perAxis = new Map<number, [number, number]>();
  axes.forEach((axis, i) => {
    const pads: [number, number] = [raw[i]!, raw[i + axes.length]!];
    if (pads[0] === 0 && pads[1] === 0) return;
    if (ctx.dims(ctx.input(0))[axis] === 'N')
      throw ctx.fail(`padding the batch axis ${axis} has no adjoint here`);
    perAxis.set(axis, pads);
  });
  return perAxis;
}

/**
 * Pad's transpose. Constant mode: positive pads are cut away again, negative pads (crops) padded back.
 * Reflect, edge and wrap modes copy input elements into the border, so each padded axis is a fixed
 * gather whose transpose (a 0/1 matrix, `gatherMatrix`) adds the border's gradients onto the elements
 * they copy.
 */
export const padBack: Formula = (ctx) => {
  const mode = attrString(ctx.node, 'mode', 'constant');
  const rank = rankOf(ctx, ctx.input(0));
  const perAxis = padsPerAxis(ctx, rank);
  if (mode === 'constant') return constantPadBack(ctx, rank, perAxis);
  let grad = ctx.gradOutput();
  for (const [axis, [begin, end]] of perAxis) {
    const size = ctx.fixedDim(ctx.input(0), axis);
    const sources = Array.from({ length: size + begin + end }, (_, j) =>
      padSource(ctx, mode, j - begin, size),
    );
    grad = applyAlongAxis(ctx, grad, rank, axis, gatherMatrix(sources, size), sources.length);
  }
  return grad;
};

/** The input position that output position `i` (counted from the input's start) of a Pad copies. */
function padSource(ctx: AdjointContext, mode: string, i: number, size: number): number {
  if (i >= 0 && i < size) return i;
  switch (mode) {
    case 'edge':
      return Math.min(Math.max(i, 0), size - 1);
    case 'wrap':
      return ((i % size) + size) % size;
    case 'reflect': {
      const period = 2 * (size - 1);
      const k = period === 0 ? 0 : ((i % period) + period) % period;
      return k < size ? k : period - k;
    }
    default:
      throw ctx.fail(`Pad mode '${mode}' has no adjoint here (constant, reflect, edge, wrap)`);
  }
}

/** Constant-mode Pad's transpose: slice the pads away, pad the crops back with zeros. */
function constantPadBack(ctx: AdjointContext, rank: number, perAxis: ReadonlyMap<number, [number, number]>) {
  const starts: number[] = [];
  const ends: number[] = [];
  const sliced: number[] = [];
  const restore = new Map<number, [number, number]>();
  for (const [axis, [begin, end]] of perAxis) {
    if (begin > 0 || end > 0) {
      const size = ctx.fixedDim(ctx.output(0), axis);
      sliced.push(axis);
      starts.push(Math.max(begin, 0));
      ends.push(size - Math.max(end, 0));
    }
    restore.set(axis, [Math.max(-begin, 0), Math.max(-end, 0)]);
  }
  let grad = ctx.gradOutput();
  if (sliced.length > 0) {
    grad = ctx.emit.op('Slice', [grad, ctx.emit.int64(starts), ctx.emit.int64(ends), ctx.emit.int64(sliced)]);
  }
  return padAxes(ctx, grad, rank, restore);
}

// ---------------------------------------------------------------------------------------------
// Reductions: the transpose of a sum is a broadcast.

/**
 * Axes of a reduce op: the attribute before opset `inputAxesFrom` (18; 13 for ReduceSum), the input
 * from then on.
 */
function reduceAxes(ctx: AdjointContext, inputAxesFrom: number): number[] {
  const rank = rankOf(ctx, ctx.input(0));
  let axes: number[] | undefined;
  if (ctx.opset >= inputAxesFrom) axes = constantInts(ctx, 1, 'axes');
  else axes = attrInts(ctx.node, 'axes', []);
  if (!axes || axes.length === 0) {
    if (attrInt(ctx.node, 'noop_with_empty_axes', 0) === 1) return [];
    axes = allAxes(rank);
  }
  return axes.map((a) => normaliseAxis(a, rank)).sort((a, b) => a - b);
}

/**
 * How many elements each output of a reduction over `axes` averages: a constant when those axes are
 * fixed, else (the batch axis reduced) size(input) / size(output) at run time.
 */
function reducedCount(ctx: AdjointContext, axes: readonly number[]): string {
  const dims = ctx.dims(ctx.input(0));
  if (axes.every((a) => typeof dims[a] === 'number')) {
    return ctx.emit.scalar(axes.reduce((n, a) => n * (dims[a] as number), 1));
  }
  const size = (name: string) => ctx.emit.op('Cast', [ctx.emit.op('Size', [name])], { to: FLOAT });
  return ctx.emit.op('Div', [size(ctx.input(0)), size(ctx.output(0))]);
}

/** ReduceSum's (with `mean`, ReduceMean's) transpose: the gradient broadcast back over the reduced axes. */
export function reduceBack(ctx: AdjointContext, inputAxesFrom: number, mean: boolean): string {
  const axes = reduceAxes(ctx, inputAxesFrom);
  let grad = ctx.gradOutput();
  if (axes.length > 0 && attrInt(ctx.node, 'keepdims', 1) === 0) {
    grad = ctx.emit.op('Unsqueeze', [grad, ctx.emit.int64(axes)]);
  }
  if (mean) grad = ctx.emit.op('Div', [grad, reducedCount(ctx, axes)]);
  return ctx.emit.op('Expand', [grad, ctx.emit.op('Shape', [ctx.input(0)])]);
}
