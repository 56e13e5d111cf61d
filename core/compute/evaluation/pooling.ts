/**
 * An image encoder's output as one embedding per image (docs/design.md step 5). The paper's CLIP
 * embedding is the mean of the vision tower's last hidden state over its tokens; a CNN's feature map is
 * pooled over space the same way, so any encoder's tensor reduces to [N, D] by one rule:
 *   [N, D]        as it is
 *   [N, T, D]     mean over the T tokens (a transformer's hidden state)
 *   [N, C, H, W]  mean over H and W (a convolutional feature map, like global average pooling)
 */
import type { Tensor } from '../onnx/tensor.js';

export interface Embeddings {
  /** Row-major [rows, dim]. */
  readonly values: Float32Array;
  readonly rows: number;
  readonly dim: number;
}

export function poolEmbeddings(output: Tensor): Embeddings {
  if (output.dtype !== 'float32') throw new Error(`the encoder output is ${output.dtype}, expected float32`);
  const dims = output.dims;
  const data = output.data as Float32Array;
  const rows = dims[0]!;
  if (dims.length === 2) return { values: data, rows, dim: dims[1]! };
  if (dims.length === 3) return meanOverMiddle(data, rows, dims[1]!, dims[2]!);
  if (dims.length === 4) return meanOverTrailing(data, rows, dims[1]!, dims[2]! * dims[3]!);
  throw new Error(
    `the encoder output has shape [${dims.join(', ')}]; an embedding needs [N, D], [N, T, D] or [N, C, H, W]`,
  );
}

/** [N, T, D] -> mean over T. */
function meanOverMiddle(data: Float32Array, rows: number, tokens: number, dim: number): Embeddings {
  const values = new Float32Array(rows * dim);
  const sums = new Float64Array(dim);
  for (let n = 0; n < rows; n++) {
    sums.fill(0);
    for (let t = 0; t < tokens; t++) {
      const base = (n * tokens + t) * dim;
      for (let d = 0; d < dim; d++) sums[d]! += data[base + d]!;
    }
    for (let d = 0; d < dim; d++) values[n * dim + d] = sums[d]! / tokens;
  }
  return { values, rows, dim };
}

/** [N, C, S] (S = H x W) -> mean over S. */
function meanOverTrailing(data: Float32Array, rows: number, channels: number, space: number): Embeddings {
  const values = new Float32Array(rows * channels);
  for (let i = 0; i < rows * channels; i++) {
    let sum = 0;
    for (let s = 0; s < space; s++) sum += data[i * space + s]!;
    values[i] = sum / space;
  }
  return { values, rows, dim: channels };
}
