/**
 * The planted images: one feature at a random place on a background whose brightness, colour tint
 * and pixel noise are drawn per image (the nuisance variables the distractor channels follow).
 * Every image is a pure function of (seed, feature, index), so an image's content does not depend on
 * how many images are generated, and any one image can be re-rendered alone.
 */

import { fmix32 } from '../random.js';
import { NOMINAL_CONTRAST } from './design.js';
import { FEATURE_SIZE, FEATURES } from './features.js';
import { seededRandom } from './random.js';

/** The ranges the nuisance variables are drawn from, uniformly. */
export const NUISANCE_RANGES = {
  /** Background grey level, image units (pixel / 255). */
  brightness: [0.3, 0.65],
  /** Added to each colour channel independently. */
  tint: [-0.05, 0.05],
  /** Standard deviation of the per-pixel, per-channel Gaussian noise. */
  noise: [0.01, 0.1],
  /** Multiplies the feature's NOMINAL_CONTRAST. */
  contrast: [0.85, 1.15],
} as const;

export interface PlantedImageSpec {
  /** `<feature name>/<index, 4 digits>.png`: the key under the images folder, and the sample id. */
  readonly sampleId: string;
  readonly feature: number;
  readonly index: number;
  /** Top-left corner of the feature patch (FEATURE_SIZE square), in pixels. */
  readonly top: number;
  readonly left: number;
  readonly brightness: number;
  /** Per-channel offsets (R, G, B); "warmth" is tint[0] - tint[2]. */
  readonly tint: readonly [number, number, number];
  readonly noise: number;
  readonly contrast: number;
  /** Seed of this image's pixel noise. */
  readonly noiseSeed: number;
}

/** A 32-bit hash of a few integers (murmur3's finaliser over an FNV-style fold). */
export function mixSeed(...parts: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) h = fmix32(Math.imul(h ^ (part >>> 0), 0x01000193));
  return h;
}

export function sampleIdOf(feature: number, index: number): string {
  return `${FEATURES[feature]!.name}/${String(index).padStart(4, '0')}.png`;
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/** The nuisance and placement of image `index` of `feature`. */
export function plantedImageSpec(
  seed: number,
  feature: number,
  index: number,
  size: number,
): PlantedImageSpec {
  const random = seededRandom(mixSeed(seed, feature, index));
  const span = (range: readonly [number, number]) => round6(random.uniform(range[0], range[1]));
  return {
    sampleId: sampleIdOf(feature, index),
    feature,
    index,
    top: random.integer(0, size - FEATURE_SIZE),
    left: random.integer(0, size - FEATURE_SIZE),
    brightness: span(NUISANCE_RANGES.brightness),
    tint: [span(NUISANCE_RANGES.tint), span(NUISANCE_RANGES.tint), span(NUISANCE_RANGES.tint)],
    noise: span(NUISANCE_RANGES.noise),
    contrast: span(NUISANCE_RANGES.contrast),
    noiseSeed: Math.floor(random.next() * 4294967296),
  };
}

/**
 * Every image spec, ordered by sample id: the order in which a dataset lists the images folder
 * (core/adapters/datasets), so truth.images[i] is the dataset's sample i.
 */
export function plantedImageSpecs(seed: number, imagesPerFeature: number, size: number): PlantedImageSpec[] {
  const specs: PlantedImageSpec[] = [];
  for (let feature = 0; feature < FEATURES.length; feature++) {
    for (let index = 0; index < imagesPerFeature; index++) {
      specs.push(plantedImageSpec(seed, feature, index, size));
    }
  }
  return specs.sort((a, b) => (a.sampleId < b.sampleId ? -1 : a.sampleId > b.sampleId ? 1 : 0));
}

/** The image as 8-bit RGB, row-major HWC (what a PNG holds and what preprocessing reads back). */
export function renderPlantedImage(spec: PlantedImageSpec, size: number): Uint8Array {
  const pattern = FEATURES[spec.feature]!.pattern;
  const plane = FEATURE_SIZE * FEATURE_SIZE;
  const amplitude = spec.contrast * NOMINAL_CONTRAST;
  const random = seededRandom(spec.noiseSeed);
  const pixels = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const py = y - spec.top;
      const px = x - spec.left;
      const inPatch = py >= 0 && py < FEATURE_SIZE && px >= 0 && px < FEATURE_SIZE;
      for (let c = 0; c < 3; c++) {
        let value = spec.brightness + spec.tint[c]! + spec.noise * random.gaussian();
        if (inPatch) value += amplitude * pattern[c * plane + py * FEATURE_SIZE + px]!;
        pixels[(y * size + x) * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, value)));
      }
    }
  }
  return pixels;
}
