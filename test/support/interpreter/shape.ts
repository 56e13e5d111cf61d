/** Ops that only move data or read shapes: Reshape, Transpose, Slice, Pad, Concat, Split, ... */
import { attrFloat, attrInt, attrInts, attrString, hasAttr } from '../../../core/compute/onnx/attributes.js';
import { numel, type Tensor, tensor, toNumbers } from '../../../core/compute/onnx/tensor.js';
import {
  axisMapsToIndex,
  broadcastShapes,
  broadcastTo,
  copyRange,
  fail,
  gatherData,
  type NodeProto,
  type NumberArray,
  normAxis,
  type OpImpl,
  optInts,
  req,
  sameKind,
  stridedMap,
  strides,
} from './util.js';

const reshape: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const shape = toNumbers(req(node, inputs, 1));
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const dims = shape.map((d, i) =>
    d === 0 && !allowZero ? (x.dims[i] ?? fail(node, `no input dim ${i} to copy`)) : d,
  );
  const unknown = dims.indexOf(-1);
  if (unknown >= 0) {
    if (dims.lastIndexOf(-1) !== unknown) fail(node, 'more than one -1 in shape');
    const known = numel(dims.filter((_, i) => i !== unknown));
    if (known === 0 || x.data.length % known !== 0)
      fail(node, `cannot infer -1 in [${shape}] for [${x.dims}]`);
    dims[unknown] = x.data.length / known;
  }
  if (numel(dims) !== x.data.length) fail(node, `cannot reshape [${x.dims}] to [${shape}]`);
  return [tensor(x.dtype, dims, x.data)];
};

const flatten: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const r = x.dims.length;
  let axis = attrInt(node, 'axis', 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r) fail(node, `axis out of range for rank ${r}`);
  return [tensor(x.dtype, [numel(x.dims.slice(0, axis)), numel(x.dims.slice(axis))], x.data)];
};

/** Axes from the second input (opset >= 13) or the `axes` attribute (older opsets). */
function axesOf(node: NodeProto, inputs: readonly (Tensor | undefined)[]): number[] | undefined {
  return optInts(inputs[1]) ?? (hasAttr(node, 'axes') ? attrInts(node, 'axes') : undefined);
}

const squeeze: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const r = x.dims.length;
  const axes = axesOf(node, inputs)?.map((a) => normAxis(node, a, r));
  for (const a of axes ?? [])
    if (x.dims[a] !== 1) fail(node, `cannot squeeze axis ${a} of size ${x.dims[a]}`);
  const dims = x.dims.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
  return [tensor(x.dtype, dims, x.data)];
};

const unsqueeze: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const raw = axesOf(node, inputs) ?? fail(node, 'no axes');
  const r = x.dims.length + raw.length;
  const axes = raw.map((a) => normAxis(node, a, r));
  if (new Set(axes).size !== axes.length) fail(node, 'repeated axes');
  const dims: number[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) dims.push(axes.includes(i) ? 1 : x.dims[j++]!);
  return [tensor(x.dtype, dims, x.data)];
};

const transpose: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const r = x.dims.length;
  const perm = attrInts(node, 'perm', [...Array(r).keys()].reverse());
  if (perm.length !== r || [...perm].sort((p, q) => p - q).some((p, i) => p !== i))
    fail(node, `bad perm [${perm}]`);
  const s = strides(x.dims);
  const dims = perm.map((p) => x.dims[p]!);
  return [
    tensor(
      x.dtype,
      dims,
      gatherData(
        x.data,
        stridedMap(
          dims,
          perm.map((p) => s[p]!),
        ),
      ),
    ),
  ];
};

const expand: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const shape = toNumbers(req(node, inputs, 1));
  let dims: number[];
  try {
    dims = broadcastShapes(x.dims, shape);
  } catch (e) {
    fail(node, (e as Error).message);
  }
  return [broadcastTo(x, dims)];
};

