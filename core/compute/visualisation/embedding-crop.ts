/**
 * The crop of a reference image that the PURE authors embed with CLIP (docs/design.md step 4): their
 * utils/render.py `crop_and_mask_images(..., rf=True)` with its defaults (kernel 5, crop threshold 2 %,
 * visibility threshold 1 %, alpha 0) and zennit-crp's `get_crop_range`. Not the display crop of
 * crop.ts (kernel 19, thresholds swapped, dimmed): this one is cut out undimmed, and reproduces the
 * authors' box arithmetic quirk for quirk, so that the embeddings see the same pixels. Plain functions
 * on arrays, like crop.ts. The authors then turn the crop into a picture with zennit's `imgify`, which
 * stretches its values (all channels together) from min..max to 0..255, floored: `stretchContrast`.
 */
import { gaussianBlur } from './crop.js';

export interface EmbeddingCropOptions {
  /** Odd Gaussian kernel size, torchvision semantics (sigma 0.15 k + 0.35). Default 5. */
  readonly kernelSize?: number;
  /** Crop to where |blurred heat| / its max exceeds this (`crop_th`). Default 0.02. */
  readonly cropThreshold?: number;
  /** The box must hold a pixel where |blurred heat| / its max exceeds this (`vis_th`). Default 0.01. */
  readonly visibleThreshold?: number;
}

/** A half-open box in model-input pixels: x0 <= x < x1, y0 <= y < y1. */
export interface PixelBox {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export interface EmbeddingCrop extends PixelBox {
  /**
   * False when the authors fall back to the whole image (then the box is the whole image): no heat, no
   * visible heat inside the box, or only black pixels inside it.
   */
  readonly cropped: boolean;
  /** max |blurred heat|, before normalisation; 0 when there is no heat. */
  readonly heatMax: number;
  /** Share of the sum of |blurred heat| inside the box; 1 for the whole image. */
  readonly heatInside: number;
}

/** zennit-crp's `get_crop_range` result: rows row1..row2, columns col1..col2 (see `cropRange`). */
interface CropRange {
  row1: number;
  row2: number;
  col1: number;
  col2: number;
}

/**
 * zennit-crp's `get_crop_range`: the first and last row and column where heat > threshold. Quirks:
 * - nothing above the threshold gives (0, -1, 0, -1), which the slice later reads as "all but the last
 *   row and column" (not the whole image);
 * - so does a single pixel above it (`row1 >= row2 and col1 >= col2`), but a single row or column
 *   spanning several pixels does not (the test is `and`, not `or`);
 * - NaN heat (0 / 0 on an all-zero plane) is never above the threshold.
 */
function cropRange(normalised: Float64Array, height: number, width: number, threshold: number): CropRange {
  let [row1, row2, col1, col2] = [height, -1, width, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (normalised[y * width + x]! > threshold) {
        row1 = Math.min(row1, y);
        row2 = Math.max(row2, y);
        col1 = Math.min(col1, x);
        col2 = Math.max(col2, x);
      }
    }
  }
  if (row2 < 0 || (row1 >= row2 && col1 >= col2)) return { row1: 0, row2: -1, col1: 0, col2: -1 };
  return { row1, row2, col1, col2 };
}

/**
 * The authors' squaring, verbatim: the shorter side grows by (difference // 2) at both ends; only the
 * start is shifted back inside the image (to 0). Quirks: an odd difference leaves the box one short of
 * square; the far end is not shifted back, so the slice clamps it and the box comes out short there.
 * The differences are positive here, so Python's floor `//` is Math.floor.
 */
function squared(range: CropRange): CropRange {
  let { row1, row2, col1, col2 } = range;
  const dr = row2 - row1;
  const dc = col2 - col1;
  if (dr > dc) {
    col1 -= Math.floor((dr - dc) / 2);
    col2 += Math.floor((dr - dc) / 2);
    if (col1 < 0) {
      col2 -= col1;
      col1 = 0;
    }
  } else if (dc > dr) {
    row1 -= Math.floor((dc - dr) / 2);
    row2 += Math.floor((dc - dr) / 2);
    if (row1 < 0) {
      row2 -= row1;
      row1 = 0;
    }
  }
  return { row1, row2, col1, col2 };
}

