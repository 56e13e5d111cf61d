import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gaussianKernel } from '../../../core/compute/visualisation/crop.js';
import {
  cutCrop,
  type EmbeddingCrop,
  embeddingCrop,
  type PixelBox,
  pythonSlice,
  rgbSumInBox,
  stretchContrast,
} from '../../../core/compute/visualisation/embedding-crop.js';

/**
 * An h x w plane, zero except `value` over rows [r0, r1) and columns [c0, c1). With the default kernel
 * (5, sigma 1.1: weights 0.071 0.244 0.370 0.244 0.071) the blur spreads heat two pixels, and two
 * pixels out it is still above 2 % of the maximum: the hot rows of a block are r0 - 2 .. r1 + 1, its
 * hot columns c0 - 2 .. c1 + 1 (clipped to the image).
 */
function block(h: number, w: number, r0: number, r1: number, c0: number, c1: number, value = 1) {
  const plane = new Float64Array(h * w);
  for (let y = r0; y < r1; y++) for (let x = c0; x < c1; x++) plane[y * w + x] = value;
  return plane;
}

const boxOf = (crop: EmbeddingCrop): PixelBox & { cropped: boolean } => {
  const { x0, y0, x1, y1, cropped } = crop;
  return { x0, y0, x1, y1, cropped };
};

