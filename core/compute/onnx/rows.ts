/**
 * Rows of batch-first tensors: slices, selections and concatenations along axis 0, used to build mixed
 * (image, neuron) batches and to run large batches in chunks.
 */
import { type Tensor, tensor } from './tensor.js';

/** Rows `rows` of a [B, ...] tensor, in that order (to build mixed batches from per-image activations). */
export function selectRows(t: Tensor, rows: readonly number[]): Tensor {
  const size = rowSize(t);
  const out = new (t.data.constructor as Float32ArrayConstructor)(rows.length * size);
  rows.forEach((r, i) => {
    if (!Number.isInteger(r) || r < 0 || r >= (t.dims[0] ?? 0))
      throw new Error(`selectRows: row ${r} out of range`);
    out.set((t.data as Float32Array).subarray(r * size, (r + 1) * size), i * size);
  });
  return tensor(t.dtype, [rows.length, ...t.dims.slice(1)], out);
}

export function rowSize(t: Tensor): number {
  return t.dims.slice(1).reduce((a, b) => a * b, 1);
}

/** Rows [start, end) as a view (no copy). */
export function sliceRows(t: Tensor, start: number, end: number): Tensor {
  const size = rowSize(t);
  return tensor(t.dtype, [end - start, ...t.dims.slice(1)], t.data.subarray(start * size, end * size));
}

export function concatRows(parts: readonly Tensor[]): Tensor {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  const rows = parts.reduce((n, p) => n + (p.dims[0] ?? 0), 0);
  const out = new (first.data.constructor as Float32ArrayConstructor)(rows * rowSize(first));
  let offset = 0;
  for (const p of parts) {
    out.set(p.data as Float32Array, offset);
    offset += p.data.length;
  }
  return tensor(first.dtype, [rows, ...first.dims.slice(1)], out);
}
