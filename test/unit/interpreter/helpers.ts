/** Shared helpers for the interpreter tests: running models in onnxruntime, comparing tensors, random data. */
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { type DType, numel, type Tensor, tensor, toNumbers } from '../../../core/compute/onnx/tensor.js';

/** The project's seeded PRNG (mulberry32), so failures reproduce. */
export { createRandom as rng } from '../../../core/compute/random.js';

/** Uniform float32 values in [lo, hi). */
export function randomFloats(rand: () => number, dims: number[], lo = -1, hi = 1): Tensor {
  const data = new Float32Array(numel(dims));
  for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * rand();
  return tensor('float32', dims, data);
}

export function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype, t.data, [...t.dims]);
}

function ortDType(type: string): DType {
  switch (type) {
    case 'float32':
    case 'float64':
    case 'int64':
    case 'int32':
    case 'bool':
    case 'uint8':
    case 'int8':
      return type;
    default:
      throw new Error(`unexpected onnxruntime tensor type ${type}`);
  }
}

export function fromOrt(t: ort.Tensor): Tensor {
  const dtype = ortDType(t.type);
  const data = t.data;
  if (
    data instanceof Float32Array ||
    data instanceof Float64Array ||
    data instanceof BigInt64Array ||
    data instanceof Int32Array ||
    data instanceof Uint8Array ||
    data instanceof Int8Array
  ) {
    return tensor(dtype, [...t.dims], data);
  }
  throw new Error(`unexpected onnxruntime data for ${t.type}`);
}

/** Run a model in onnxruntime (CPU) and return the named outputs. */
export async function runOrt(
  model: Uint8Array | string,
  feeds: Record<string, Tensor>,
  outputs: readonly string[],
): Promise<Record<string, Tensor>> {
  // logSeverityLevel 3: errors only (onnxruntime warns when its run-time shape differs from the
  // model's inferred one, e.g. ceil-mode pools whose last window starts in the padding).
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    logSeverityLevel: 3,
  };
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model, options)
      : await ort.InferenceSession.create(model, options);
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
    const res = await session.run(ortFeeds, [...outputs]);
    const out: Record<string, Tensor> = {};
    for (const name of outputs) out[name] = fromOrt(res[name]!);
    return out;
  } finally {
    await session.release();
  }
}

/** max |a - b| / max(max |b|, floor): the error relative to the reference's scale. */
export function relError(actual: Tensor, expected: Tensor, floor = 1e-6): number {
  const a = toNumbers(actual);
  const b = toNumbers(expected);
  let maxDiff = 0;
  let scale = floor;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d) && !(Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) return Number.POSITIVE_INFINITY;
    if (d > maxDiff) maxDiff = d;
    if (Math.abs(b[i]!) > scale) scale = Math.abs(b[i]!);
  }
  return maxDiff / scale;
}

/** Same dims and dtype family; floats within `tol` relative error, everything else exact. */
export function assertClose(actual: Tensor, expected: Tensor, tol: number, what: string): void {
  assert.deepEqual([...actual.dims], [...expected.dims], `${what}: dims`);
  const floatish = (d: DType) => d === 'float32' || d === 'float64';
  if (floatish(expected.dtype)) {
    assert.ok(floatish(actual.dtype), `${what}: dtype ${actual.dtype}, expected ${expected.dtype}`);
    const err = relError(actual, expected);
    assert.ok(err < tol, `${what}: relative error ${err.toExponential(3)} >= ${tol}`);
  } else {
    assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
    assert.deepEqual(toNumbers(actual), toNumbers(expected), `${what}: values`);
  }
}