/**
 * Python's `start:stop` on a length-n axis, as [first, end) (empty when end <= first). Quirk: `stop` is
 * exclusive, so the last hot row and column found by `cropRange` are left out of the crop; a negative
 * bound counts from the end (-1 is n - 1); bounds past the end clamp to n.
 */
export function pythonSlice(start: number, stop: number, n: number): [number, number] {
  const bound = (i: number) => (i < 0 ? Math.max(0, i + n) : Math.min(i, n));
  const first = bound(start);
  return [first, Math.max(first, bound(stop))];
}

/** Sum of |heat| over a box, and how many of its pixels have normalised heat above `threshold`. */
function boxHeat(
  abs: Float64Array,
  normalised: Float64Array,
  width: number,
  box: PixelBox,
  threshold: number,
) {
  let sum = 0;
  let visible = 0;
  for (let y = box.y0; y < box.y1; y++) {
    for (let x = box.x0; x < box.x1; x++) {
      sum += abs[y * width + x]!;
      if (normalised[y * width + x]! > threshold) visible++;
    }
  }
  return { sum, visible };
}

/**
 * The box the authors crop one reference image to before embedding it, from the image's heat plane
 * (input relevance summed over colour channels, [height x width], see crop.ts `heatPlane`).
 * `pixelSumInBox` stands in for their `img_t.sum() != 0` on the un-normalised [0, 1] image (a box of
 * black pixels falls back to the whole image); by default the pixels are taken as not all black.
 */
export function embeddingCrop(
  plane: Float64Array,
  height: number,
  width: number,
  pixelSumInBox: (box: PixelBox) => number = () => 1,
  options: EmbeddingCropOptions = {},
): EmbeddingCrop {
  const heat = blurredHeat(plane, height, width, options);
  const { row1, row2, col1, col2 } = squared(
    cropRange(heat.normalised, height, width, options.cropThreshold ?? 0.02),
  );
  const [y0, y1] = pythonSlice(row1, row2, height);
  const [x0, x1] = pythonSlice(col1, col2, width);
  return cropOf(heat, { x0, y0, x1, y1 }, height, width, pixelSumInBox, options);
}

/**
 * The crop of a token neuron (docs/attribution.md, "Token neurons"): the box is fixed beforehand (the
 * image patch of its arg-max token, token-patch.ts) instead of thresholded from the heat; heatMax,
 * heatInside and the authors' fall-backs to the whole image (no visible heat in the box, black pixels)
 * as embeddingCrop.
 */
export function embeddingCropInBox(
  plane: Float64Array,
  height: number,
  width: number,
  box: PixelBox,
  pixelSumInBox: (box: PixelBox) => number = () => 1,
  options: EmbeddingCropOptions = {},
): EmbeddingCrop {
  if (box.x0 < 0 || box.y0 < 0 || box.x1 > width || box.y1 > height || box.x1 <= box.x0 || box.y1 <= box.y0) {
    throw new Error(
      `crop box ${box.x0},${box.y0}..${box.x1},${box.y1} lies outside a ${width}x${height} image`,
    );
  }
  const crop = cropOf(blurredHeat(plane, height, width, options), box, height, width, pixelSumInBox, options);
  // A box that is the whole image (a class token's) is no crop.
  const whole = box.x0 === 0 && box.y0 === 0 && box.x1 === width && box.y1 === height;
  return whole ? { ...crop, cropped: false, heatInside: 1 } : crop;
}

interface BlurredHeat {
  readonly abs: Float64Array;
  readonly normalised: Float64Array;
  readonly heatMax: number;
}

