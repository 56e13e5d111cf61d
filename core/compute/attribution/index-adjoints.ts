/**
 * Adjoints of the ops that pick elements by index tensors known only at run time (Gather,
 * GatherElements, and Slice whose starts, ends or steps are computed), for the rule table (rules.ts).
 * The transpose of picking is putting back: `ScatterElements` into zeros, with `reduction='add'` where
 * one element may be picked several times (repeated Gather indices), so the copies' gradients sum.
 * Everything is computed from run-time shapes, so none of these needs a fixed dimension.
 */

import { attrInt } from '../onnx/attributes.js';
import { INT64 } from './emitter.js';
import type { AdjointContext, Formula } from './rules.js';
import { constantInts, constantSliceBack, normaliseAxis, rankOf } from './shape-adjoints.js';

/** The int64 [1] size of `name` along `axis`, at run time. */
function sizeAlong(ctx: AdjointContext, name: string, axis: number): string {
  return ctx.emit.op('Shape', [name], { start: axis, end: axis + 1 });
}

/**
 * The run-time shape of `name` with dimension `axis` replaced by `dim` (an int64 [1]): the shape of a
 * gradient scattered back along `axis` into a tensor of the forward input's length there.
 */
function shapeWithAxis(ctx: AdjointContext, name: string, rank: number, axis: number, dim: string): string {
  const parts: string[] = [];
  if (axis > 0) parts.push(ctx.emit.op('Shape', [name], { start: 0, end: axis }));
  parts.push(dim);
  if (axis + 1 < rank) parts.push(ctx.emit.op('Shape', [name], { start: axis + 1 }));
  return parts.length === 1 ? parts[0]! : ctx.emit.op('Concat', parts, { axis: 0 });
}

/** Index values as int64 in [0, size): negative ones count from the end, as the forward reads them. */
function wrapped(ctx: AdjointContext, indices: string, size: string): string {
  const e = ctx.emit;
  const idx = e.op('Cast', [indices], { to: INT64 });
  const negative = e.op('Less', [idx, e.int64([0], [])]);
  return e.op('Where', [negative, e.op('Add', [idx, size]), idx]);
}

/**
 * Scatter `grad` along `axis` into zeros whose length there is `size` (int64 [1]): position k of
 * `grad` along that axis goes to `positions[k]` (a 1-D int64 tensor). `add` accumulates repeats.
 */
function scatterBack(
  ctx: AdjointContext,
  grad: string,
  rank: number,
  axis: number,
  positions: string,
  size: string,
  add: boolean,
): string {
  const e = ctx.emit;
  const alongAxis = new Array<number>(rank).fill(1);
  alongAxis[axis] = -1;
  const spread = e.op('Expand', [e.op('Reshape', [positions, e.int64(alongAxis)]), e.op('Shape', [grad])]);
  const zeros = e.op('ConstantOfShape', [shapeWithAxis(ctx, grad, rank, axis, size)]);
  return e.op('ScatterElements', [zeros, spread, grad], { axis, reduction: add ? 'add' : 'none' });
}

/**
 * Gather's transpose. The output holds data[..., idx[j...], ...] with the index tensor's dims in place
 * of `axis`; flattening those dims back to one makes it a gather along `axis` of the flat indices,
 * whose transpose adds each gradient slice into the row it came from.
 */
export const gatherBack: Formula = (ctx) => {
  const data = ctx.input(0);
  const rank = rankOf(ctx, data);
  const axis = normaliseAxis(attrInt(ctx.node, 'axis', 0), rank);
  const size = sizeAlong(ctx, data, axis);
  const flat = wrapped(ctx, ctx.emit.op('Reshape', [ctx.input(1), ctx.emit.int64([-1])]), size);
  const flatCount = ctx.emit.op('Shape', [flat]);
  const grad = ctx.emit.op('Reshape', [ctx.gradOutput(), shapeWithAxis(ctx, data, rank, axis, flatCount)]);
  return scatterBack(ctx, grad, rank, axis, flat, size, true);
};

/** GatherElements' transpose: each output element added back at the position it was read from. */
export const gatherElementsBack: Formula = (ctx) => {
  const data = ctx.input(0);
  const axis = normaliseAxis(attrInt(ctx.node, 'axis', 0), rankOf(ctx, data));
  const indices = wrapped(ctx, ctx.input(1), sizeAlong(ctx, data, axis));
  return ctx.emit.op('ScatterElements', [ctx.emit.zerosLike(data), indices, ctx.gradOutput()], {
    axis,
    reduction: 'add',
  });
};

/**
 * Slice's transpose. Constant starts, ends and steps (what folding leaves in most models) become
 * padding or selection matrices (shape-adjoints.ts); computed ones a scatter (`runtimeSliceBack`).
 */
export const sliceBack: Formula = (ctx) => {
  const computed = [1, 2, 4].some((k) => ctx.hasInput(k) && !ctx.constant(ctx.input(k)));
  if (!computed) return constantSliceBack(ctx);
  const count = ctx.dims(ctx.input(1))[0];
  if (typeof count !== 'number') throw ctx.fail('Slice starts of unknown length');
  const axes = constantInts(ctx, 3, 'axes') ?? Array.from({ length: count }, (_, a) => a);
  return runtimeSliceBack(ctx, axes);
};

/**
 * Slice's transpose when starts, ends or steps are computed at run time. Per sliced axis, the same
 * Slice applied to 0..size-1 yields the positions the forward picked (clamping, negative starts and
 * steps included); the gradient is scattered back to them. Axes must be constant.
 */
function runtimeSliceBack(ctx: AdjointContext, axes: readonly number[]): string {
  const e = ctx.emit;
  const data = ctx.input(0);
  const rank = rankOf(ctx, data);
  const param = (k: number) => (ctx.hasInput(k) ? e.op('Cast', [ctx.input(k)], { to: INT64 }) : undefined);
  const [starts, ends, steps] = [param(1)!, param(2)!, param(4)];
  let grad = ctx.gradOutput();
  axes.forEach((rawAxis, i) => {
    const axis = normaliseAxis(rawAxis, rank);
    const size = sizeAlong(ctx, data, axis);
    const range = e.op('Range', [e.int64([0], []), e.op('Squeeze', [size, e.int64([0])]), e.int64([1], [])]);
    const pick = (t: string) => e.op('Slice', [t, e.int64([i]), e.int64([i + 1])]);
    const bounds = [pick(starts), pick(ends), e.int64([0]), ...(steps ? [pick(steps)] : [])];
    const positions = e.op('Slice', [range, ...bounds]);
    grad = scatterBack(ctx, grad, rank, axis, positions, size, false);
  });
  return grad;
}
