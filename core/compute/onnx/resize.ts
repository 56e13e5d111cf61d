/**
 * ONNX Resize as onnxruntime computes it (nearest, linear, cubic; every coordinate transformation but
 * tf_crop_and_resize): separable, so each resized axis is a fixed [out, in] interpolation matrix.
 * The backward rule applies the matrices' transposes (attribution/resize-adjoint.ts); the reference
 * interpreter applies the matrices themselves, and its test against onnxruntime is what checks them.
 * Coordinates are computed in float32, as onnxruntime does, so nearest-neighbour ties round alike.
 */
import { attrFloat, attrInt, attrInts, attrString } from './attributes.js';
import type { NodeProto } from './model.js';

export type ResizeMode = 'nearest' | 'linear' | 'cubic';

export interface ResizeOptions {
  readonly mode: ResizeMode;
  readonly coordinate: string;
  readonly nearestMode: string;
  readonly cubicA: number;
  readonly excludeOutside: boolean;
  /** The axes `scales`/`sizes` list (opset 18 `axes`), undefined for all. */
  readonly axes?: readonly number[];
}

const COORDINATES = new Set([
  'half_pixel',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_half_pixel_for_nn',
]);
const NEAREST = new Set(['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']);

/** The node's options, or an error message for what is not modelled here. */
export function resizeOptions(node: NodeProto): ResizeOptions {
  const mode = attrString(node, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'cubic') throw new Error(`Resize mode '${mode}'`);
  const coordinate = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  if (!COORDINATES.has(coordinate)) throw new Error(`Resize coordinate_transformation_mode '${coordinate}'`);
  const nearestMode = attrString(node, 'nearest_mode', 'round_prefer_floor');
  if (!NEAREST.has(nearestMode)) throw new Error(`Resize nearest_mode '${nearestMode}'`);
  if (attrInt(node, 'antialias', 0) !== 0) throw new Error('Resize with antialias');
  const policy = attrString(node, 'keep_aspect_ratio_policy', 'stretch');
  if (policy !== 'stretch') throw new Error(`Resize keep_aspect_ratio_policy '${policy}'`);
  const axes = attrInts(node, 'axes', []);
  return {
    mode,
    coordinate,
    nearestMode,
    cubicA: attrFloat(node, 'cubic_coeff_a', -0.75),
    excludeOutside: attrInt(node, 'exclude_outside', 0) !== 0,
    ...(axes.length > 0 ? { axes } : {}),
  };
}

/**
 * Per-axis scales as onnxruntime uses them in the coordinate transform: the `scales` input where given
 * (the output being floor(in * scale)), else out / in in float32.
 */
export function resizeScales(
  inDims: readonly number[],
  outDims: readonly number[],
  scales: readonly number[] | undefined,
  options: ResizeOptions,
): number[] {
  const rank = inDims.length;
  const listed = (options.axes ?? Array.from({ length: rank }, (_, a) => a)).map((a) =>
    a < 0 ? a + rank : a,
  );
  return inDims.map((size, axis) => {
    const k = listed.indexOf(axis);
    if (scales && scales.length > 0 && k >= 0) return Math.fround(scales[k]!);
    return Math.fround(Math.fround(outDims[axis]!) / Math.fround(size));
  });
}

/** The input coordinate (float32) output position `x` reads from. */
function originalCoordinate(
  x: number,
  scale: number,
  inSize: number,
  outSize: number,
  coordinate: string,
): number {
  const f = Math.fround;
  switch (coordinate) {
    case 'half_pixel':
      return f(f(f(x + 0.5) / scale) - 0.5);
    case 'pytorch_half_pixel':
      return outSize > 1 ? f(f(f(x + 0.5) / scale) - 0.5) : 0;
    case 'align_corners':
      return outSize === 1 ? 0 : f(f(x * (inSize - 1)) / (outSize - 1));
    case 'tf_half_pixel_for_nn':
      return f(f(x + 0.5) / scale);
    default:
      return f(x / scale);
  }
}

function nearestIndex(x: number, nearestMode: string): number {
  const roundAway = (v: number) => Math.sign(v) * Math.round(Math.abs(v));
  switch (nearestMode) {
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'round_prefer_ceil':
      return roundAway(x);
    default:
      // onnxruntime: a tie (k + 0.5, k = trunc(x)) goes down, anything else rounds half away from 0.
      return x === Math.trunc(x) + 0.5 ? Math.floor(x) : roundAway(x);
  }
}

/** Keys' cubic convolution weights for the taps at floor(x) - 1 .. floor(x) + 2, s = x - floor(x). */
function cubicWeights(s: number, a: number): number[] {
  const outer = (t: number) => ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  const inner = (t: number) => ((a + 2) * t - (a + 3)) * t * t + 1;
  return [outer(s + 1), inner(s), inner(1 - s), outer(2 - s)];
}

/** Row `j` of the interpolation matrix: (input index, weight) pairs. */
function taps(x: number, inSize: number, options: ResizeOptions): [number, number][] {
  const clamp = (i: number) => Math.min(Math.max(i, 0), inSize - 1);
  if (options.mode === 'nearest') return [[clamp(nearestIndex(x, options.nearestMode)), 1]];
  if (options.mode === 'linear') {
    const c = Math.min(Math.max(x, 0), inSize - 1);
    const i1 = Math.min(Math.trunc(c), inSize - 1);
    const i2 = Math.min(i1 + 1, inSize - 1);
    if (i1 === i2) return [[i1, 1]];
    return [
      [i1, Math.fround(Math.abs(c - i2))],
      [i2, Math.fround(Math.abs(c - i1))],
    ];
  }
  const base = Math.floor(x);
  const weights = cubicWeights(Math.fround(x - base), options.cubicA);
  const indices = weights.map((_, t) => base + t - 1);
  if (options.excludeOutside) {
    indices.forEach((i, t) => {
      if (i < 0 || i >= inSize) weights[t] = 0;
    });
    const sum = weights.reduce((acc, w) => acc + w, 0);
    return indices.map((i, t) => [clamp(i), weights[t]! / sum]);
  }
  return indices.map((i, t) => [clamp(i), weights[t]!]);
}

/**
 * The [outSize, inSize] matrix M of one axis (row-major): out[j] = sum_i M[j, i] in[i]. Taps that
 * clamp onto the same input element add up.
 */
export function interpolationMatrix(
  inSize: number,
  outSize: number,
  scale: number,
  options: ResizeOptions,
): Float64Array {
  const matrix = new Float64Array(outSize * inSize);
  for (let j = 0; j < outSize; j++) {
    const x = originalCoordinate(j, scale, inSize, outSize, options.coordinate);
    for (const [i, w] of taps(x, inSize, options)) matrix[j * inSize + i]! += w;
  }
  return matrix;
}
