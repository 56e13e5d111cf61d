import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { hwcToNormalisedChw, preprocessImage } from '../../../core/adapters/datasets/preprocess.js';
import {
  centreCropOffset,
  defaultPreprocess,
  IMAGENET_MEAN,
  IMAGENET_STD,
  PREPROCESS_PRESETS,
  resizedSize,
  validatePreprocess,
} from '../../../core/compute/images/preprocess.js';

/** A PNG whose pixels are given by `colour(x, y)` (RGB). */
async function png(
  width: number,
  height: number,
  colour: (x: number, y: number) => [number, number, number],
) {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(colour(x, y), (y * width + x) * 3);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

const normalised = (v: number, c: number) => (v / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;

describe('preprocessing geometry (torchvision Resize + CenterCrop)', () => {
  test('resize keeps the aspect ratio and truncates the long side like torchvision', () => {
    assert.deepEqual(resizedSize(500, 375, 256), { width: 341, height: 256 });
    assert.deepEqual(resizedSize(375, 500, 256), { width: 256, height: 341 });
    assert.deepEqual(resizedSize(32, 32, 32), { width: 32, height: 32 });
  });
  test('centre crop offsets round half to even like Python round', () => {
    assert.equal(centreCropOffset(256, 224), 16);
    assert.equal(centreCropOffset(341, 224), 58); // Python round(58.5) = 58
    assert.equal(centreCropOffset(343, 224), 60); // Python round(59.5) = 60
    assert.equal(centreCropOffset(32, 32), 0);
  });
  test('defaults follow the model input size', () => {
    assert.deepEqual(defaultPreprocess(224), PREPROCESS_PRESETS.imagenet);
    assert.equal(defaultPreprocess(32).cropSize, 32);
    assert.equal(defaultPreprocess(32).resizeShortSide, 32);
    assert.equal(defaultPreprocess(299).resizeShortSide, 341);
  });
  test('invalid specs are rejected with the reason', () => {
    assert.throws(
      () => validatePreprocess({ ...PREPROCESS_PRESETS.imagenet, resizeShortSide: 100 }),
      /resizeShortSide/,
    );
    assert.throws(() => validatePreprocess({ ...PREPROCESS_PRESETS.imagenet, std: [1, 0, 1] }), /std/);
  });
});

describe('pixel values', () => {
  test('HWC uint8 becomes CHW (v/255 - mean)/std', () => {
    const hwc = Uint8Array.from([0, 128, 255, 10, 20, 30]); // 1x2 image
    const chw = hwcToNormalisedChw(hwc, 1, 2, PREPROCESS_PRESETS.cifar10);
    const expected = [
      normalised(0, 0),
      normalised(10, 0),
      normalised(128, 1),
      normalised(20, 1),
      normalised(255, 2),
      normalised(30, 2),
    ];
    for (let i = 0; i < expected.length; i++)
      assert.ok(Math.abs(chw[i]! - expected[i]!) < 1e-6, `value ${i}`);
  });

  test('a decoded PNG keeps exact pixel values and channel order when no resize is needed', async () => {
    const image = await png(4, 4, (x, y) => [x * 60, y * 60, 200]);
    const chw = await preprocessImage(image, {
      ...PREPROCESS_PRESETS.cifar10,
      resizeShortSide: 4,
      cropSize: 4,
    });
    assert.equal(chw.length, 3 * 16);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 4; x++) {
        assert.ok(Math.abs(chw[y * 4 + x]! - normalised(x * 60, 0)) < 1e-5);
        assert.ok(Math.abs(chw[16 + y * 4 + x]! - normalised(y * 60, 1)) < 1e-5);
        assert.ok(Math.abs(chw[32 + y * 4 + x]! - normalised(200, 2)) < 1e-5);
      }
    }
  });

  test('the centre crop takes the middle of a wide image', async () => {
    // 40x32: 4 red columns, 32 green, 4 blue. Short side already 32, so the crop is the green middle.
    const image = await png(40, 32, (x) => (x < 4 ? [255, 0, 0] : x >= 36 ? [0, 0, 255] : [0, 255, 0]));
    const chw = await preprocessImage(image, {
      ...PREPROCESS_PRESETS.cifar10,
      resizeShortSide: 32,
      cropSize: 32,
    });
    const plane = 32 * 32;
    for (let i = 0; i < plane; i++) {
      assert.ok(Math.abs(chw[i]! - normalised(0, 0)) < 1e-5, 'no red left');
      assert.ok(Math.abs(chw[plane + i]! - normalised(255, 1)) < 1e-5, 'all green');
    }
  });

  test('a resize then crop yields the crop size, grey images become RGB', async () => {
    const grey = await sharp(Buffer.alloc(300 * 200, 77), { raw: { width: 300, height: 200, channels: 1 } })
      .jpeg()
      .toBuffer();
    const chw = await preprocessImage(grey, PREPROCESS_PRESETS.imagenet);
    assert.equal(chw.length, 3 * 224 * 224);
    const r = chw[0]!;
    const g = chw[224 * 224]!;
    assert.ok(Math.abs(r - normalised(77, 0)) < 0.05 && Math.abs(g - normalised(77, 1)) < 0.05);
  });

  test('corrupt bytes fail with an error (callers skip and record the sample)', async () => {
    const truncated = (await png(8, 8, () => [1, 2, 3])).subarray(0, 40);
    await assert.rejects(preprocessImage(truncated, PREPROCESS_PRESETS.cifar10));
    await assert.rejects(
      preprocessImage(new TextEncoder().encode('not an image'), PREPROCESS_PRESETS.cifar10),
    );
  });
});
