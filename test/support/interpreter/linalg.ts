/** Gemm and MatMul (numpy matmul semantics: 1-D promotion, broadcast batch dims), float64 accumulation. */
import { attrFloat, attrInt } from '../../../core/compute/onnx/attributes.js';
import { allocData, isFloat, numel, type Tensor, tensor } from '../../../core/compute/onnx/tensor.js';
import { broadcastMap, broadcastShapes, fail, floatOut, type NumberArray, type OpImpl, req } from './util.js';

function floats(node: Parameters<OpImpl>[0], ts: readonly (Tensor | undefined)[]): void {
  for (const t of ts) if (t && !isFloat(t.dtype)) fail(node, `${t.dtype} input is not supported`);
}

/** C[M,N] += A[M,K] B[K,N] for row-major blocks at the given offsets (acc is M*N float64). */
function matmulInto(
  acc: Float64Array,
  A: NumberArray,
  aOff: number,
  B: NumberArray,
  bOff: number,
  M: number,
  K: number,
  N: number,
): void {
  for (let i = 0; i < M; i++) {
    const row = i * N;
    for (let k = 0; k < K; k++) {
      const a = A[aOff + i * K + k]!;
      if (a === 0) continue;
      const bRow = bOff + k * N;
      for (let j = 0; j < N; j++) acc[row + j]! += a * B[bRow + j]!;
    }
  }
}

const matMul: OpImpl = (node, inputs, ctx) => {
  const a = req(node, inputs, 0);
  const b = req(node, inputs, 1);
  floats(node, [a, b]);
  if (a.dims.length === 0 || b.dims.length === 0) fail(node, 'scalar operands are not allowed');
  const aDims = a.dims.length === 1 ? [1, a.dims[0]!] : [...a.dims];
  const bDims = b.dims.length === 1 ? [b.dims[0]!, 1] : [...b.dims];
  const M = aDims[aDims.length - 2]!;
  const K = aDims[aDims.length - 1]!;
  const K2 = bDims[bDims.length - 2]!;
  const N = bDims[bDims.length - 1]!;
  if (K !== K2) fail(node, `inner dims differ: [${a.dims}] x [${b.dims}]`);
  const aBatch = aDims.slice(0, -2);
  const bBatch = bDims.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes(aBatch, bBatch);
  } catch (e) {
    fail(node, (e as Error).message);
  }
  const nb = numel(batch);
  const aMap = broadcastMap(aBatch, batch);
  const bMap = broadcastMap(bBatch, batch);
  const dtype = floatOut(a.dtype, ctx);
  const out = allocData(dtype, nb * M * N) as NumberArray;
  const acc = new Float64Array(M * N);
  for (let p = 0; p < nb; p++) {
    acc.fill(0);
    matmulInto(
      acc,
      a.data as NumberArray,
      aMap[p]! * M * K,
      b.data as NumberArray,
      bMap[p]! * K * N,
      M,
      K,
      N,
    );
    out.set(acc, p * M * N);
  }
  const dims = [...batch];
  if (a.dims.length > 1) dims.push(M);
  if (b.dims.length > 1) dims.push(N);
  return [tensor(dtype, dims, out)];
};

/** Row-major copy of a 2-D matrix, transposed when asked. */
function matrix(t: Tensor, trans: boolean): { data: NumberArray; rows: number; cols: number } {
  const [r = 0, c = 0] = t.dims;
  const src = t.data as NumberArray;
  if (!trans) return { data: src, rows: r, cols: c };
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = src[i * c + j]!;
  return { data: out, rows: c, cols: r };
}

const gemm: OpImpl = (node, inputs, ctx) => {
  const a = req(node, inputs, 0);
  const b = req(node, inputs, 1);
  const c = inputs[2];
  floats(node, [a, b, c]);
  if (a.dims.length !== 2 || b.dims.length !== 2)
    fail(node, `A and B must be 2-D, got [${a.dims}], [${b.dims}]`);
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  const A = matrix(a, attrInt(node, 'transA', 0) === 1);
  const B = matrix(b, attrInt(node, 'transB', 0) === 1);
  if (A.cols !== B.rows) fail(node, `inner dims differ: [${a.dims}] x [${b.dims}] after transposes`);
  const M = A.rows;
  const N = B.cols;
  const acc = new Float64Array(M * N);
  matmulInto(acc, A.data, 0, B.data, 0, M, A.cols, N);
  const dtype = floatOut(a.dtype, ctx);
  const out = allocData(dtype, M * N) as NumberArray;
  if (c) {
    let map: Int32Array;
    try {
      if (broadcastShapes(c.dims, [M, N]).join() !== `${M},${N}`) throw new Error('C too large');
      map = broadcastMap(c.dims, [M, N]);
    } catch {
      fail(node, `C [${c.dims}] does not broadcast to [${M}, ${N}]`);
    }
    const C = c.data as NumberArray;
    for (let i = 0; i < M * N; i++) out[i] = alpha * acc[i]! + beta * C[map[i]!]!;
  } else {
    for (let i = 0; i < M * N; i++) out[i] = alpha * acc[i]!;
  }
  return [tensor(dtype, [M, N], out)];
};

export const linalgOps: Record<string, OpImpl> = { MatMul: matMul, Gemm: gemm };
