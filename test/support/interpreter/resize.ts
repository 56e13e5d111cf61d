/**
 * Resize (opset >= 11 inputs: X, roi, scales, sizes): the separable interpolation matrices of
 * core/compute/onnx/resize.ts applied axis by axis. The interpreter test against onnxruntime checks
 * those matrices, which the Resize backward rule transposes.
 */
import { interpolationMatrix, resizeOptions, resizeScales } from '../../../core/compute/onnx/resize.js';
import { allocData, isFloat, numel, tensor, toNumbers } from '../../../core/compute/onnx/tensor.js';
import { fail, floatOut, type NumberArray, type OpImpl, req } from './util.js';

/** Output dims: `sizes` where given, else floor(in * scale) on the listed axes. */
function outputDims(dims: readonly number[], axes: readonly number[], scales?: number[], sizes?: number[]) {
  return dims.map((d, axis) => {
    const k = axes.indexOf(axis);
    if (k < 0) return d;
    if (sizes) return sizes[k]!;
    return Math.floor(Math.fround(Math.fround(scales![k]!) * d));
  });
}

/** out[.., j, ..] = sum_i M[j, i] in[.., i, ..] along `axis`. */
function alongAxis(
  src: NumberArray,
  dims: readonly number[],
  axis: number,
  matrix: Float64Array,
  rows: number,
) {
  const size = dims[axis]!;
  const outer = numel(dims.slice(0, axis));
  const inner = numel(dims.slice(axis + 1));
  const out = new Float64Array(outer * rows * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < rows; j++) {
      for (let i = 0; i < size; i++) {
        const w = matrix[j * size + i]!;
        if (w === 0) continue;
        const from = (o * size + i) * inner;
        const to = (o * rows + j) * inner;
        for (let t = 0; t < inner; t++) out[to + t]! += w * src[from + t]!;
      }
    }
  }
  return out;
}

const resize: OpImpl = (node, inputs, ctx) => {
  const x = req(node, inputs, 0);
  if (!isFloat(x.dtype)) fail(node, `${x.dtype} input is not supported`);
  let options: ReturnType<typeof resizeOptions>;
  try {
    options = resizeOptions(node);
  } catch (error) {
    fail(node, `${(error as Error).message} is not supported`);
  }
  const rank = x.dims.length;
  const axes = (options.axes ?? Array.from({ length: rank }, (_, a) => a)).map((a) => (a < 0 ? a + rank : a));
  const scales = inputs[2] && inputs[2].data.length > 0 ? toNumbers(inputs[2]) : undefined;
  const sizes = inputs[3] && inputs[3].data.length > 0 ? toNumbers(inputs[3]) : undefined;
  if (!scales && !sizes) fail(node, 'needs scales or sizes');
  const outDims = outputDims(x.dims, axes, scales, sizes);
  const used = resizeScales(x.dims, outDims, scales, options);
  let data: NumberArray = x.data as NumberArray;
  const dims = [...x.dims];
  for (const axis of axes) {
    data = alongAxis(
      data,
      dims,
      axis,
      interpolationMatrix(dims[axis]!, outDims[axis]!, used[axis]!, options),
      outDims[axis]!,
    );
    dims[axis] = outDims[axis]!;
  }
  const dtype = floatOut(x.dtype, ctx);
  const out = allocData(dtype, data.length) as NumberArray;
  out.set(data);
  return [tensor(dtype, dims, out)];
};

export const resizeOps: Record<string, OpImpl> = { Resize: resize };