function blurredHeat(
  plane: Float64Array,
  height: number,
  width: number,
  options: EmbeddingCropOptions,
): BlurredHeat {
  if (plane.length !== height * width) {
    throw new Error(`heat plane has ${plane.length} values, expected ${height} x ${width}`);
  }
  const abs = gaussianBlur(plane, height, width, options.kernelSize ?? 5).map(Math.abs);
  let heatMax = 0;
  for (const v of abs) heatMax = Math.max(heatMax, v);
  // Divided, then compared, as torch does; 0 / 0 is NaN, and NaN > threshold is false.
  return { abs, normalised: abs.map((v) => v / heatMax), heatMax };
}

/** The box as the crop, or the whole image where the authors fall back to it. */
function cropOf(
  heat: BlurredHeat,
  box: PixelBox,
  height: number,
  width: number,
  pixelSumInBox: (box: PixelBox) => number,
  options: EmbeddingCropOptions,
): EmbeddingCrop {
  const { abs, normalised, heatMax } = heat;
  const inside = boxHeat(abs, normalised, width, box, options.visibleThreshold ?? 0.01);
  // Python tests img_t.sum() first; the order makes no difference to a pure callback.
  if (inside.visible > 0 && pixelSumInBox(box) !== 0) {
    let total = 0;
    for (const v of abs) total += v;
    return { ...box, cropped: true, heatMax, heatInside: inside.sum / total };
  }
  return { x0: 0, y0: 0, x1: width, y1: height, cropped: false, heatMax, heatInside: 1 };
}

/**
 * `pixelSumInBox` for an RGB (HWC uint8) image: the sum of its values inside the box. Zero exactly
 * where the authors' [0, 1] image sums to zero in the box (all black).
 */
export function rgbSumInBox(rgb: Uint8Array, width: number): (box: PixelBox) => number {
  return (box) => {
    let sum = 0;
    for (let y = box.y0; y < box.y1; y++) {
      for (let i = (y * width + box.x0) * 3; i < (y * width + box.x1) * 3; i++) sum += rgb[i]!;
    }
    return sum;
  };
}

/** The pixels of an RGB (HWC uint8) image inside the crop's box, undimmed (the authors' alpha is unused). */
export function cutCrop(
  rgb: Uint8Array,
  width: number,
  crop: PixelBox,
): { pixels: Uint8Array; width: number; height: number } {
  const { x0, y0, x1, y1 } = crop;
  if (x0 < 0 || y0 < 0 || x1 > width || x1 < x0 || y1 < y0 || y1 * width * 3 > rgb.length) {
    throw new Error(`crop box ${x0},${y0}..${x1},${y1} lies outside a ${width}-pixel-wide image`);
  }
  const out = { pixels: new Uint8Array((x1 - x0) * (y1 - y0) * 3), width: x1 - x0, height: y1 - y0 };
  for (let y = y0; y < y1; y++) {
    out.pixels.set(rgb.subarray((y * width + x0) * 3, (y * width + x1) * 3), (y - y0) * out.width * 3);
  }
  return out;
}

/**
 * zennit's `imgify` on an image in [0, 1] (what the authors embed): (x - min) / (max - min) over all
 * channels together, times 255, floored. A flat crop (max = min) divides 0 by 0 there and comes out
 * black on the numpy versions the authors used; here too. Computed exactly on the integer pixels: zennit
 * computes in float32, which is one grey level lower in about 1 % of (value, min, max) cases (e.g. 152
 * for 3 of 0..5, here 153); not worth emulating for an embedding.
 */
export function stretchContrast(pixels: Uint8Array): Uint8Array {
  let min = 255;
  let max = 0;
  for (const v of pixels) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (max === min) return new Uint8Array(pixels.length);
  // On v / 255: 255 (v/255 - min/255) / (max/255 - min/255) = 255 (v - min) / (max - min).
  return pixels.map((v) => Math.floor((255 * (v - min)) / (max - min)));
}