const tile: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const reps = toNumbers(req(node, inputs, 1));
  if (reps.length !== x.dims.length) fail(node, `repeats [${reps}] do not match rank ${x.dims.length}`);
  const maps = x.dims.map((d, i) => Int32Array.from({ length: d * reps[i]! }, (_, j) => j % d));
  return [
    tensor(
      x.dtype,
      maps.map((m) => m.length),
      gatherData(x.data, axisMapsToIndex(x.dims, maps)),
    ),
  ];
};

const concat: OpImpl = (node, inputs) => {
  const ts = inputs.filter((t): t is Tensor => t !== undefined);
  const first = ts[0] ?? fail(node, 'no inputs');
  const r = first.dims.length;
  const axis = normAxis(node, attrInt(node, 'axis'), r);
  for (const t of ts) {
    if (
      t.dtype !== first.dtype ||
      t.dims.length !== r ||
      t.dims.some((d, i) => i !== axis && d !== first.dims[i])
    ) {
      fail(node, `inputs do not match: [${first.dims}] ${first.dtype} and [${t.dims}] ${t.dtype}`);
    }
  }
  const dims = [...first.dims];
  dims[axis] = ts.reduce((s, t) => s + t.dims[axis]!, 0);
  const outer = numel(first.dims.slice(0, axis));
  const inner = numel(first.dims.slice(axis + 1));
  const out = sameKind(first.data, numel(dims));
  let off = 0;
  for (let o = 0; o < outer; o++) {
    for (const t of ts) {
      const block = t.dims[axis]! * inner;
      copyRange(out, off, t.data, o * block, block);
      off += block;
    }
  }
  return [tensor(first.dtype, dims, out)];
};

/** Split: sizes from the `split` input (opset 13) or attribute, `num_outputs` (opset 18), or equal parts. */
const split: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const axis = normAxis(node, attrInt(node, 'axis', 0), x.dims.length);
  const len = x.dims[axis]!;
  const nOut = node.output?.length ?? 1;
  let sizes = optInts(inputs[1]) ?? (hasAttr(node, 'split') ? attrInts(node, 'split') : undefined);
  if (!sizes) {
    const parts = attrInt(node, 'num_outputs', nOut);
    const chunk = Math.ceil(len / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, len - i * chunk)));
  }
  if (sizes.reduce((s, v) => s + v, 0) !== len) fail(node, `split sizes [${sizes}] do not sum to ${len}`);
  const outer = numel(x.dims.slice(0, axis));
  const inner = numel(x.dims.slice(axis + 1));
  let start = 0;
  return sizes.map((size) => {
    const dims = [...x.dims];
    dims[axis] = size;
    const out = sameKind(x.data, numel(dims));
    for (let o = 0; o < outer; o++)
      copyRange(out, o * size * inner, x.data, (o * len + start) * inner, size * inner);
    start += size;
    return tensor(x.dtype, dims, out);
  });
};

/** Slice (opset >= 10 inputs, or opset 1 attributes), with ONNX clamping and negative steps. */
const slice: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const r = x.dims.length;
  const fromInputs = inputs[1] !== undefined;
  const starts = fromInputs ? toNumbers(inputs[1]!) : attrInts(node, 'starts');
  const ends = fromInputs ? toNumbers(req(node, inputs, 2)) : attrInts(node, 'ends');
  const axes = (fromInputs
    ? optInts(inputs[3])
    : hasAttr(node, 'axes')
      ? attrInts(node, 'axes')
      : undefined) ?? [...starts.keys()];
  const steps = (fromInputs ? optInts(inputs[4]) : undefined) ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    fail(node, 'starts, ends, axes and steps differ in length');
  }
  const begin = x.dims.map(() => 0);
  const step = x.dims.map(() => 1);
  const dims = [...x.dims];
  axes.forEach((a0, i) => {
    const a = normAxis(node, a0, r);
    const d = x.dims[a]!;
    const st = steps[i]!;
    if (st === 0) fail(node, 'step 0');
    let s = starts[i]!;
    let e = ends[i]!;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (st > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    begin[a] = s;
    step[a] = st;
    dims[a] = Math.max(0, Math.ceil((e - s) / st));
  });
  const s = strides(x.dims);
  const offset = begin.reduce((acc, b, i) => acc + b * s[i]!, 0);
  const map = stridedMap(
    dims,
    s.map((v, i) => v * step[i]!),
    offset,
  );
  return [tensor(x.dtype, dims, gatherData(x.data, map))];
};

