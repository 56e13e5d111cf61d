import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { poolEmbeddings } from '../../../core/compute/evaluation/pooling.js';
import { tensor } from '../../../core/compute/onnx/tensor.js';

/** Values 0, 1, 2, ... as a float32 tensor of `dims`: each entry names its own position. */
const counting = (dims: number[]) =>
  tensor(
    'float32',
    dims,
    Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => i),
  );

describe('poolEmbeddings: an encoder output as one embedding per image', () => {
  test('[N, D] is taken as it is', () => {
    const pooled = poolEmbeddings(counting([2, 3]));
    assert.deepEqual([pooled.rows, pooled.dim], [2, 3]);
    assert.deepEqual([...pooled.values], [0, 1, 2, 3, 4, 5]);
  });

  test('[N, T, D] is averaged over the T tokens', () => {
    // Image 0: tokens [0 1 2], [3 4 5]; image 1: [6 7 8], [9 10 11].
    const pooled = poolEmbeddings(counting([2, 2, 3]));
    assert.deepEqual([pooled.rows, pooled.dim], [2, 3]);
    assert.deepEqual([...pooled.values], [1.5, 2.5, 3.5, 7.5, 8.5, 9.5]);
  });

  test('[N, C, H, W] is averaged over H and W per channel (global average pooling)', () => {
    // Image 0, channel 0: 0..3, channel 1: 4..7, channel 2: 8..11; image 1 the same plus 12.
    const pooled = poolEmbeddings(counting([2, 3, 2, 2]));
    assert.deepEqual([pooled.rows, pooled.dim], [2, 3]);
    assert.deepEqual([...pooled.values], [1.5, 5.5, 9.5, 13.5, 17.5, 21.5]);
    // A 1x1 map (a pooled CNN feature, e.g. [N, 512, 1, 1]) is its own mean.
    assert.deepEqual([...poolEmbeddings(counting([1, 4, 1, 1])).values], [0, 1, 2, 3]);
  });

  test('the mean is exact for float32 values that do not sum exactly in float32', () => {
    // 2^24 + 1 is not a float32; a float32 running sum would lose the 1s.
    const tokens = 4;
    const data = new Float32Array(tokens).fill(1);
    data[0] = 2 ** 24;
    const pooled = poolEmbeddings(tensor('float32', [1, tokens, 1], data));
    assert.equal(pooled.values[0], Math.fround((2 ** 24 + 3) / tokens));
  });

  test('other ranks and dtypes are refused with the shape an embedding needs', () => {
    for (const dims of [[6], [1, 2, 3, 1, 1]]) {
      assert.throws(
        () => poolEmbeddings(counting(dims)),
        new RegExp(
          `the encoder output has shape \\[${dims.join(', ')}\\]; an embedding needs \\[N, D\\], \\[N, T, D\\] or \\[N, C, H, W\\]`,
        ),
      );
    }
    assert.throws(
      () => poolEmbeddings(tensor('int64', [2, 3], new BigInt64Array(6))),
      /the encoder output is int64, expected float32/,
    );
  });
});
