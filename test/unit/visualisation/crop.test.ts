import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  blurKernelFor,
  featureCrop,
  gaussianBlur,
  gaussianKernel,
  heatPlane,
  renderCrop,
} from '../../../core/compute/visualisation/crop.js';
import { maxAbsDifference } from '../../support/differences.js';
import { seededRandom } from '../../support/random.js';

/** The blur as a direct 2D convolution over an explicitly mirrored copy (numpy's pad mode 'reflect'). */
function bruteForceBlur(plane: Float64Array, h: number, w: number, k: number): Float64Array {
  const half = (k - 1) / 2;
  const sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8;
  const g = (d: number) => Math.exp(-0.5 * (d / sigma) ** 2);
  let norm = 0;
  for (let dy = -half; dy <= half; dy++) for (let dx = -half; dx <= half; dx++) norm += g(dy) * g(dx);
  const mirror = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * n - 2 - i : i);
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = -half; dy <= half; dy++) {
        for (let dx = -half; dx <= half; dx++) {
          s += g(dy) * g(dx) * plane[mirror(y + dy, h) * w + mirror(x + dx, w)]!;
        }
      }
      out[y * w + x] = s / norm;
    }
  }
  return out;
}

/** A 64 x 64 plane, zero except a block of `value` over rows [r0, r1) and columns [c0, c1). */
function block(r0: number, r1: number, c0: number, c1: number, value = 1): Float64Array {
  const plane = new Float64Array(64 * 64);
  for (let y = r0; y < r1; y++) for (let x = c0; x < c1; x++) plane[y * 64 + x] = value;
  return plane;
}

describe('feature visualisation crops', () => {
  test('the Gaussian blur equals a direct 2D convolution with mirrored borders', () => {
    const rand = seededRandom(3);
    for (const [h, w, k] of [
      [17, 23, 3],
      [32, 32, 5],
      [40, 31, 19],
    ] as const) {
      const plane = Float64Array.from({ length: h * w }, () => rand() * 2 - 1);
      const ours = gaussianBlur(plane, h, w, k);
      const direct = bruteForceBlur(plane, h, w, k);
      const worst = maxAbsDifference(ours, direct);
      assert.ok(worst < 1e-12, `${h}x${w} k=${k}: ${worst}`);
    }
    assert.ok(Math.abs(gaussianKernel(19).reduce((a, b) => a + b, 0) - 1) < 1e-15);
    assert.throws(() => gaussianKernel(4), /odd positive integer/);
    assert.deepEqual([blurKernelFor(224), blurKernelFor(32), blurKernelFor(64)], [19, 3, 5]);
  });

  test('heat is summed over colour channels', () => {
    const heat = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    // Second image (offset 12), planes [12..15], [16..19], [20..23].
    assert.deepEqual([...heatPlane(heat, 12, 2, 2)], [48, 51, 54, 57]);
  });

  test('the crop is a square around the heat, inside the image, and dims what is cold', () => {
    // A 4 x 10 block of positive heat: the square grows the 4 rows around their centre.
    const crop = featureCrop(block(20, 24, 30, 40), 64, 64, { kernelSize: 3 });
    const { top, left, size } = crop.box;
    assert.ok(crop.attributed);
    // The blur spreads the block by one pixel on each side (kernel 3).
    assert.equal(size, 12);
    assert.deepEqual([left, left + size], [29, 41]);
    assert.ok(top <= 19 && top + size >= 25, `rows ${top}..${top + size}`);
    assert.equal(crop.visible[22 * 64 + 35], 1);
    assert.equal(crop.visible[5 * 64 + 5], 0);
    // Negative heat counts as much as positive.
    assert.deepEqual(featureCrop(block(20, 24, 30, 40, -3), 64, 64, { kernelSize: 3 }).box, crop.box);
  });

  test('a crop near a corner is shifted back inside the image', () => {
    const crop = featureCrop(block(0, 2, 58, 64), 64, 64, { kernelSize: 3 });
    assert.ok(crop.box.top >= 0 && crop.box.left >= 0);
    assert.ok(crop.box.top + crop.box.size <= 64 && crop.box.left + crop.box.size <= 64);
    assert.equal(crop.box.left + crop.box.size, 64);
    assert.equal(crop.box.top, 0);
  });

  test('a silent neuron (zero heat) keeps the whole image, undimmed', () => {
    const crop = featureCrop(new Float64Array(64 * 64), 64, 64);
    assert.equal(crop.attributed, false);
    assert.deepEqual(crop.box, { top: 0, left: 0, size: 64 });
    assert.ok(crop.visible.every((v) => v === 1));
  });

  test('rendering cuts the box out and dims invisible pixels by alpha', () => {
    const rgb = Uint8Array.from({ length: 4 * 4 * 3 }, (_, i) => (i * 7) % 256);
    const visible = new Uint8Array(16).fill(1);
    visible[1 * 4 + 2] = 0;
    const out = renderCrop(rgb, 4, { box: { top: 1, left: 1, size: 2 }, visible, attributed: true }, 0.4);
    assert.equal(out.length, 2 * 2 * 3);
    const pixel = (y: number, x: number) => [0, 1, 2].map((c) => rgb[(y * 4 + x) * 3 + c]!);
    assert.deepEqual([...out.subarray(0, 3)], pixel(1, 1));
    assert.deepEqual(
      [...out.subarray(3, 6)],
      pixel(1, 2).map((v) => Math.round(v * 0.4)),
    );
    assert.deepEqual([...out.subarray(9, 12)], pixel(2, 2));
  });
});
