/**
 * Resize's adjoint for the rule table (rules.ts). Resize is linear in its input and separable: each
 * resized axis is a fixed [out, in] interpolation matrix (onnx/resize.ts, built from the probed sizes
 * and the node's attributes), so the gradient is multiplied by each matrix along its axis, which adds
 * every output's gradient onto the inputs it interpolated, with their weights. Output sizes come from
 * the probe, so `sizes` computed at run time (exporters build them from Shape(x)) need no folding.
 */

import { interpolationMatrix, type ResizeOptions, resizeOptions, resizeScales } from '../onnx/resize.js';
import { toNumbers } from '../onnx/tensor.js';
import type { AdjointContext, Formula } from './rules.js';
import { applyAlongAxis, rankOf } from './shape-adjoints.js';

/** The `scales` input's values; undefined when absent or empty (sizes given instead). */
function constantScales(ctx: AdjointContext): number[] | undefined {
  if (!ctx.hasInput(2)) return undefined;
  const value = ctx.constant(ctx.input(2));
  if (value) return value.data.length > 0 ? toNumbers(value) : undefined;
  if (ctx.dims(ctx.input(2)).every((d) => d === 0)) return undefined;
  throw ctx.fail('Resize scales (input 2) must be a constant to differentiate');
}

function isIdentity(matrix: Float64Array, size: number): boolean {
  return matrix.every((v, k) => v === (k % (size + 1) === 0 ? 1 : 0));
}

export const resizeBack: Formula = (ctx) => {
  let options: ResizeOptions;
  try {
    options = resizeOptions(ctx.node);
  } catch (error) {
    throw ctx.fail(`${(error as Error).message} has no adjoint here`);
  }
  const inDims = ctx.dims(ctx.input(0));
  const outDims = ctx.dims(ctx.output(0));
  const rank = rankOf(ctx, ctx.input(0));
  // The batch axis stands in as size 1 for the scales; it must come out unresized (checked below).
  const fixed = (dims: readonly (number | 'N')[]) => dims.map((d) => (d === 'N' ? 1 : d));
  const scales = resizeScales(fixed(inDims), fixed(outDims), constantScales(ctx), options);
  let grad = ctx.gradOutput();
  for (let axis = 0; axis < rank; axis++) {
    const [size, resized] = [inDims[axis]!, outDims[axis]!];
    if (size === 'N' || resized === 'N') {
      const probe = interpolationMatrix(4, 4, scales[axis]!, options);
      if (size === resized && isIdentity(probe, 4)) continue;
      throw ctx.fail(`resizing the batch axis ${axis} has no adjoint here`);
    }
    const matrix = interpolationMatrix(size, resized, scales[axis]!, options);
    if (size === resized && isIdentity(matrix, size)) continue;
    grad = applyAlongAxis(ctx, grad, rank, axis, Float32Array.from(matrix), resized);
  }
  return grad;
};
