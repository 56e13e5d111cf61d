/**
 * Adjoints of the normalising ops of transformer blocks (Softmax, LayerNormalization) for the rule
 * table (rules.ts). Both couple every element of the normalised axes, so their vector-Jacobian
 * products are written out whole. Reductions use ReduceSum with an axes input, valid at every opset
 * the engine emits (ReduceMean moved its axes to an input only at 18).
 */

import { attrFloat, attrInt } from '../onnx/attributes.js';
import type { AdjointContext, Formula } from './rules.js';
import { normaliseAxis, rankOf } from './shape-adjoints.js';

/** Sum over `axes`, keeping them (size 1) so the result broadcasts back. */
function sumKeep(ctx: AdjointContext, name: string, axes: readonly number[]): string {
  return ctx.emit.op('ReduceSum', [name, ctx.emit.int64(axes)], { keepdims: 1 });
}

/** Axes `from`..rank-1. */
function trailingAxes(from: number, rank: number): number[] {
  return Array.from({ length: rank - from }, (_, i) => from + i);
}

/**
 * Softmax (opset >= 13: one axis, default -1): with y = softmax(x), dx = y (g - sum_axis(g y)).
 * Models of older opsets have their Softmax rewritten to these semantics by the opset upgrade.
 */
export const softmaxBack: Formula = (ctx) => {
  if (ctx.opset < 13)
    throw ctx.fail('Softmax before opset 13 (flattening semantics): upgrade the model first');
  const e = ctx.emit;
  const y = ctx.output(0);
  const g = ctx.gradOutput();
  const axis = normaliseAxis(attrInt(ctx.node, 'axis', -1), rankOf(ctx, y));
  return e.op('Mul', [y, e.op('Sub', [g, sumKeep(ctx, e.op('Mul', [g, y]), [axis])])]);
};

/** What LayerNormalization's adjoints share: the normalised axes, their element count and x-hat. */
interface Normalised {
  readonly axes: readonly number[];
  /** 1 / n as a scalar tensor, n the number of elements normalised together. */
  readonly inverseCount: string;
  /** (x - mean) r, r = 1 / sqrt(var + eps), recomputed from the forward input. */
  readonly xhat: string;
  readonly r: string;
}

function normalised(ctx: AdjointContext): Normalised {
  const e = ctx.emit;
  const x = ctx.input(0);
  const rank = rankOf(ctx, x);
  const axes = trailingAxes(normaliseAxis(attrInt(ctx.node, 'axis', -1), rank), rank);
  const n = axes.reduce((count, a) => count * ctx.fixedDim(x, a), 1);
  const inverseCount = e.scalar(1 / n);
  const mean = (name: string) => e.op('Mul', [sumKeep(ctx, name, axes), inverseCount]);
  const centred = e.op('Sub', [x, mean(x)]);
  const variance = mean(e.op('Mul', [centred, centred]));
  const eps = e.scalar(attrFloat(ctx.node, 'epsilon', 1e-5));
  const r = e.op('Reciprocal', [e.op('Sqrt', [e.op('Add', [variance, eps])])]);
  return { axes, inverseCount, xhat: e.op('Mul', [centred, r]), r };
}

/**
 * LayerNormalization's input gradient: with gy = g * scale, dx = r (gy - mean(gy) - x-hat mean(gy x-hat))
 * over the normalised axes; plus, when they are used, the optional Mean (d mean / dx = 1/n) and
 * InvStdDev (d r / dx = -r^2 x-hat / n) outputs' terms.
 */
export const layerNormBack: Formula = (ctx) => {
  const e = ctx.emit;
  const { axes, inverseCount, xhat, r } = normalised(ctx);
  const mean = (name: string) => e.op('Mul', [sumKeep(ctx, name, axes), inverseCount]);
  const gy = e.op('Mul', [ctx.gradOutput(0), ctx.input(1)]);
  const inner = e.op('Sub', [
    e.op('Sub', [gy, mean(gy)]),
    e.op('Mul', [xhat, mean(e.op('Mul', [gy, xhat]))]),
  ]);
  let dx = e.op('Mul', [r, inner]);
  if (ctx.reached(1)) dx = e.op('Add', [dx, e.op('Mul', [ctx.gradOutput(1), inverseCount])]);
  if (ctx.reached(2)) {
    const dr = e.op('Neg', [e.op('Mul', [e.op('Mul', [r, r]), e.op('Mul', [xhat, inverseCount])])]);
    dx = e.op('Add', [dx, e.op('Mul', [ctx.gradOutput(2), dr])]);
  }
  return dx;
};

/** LayerNormalization's scale gradient: g x-hat summed down to the scale's shape. */
export const layerNormScaleBack: Formula = (ctx) =>
  ctx.sumToInput(ctx.emit.op('Mul', [ctx.gradOutput(0), normalised(ctx).xhat]), ctx.dims(ctx.output(0)), 1);

/** LayerNormalization's bias gradient: g summed down to the bias's shape. */
export const layerNormBiasBack: Formula = (ctx) =>
  ctx.sumToInput(ctx.gradOutput(0), ctx.dims(ctx.output(0)), 2);
