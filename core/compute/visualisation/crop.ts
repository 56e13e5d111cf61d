/**
 * Feature visualisation (docs/design.md step 4): the part of a reference image a neuron looks at, from the
 * neuron's input heatmap. As the authors draw it (zennit-crp's `vis_opaque_img` with the PURE
 * thresholds): sum the heat over colour channels, blur it, crop to where |heat| > 1 % of its max, make
 * the crop square, dim (alpha 0.4) where |heat| < 2 % of the max. Plain functions on arrays; the
 * heatmaps come from core/adapters/onnxruntime, the pixels from core/adapters/datasets.
 */

export interface CropOptions {
  /** Crop to where |blurred heat| exceeds this share of its maximum. Default 0.01. */
  readonly cropThreshold?: number;
  /** Dim where |blurred heat| is below this share of its maximum. Default 0.02. */
  readonly dimThreshold?: number;
  /** Brightness kept in dimmed pixels. Default 0.4. */
  readonly alpha?: number;
  /** Odd Gaussian kernel size (torchvision semantics). Default `blurKernelFor(size)`. */
  readonly kernelSize?: number;
}

/** A square crop of the model's view of the image, in its pixels. */
export interface CropBox {
  readonly top: number;
  readonly left: number;
  readonly size: number;
}

export interface FeatureCrop {
  readonly box: CropBox;
  /** Per pixel of the whole image: 1 where shown at full brightness, 0 where dimmed. */
  readonly visible: Uint8Array;
  /** False when the heat is zero everywhere (the neuron is silent on this image): the whole image, undimmed. */
  readonly attributed: boolean;
}

/**
 * The blur kernel for a `size`-pixel model input: zennit-crp blurs 224-pixel ImageNet heatmaps with a
 * 19-pixel kernel; smaller inputs get the same kernel relative to their size (3 pixels for 32).
 */
export function blurKernelFor(size: number): number {
  const k = Math.max(3, Math.round((19 * size) / 224));
  return k % 2 === 1 ? k : k + 1;
}

/** The heat of one image [3, H, W] (CHW, at `offset`) summed over colour channels: [H * W]. */
export function heatPlane(heat: Float32Array, offset: number, height: number, width: number): Float64Array {
  const plane = height * width;
  const out = new Float64Array(plane);
  for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) out[i]! += heat[offset + c * plane + i]!;
  return out;
}

/** torchvision's gaussian kernel: sigma = 0.3 ((k - 1) / 2 - 1) + 0.8, normalised to sum 1. */
export function gaussianKernel(size: number): Float64Array {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) {
    throw new Error(`blur kernel size must be an odd positive integer, got ${size}`);
  }
  const sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8;
  const half = (size - 1) / 2;
  const k = Float64Array.from({ length: size }, (_, i) => Math.exp(-0.5 * ((i - half) / sigma) ** 2));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

/** Reflect an index into [0, n) without repeating the edge (torch's 'reflect' padding). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** Separable Gaussian blur of an H x W plane with reflect padding (torchvision.gaussian_blur). */
export function gaussianBlur(
  plane: Float64Array,
  height: number,
  width: number,
  kernelSize: number,
): Float64Array {
  const k = gaussianKernel(kernelSize);
  const half = (kernelSize - 1) / 2;
  const rows = new Float64Array(plane.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let t = 0; t < kernelSize; t++) s += k[t]! * plane[y * width + reflect(x + t - half, width)]!;
      rows[y * width + x] = s;
    }
  }
  const out = new Float64Array(plane.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let t = 0; t < kernelSize; t++) s += k[t]! * rows[reflect(y + t - half, height) * width + x]!;
      out[y * width + x] = s;
    }
  }
  return out;
}

/** Where to crop and what to dim, from one image's heat plane (summed over colour channels). */
export function featureCrop(
  plane: Float64Array,
  height: number,
  width: number,
  options: CropOptions = {},
): FeatureCrop {
  const cropThreshold = options.cropThreshold ?? 0.01;
  const dimThreshold = options.dimThreshold ?? 0.02;
  const kernelSize = options.kernelSize ?? blurKernelFor(Math.min(height, width));
  const blurred = gaussianBlur(plane, height, width, kernelSize);
  let max = 0;
  for (const v of blurred) max = Math.max(max, Math.abs(v));
  const whole = { top: 0, left: 0, size: Math.min(height, width) };
  if (!(max > 0)) return { box: whole, visible: new Uint8Array(plane.length).fill(1), attributed: false };

  const visible = Uint8Array.from(blurred, (v) => (Math.abs(v) >= dimThreshold * max ? 1 : 0));
  let [top, bottom, left, right] = [height, -1, width, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (Math.abs(blurred[y * width + x]!) > cropThreshold * max) {
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
  }
  const size = Math.min(Math.max(bottom - top + 1, right - left + 1), height, width);
  // Grow the shorter side around its centre, shifted back inside the image where it would leave it.
  const place = (start: number, end: number, limit: number) =>
    Math.min(Math.max(0, Math.floor((start + end + 1 - size) / 2)), limit - size);
  return {
    box: { top: place(top, bottom, height), left: place(left, right, width), size },
    visible,
    attributed: true,
  };
}

/** The crop of an RGB (HWC uint8) image: pixels inside `box`, dimmed by `alpha` where not visible. */
export function renderCrop(rgb: Uint8Array, width: number, crop: FeatureCrop, alpha = 0.4): Uint8Array {
  const { top, left, size } = crop.box;
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = (top + y) * width + (left + x);
      const factor = crop.visible[p] ? 1 : alpha;
      for (let c = 0; c < 3; c++) out[(y * size + x) * 3 + c] = Math.round(rgb[p * 3 + c]! * factor);
    }
  }
  return out;
}