/** Pad: pads (and optional constant_value, axes) as inputs; constant, reflect, edge and wrap modes. */
const pad: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const r = x.dims.length;
  const pads = optInts(inputs[1]) ?? attrInts(node, 'pads');
  const axes = (optInts(inputs[3]) ?? [...Array(r).keys()]).map((a) => normAxis(node, a, r));
  if (pads.length !== 2 * axes.length) fail(node, `pads [${pads}] do not match ${axes.length} axes`);
  const mode = attrString(node, 'mode', 'constant');
  const before = x.dims.map(() => 0);
  const after = x.dims.map(() => 0);
  axes.forEach((a, i) => {
    before[a] = pads[i]!;
    after[a] = pads[i + axes.length]!;
  });
  const maps = x.dims.map((d, a) => {
    const len = d + before[a]! + after[a]!;
    if (len < 0) fail(node, `negative output size on axis ${a}`);
    const m = new Int32Array(len);
    for (let j = 0; j < len; j++) {
      const i = j - before[a]!;
      if (i >= 0 && i < d) m[j] = i;
      else if (mode === 'constant') m[j] = -1;
      else if (d === 0) fail(node, `cannot ${mode}-pad an empty axis`);
      else if (mode === 'edge') m[j] = Math.min(Math.max(i, 0), d - 1);
      else if (mode === 'wrap') m[j] = ((i % d) + d) % d;
      else if (mode === 'reflect') {
        const period = 2 * (d - 1);
        const k = period === 0 ? 0 : ((i % period) + period) % period;
        m[j] = k < d ? k : period - k;
      } else fail(node, `unknown mode '${mode}'`);
    }
    return m;
  });
  const index = axisMapsToIndex(x.dims, maps);
  const out = gatherData(x.data, index);
  const cv =
    inputs[2] ?? (hasAttr(node, 'value') ? tensor('float64', [], [attrFloat(node, 'value')]) : undefined);
  if (mode === 'constant' && cv && cv.data.length > 0) {
    const v = cv.data[0]!;
    for (let i = 0; i < index.length; i++) {
      if (index[i]! >= 0) continue;
      if (out instanceof BigInt64Array) out[i] = BigInt(v);
      else (out as NumberArray)[i] = Number(v);
    }
  }
  return [
    tensor(
      x.dtype,
      maps.map((m) => m.length),
      out,
    ),
  ];
};

const shape: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const r = x.dims.length;
  const clampAxis = (a: number): number => Math.min(Math.max(a < 0 ? a + r : a, 0), r);
  const start = clampAxis(attrInt(node, 'start', 0));
  const end = clampAxis(attrInt(node, 'end', r));
  const dims = x.dims.slice(start, Math.max(start, end));
  return [tensor('int64', [dims.length], dims)];
};

const size: OpImpl = (node, inputs) => [tensor('int64', [], [req(node, inputs, 0).data.length])];

const identity: OpImpl = (node, inputs) => [req(node, inputs, 0)];

/** Dropout at inference: the input unchanged, and a mask of ones when the second output is asked for. */
const dropout: OpImpl = (node, inputs) => {
  const x = req(node, inputs, 0);
  const training = inputs[2];
  if (training?.data[0]) fail(node, 'training_mode=true is not supported (inference only)');
  const outs = [x];
  if ((node.output?.length ?? 0) > 1)
    outs.push(tensor('bool', x.dims, new Uint8Array(x.data.length).fill(1)));
  return outs;
};

export const shapeOps: Record<string, OpImpl> = {
  Reshape: reshape,
  Flatten: flatten,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: transpose,
  Expand: expand,
  Tile: tile,
  Concat: concat,
  Split: split,
  Slice: slice,
  Pad: pad,
  Shape: shape,
  Size: size,
  Identity: identity,
  Dropout: dropout,
};