describe('the crop the authors embed', () => {
  test('a wide box grows vertically by half the difference, and the last hot row and column are left out', () => {
    // Hot rows 8..13, columns 6..21: dr = 5, dc = 15, rows grow by 5 to 3..18; the slice 3:18, 6:21
    // leaves out row 18 and the hot column 21.
    const crop = embeddingCrop(block(32, 32, 10, 12, 8, 20), 32, 32);
    assert.deepEqual(boxOf(crop), { x0: 6, y0: 3, x1: 21, y1: 18, cropped: true });
    assert.ok(crop.heatInside > 0.99 && crop.heatInside < 1, `${crop.heatInside}`);
    // Negative heat counts as much as positive.
    assert.deepEqual(boxOf(embeddingCrop(block(32, 32, 10, 12, 8, 20, -3), 32, 32)), boxOf(crop));
    // A tall box grows sideways the same way.
    assert.deepEqual(boxOf(embeddingCrop(block(32, 32, 8, 20, 10, 12), 32, 32)), {
      x0: 3,
      y0: 6,
      x1: 18,
      y1: 21,
      cropped: true,
    });
  });

  test('an odd difference leaves the box one short of square', () => {
    // Hot rows 8..12, columns 6..13: dr = 4, dc = 7, 3 // 2 = 1, rows 7:13.
    const crop = embeddingCrop(block(32, 32, 10, 11, 8, 12), 32, 32);
    assert.deepEqual(boxOf(crop), { x0: 6, y0: 7, x1: 13, y1: 13, cropped: true });
  });

  test('a box that grows past the top or left edge is shifted back inside', () => {
    // Hot rows 0..3, columns 2..25: rows grow by 10 to -10..13, shifted to 0..23.
    assert.deepEqual(boxOf(embeddingCrop(block(32, 32, 0, 2, 4, 24), 32, 32)), {
      x0: 2,
      y0: 0,
      x1: 25,
      y1: 23,
      cropped: true,
    });
    assert.deepEqual(boxOf(embeddingCrop(block(32, 32, 4, 24, 0, 2), 32, 32)), {
      x0: 0,
      y0: 2,
      x1: 23,
      y1: 25,
      cropped: true,
    });
  });

  test('a box that grows past the bottom edge is not shifted: the slice clamps it short', () => {
    // Hot rows 28..31, columns 2..25: rows grow by 10 to 18..41, the slice 18:41 clamps to 18:32.
    assert.deepEqual(boxOf(embeddingCrop(block(32, 32, 30, 32, 4, 24), 32, 32)), {
      x0: 2,
      y0: 18,
      x1: 25,
      y1: 32,
      cropped: true,
    });
  });

  test('a single pixel above the crop threshold gives all but the last row and column', () => {
    // The blur spreads any pixel, so only a high crop threshold leaves one: at 0.9 the centre passes,
    // its neighbours (0.244 / 0.370 = 0.66 of it) do not. get_crop_range returns 0, -1, 0, -1.
    const crop = embeddingCrop(block(20, 30, 7, 8, 11, 12), 20, 30, undefined, { cropThreshold: 0.9 });
    assert.deepEqual(boxOf(crop), { x0: 0, y0: 0, x1: 29, y1: 19, cropped: true });
    assert.equal(crop.heatInside, 1);
    // In the last column, the slice 0:-1 cuts the pixel itself off; its visible neighbours keep the crop.
    const edge = embeddingCrop(block(20, 30, 10, 11, 29, 30), 20, 30, undefined, { cropThreshold: 0.9 });
    assert.deepEqual(boxOf(edge), { x0: 0, y0: 0, x1: 29, y1: 19, cropped: true });
    const k = gaussianKernel(5);
    assert.ok(Math.abs(edge.heatInside - (k[0]! + k[1]!) / (k[0]! + k[1]! + k[2]!)) < 1e-12);
    assert.ok(Math.abs(edge.heatMax - k[2]! ** 2) < 1e-15);
  });

  test('a single hot row is not the single-pixel case: it is squared vertically', () => {
    // At 0.9, row 10 columns 6..13 pass (the row sums 0.93 of the maximum one pixel in from each end,
    // 0.68 at the ends): row1 = row2 = 10, dc = 7, rows 7:13.
    const crop = embeddingCrop(block(32, 32, 10, 11, 5, 15), 32, 32, undefined, { cropThreshold: 0.9 });
    assert.deepEqual(boxOf(crop), { x0: 6, y0: 7, x1: 13, y1: 13, cropped: true });
  });

  test('no visible heat inside the box falls back to the whole image', () => {
    // The only pixel above either threshold is the last one, which 0:-1 leaves out.
    const crop = embeddingCrop(block(32, 32, 31, 32, 31, 32), 32, 32, undefined, {
      cropThreshold: 0.9,
      visibleThreshold: 0.95,
    });
    assert.deepEqual(boxOf(crop), { x0: 0, y0: 0, x1: 32, y1: 32, cropped: false });
    assert.equal(crop.heatInside, 1);
  });

  test('zero heat everywhere (0 / 0 = NaN, never above a threshold) keeps the whole image', () => {
    const crop = embeddingCrop(new Float64Array(20 * 30), 20, 30);
    assert.deepEqual(crop, { x0: 0, y0: 0, x1: 30, y1: 20, cropped: false, heatMax: 0, heatInside: 1 });
  });

  test('black pixels in the box keep the whole image', () => {
    const plane = block(32, 32, 10, 12, 8, 20);
    const seen: PixelBox[] = [];
    const crop = embeddingCrop(plane, 32, 32, (box) => {
      seen.push(box);
      return 0;
    });
    assert.deepEqual(seen, [{ x0: 6, y0: 3, x1: 21, y1: 18 }]);
    assert.deepEqual(boxOf(crop), { x0: 0, y0: 0, x1: 32, y1: 32, cropped: false });
    // An RGB image black inside that box only, then with one non-black value in it.
    const rgb = new Uint8Array(32 * 32 * 3).fill(200);
    for (let y = 3; y < 18; y++) rgb.fill(0, (y * 32 + 6) * 3, (y * 32 + 21) * 3);
    assert.equal(embeddingCrop(plane, 32, 32, rgbSumInBox(rgb, 32)).cropped, false);
    rgb[(17 * 32 + 20) * 3 + 2] = 1;
    assert.equal(embeddingCrop(plane, 32, 32, rgbSumInBox(rgb, 32)).cropped, true);
  });

  test('Python slice bounds', () => {
    assert.deepEqual(pythonSlice(0, -1, 10), [0, 9]);
    assert.deepEqual(pythonSlice(3, 41, 32), [3, 32]);
    assert.deepEqual(pythonSlice(5, 5, 10), [5, 5]);
    assert.deepEqual(pythonSlice(7, 4, 10), [7, 7]);
    assert.deepEqual(pythonSlice(-3, 20, 10), [7, 10]);
  });

  test('cutting the crop copies the box, undimmed', () => {
    const rgb = Uint8Array.from({ length: 4 * 5 * 3 }, (_, i) => i);
    const cut = cutCrop(rgb, 5, { x0: 1, y0: 2, x1: 4, y1: 4 });
    assert.deepEqual([cut.width, cut.height], [3, 2]);
    const pixel = (y: number, x: number) => [0, 1, 2].map((c) => (y * 5 + x) * 3 + c);
    assert.deepEqual(
      [...cut.pixels],
      [1, 2, 3, 1, 2, 3].flatMap((x, i) => pixel(i < 3 ? 2 : 3, x)),
    );
    assert.throws(() => cutCrop(rgb, 5, { x0: 0, y0: 0, x1: 6, y1: 1 }), /outside/);
    assert.throws(() => cutCrop(rgb, 5, { x0: 0, y0: 0, x1: 5, y1: 5 }), /outside/);
    assert.throws(() => embeddingCrop(new Float64Array(10), 3, 3), /expected 3 x 3/);
  });
});

/**
 * zennit's imgify on the authors' [0, 1] crop, by hand: every value (all channels together) mapped with
 * floor(255 (v - min) / (max - min)); a flat crop (max = min) divides 0 by 0 and comes out black.
 */
function imgifyByHand(pixels: readonly number[]): number[] {
  const min = Math.min(...pixels);
  const max = Math.max(...pixels);
  if (max === min) return pixels.map(() => 0);
  return pixels.map((v) => Math.floor((255 * (v - min)) / (max - min)));
}

describe("stretchContrast: the crop as the authors' picture of it (zennit's imgify)", () => {
  test('two pixels stretched from min..max to 0..255 over all channels together, floored', () => {
    // min 10 (a green value), max 200 (a blue one): 255 (v - 10) / 190.
    const pixels = [10, 50, 200, 100, 105, 110];
    const out = stretchContrast(Uint8Array.from(pixels));
    assert.ok(out instanceof Uint8Array);
    assert.deepEqual([...out], [0, 53, 255, 120, 127, 134]);
    assert.deepEqual([...out], imgifyByHand(pixels));
    // Each channel is not stretched on its own: the middle pixel keeps its grey.
    assert.equal(new Set(out.slice(3)).size, 3);
  });

  test('matches the hand computation on random crops, and leaves a full-range crop as it is', () => {
    let state = 12345;
    const next = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state;
    };
    for (let trial = 0; trial < 200; trial++) {
      const lo = next() % 200;
      const span = 1 + (next() % (255 - lo));
      const pixels = Array.from({ length: 3 * (1 + (next() % 40)) }, () => lo + (next() % (span + 1)));
      assert.deepEqual([...stretchContrast(Uint8Array.from(pixels))], imgifyByHand(pixels), `trial ${trial}`);
    }
    const full = Uint8Array.from({ length: 256 * 3 }, (_, i) => i % 256);
    assert.deepEqual(stretchContrast(full), full);
  });

  test('a flat crop comes out black, and the input is left untouched', () => {
    const flat = new Uint8Array(12).fill(77);
    assert.deepEqual([...stretchContrast(flat)], new Array(12).fill(0));
    assert.deepEqual([...flat], new Array(12).fill(77));
    assert.deepEqual([...stretchContrast(Uint8Array.of(0, 0, 0))], [0, 0, 0]);
    assert.deepEqual([...stretchContrast(Uint8Array.of(255, 255, 255))], [0, 0, 0]);
    assert.deepEqual([...stretchContrast(new Uint8Array(0))], []);
  });
});
