/**
 * The planted features: small patterns, each drawn once per image on a noisy background. A pattern is
 * the change it makes to the background, per colour channel, at unit contrast, as a
 * [3, FEATURE_SIZE, FEATURE_SIZE] CHW array. The lower layer's detector for a feature is the same
 * pattern made zero-mean per channel (a matched filter, see model.ts).
 */

/** Side of every feature patch and of the lower layer's kernels (odd, so the kernel has a centre). */
export const FEATURE_SIZE = 9;
const CENTRE = (FEATURE_SIZE - 1) / 2;

export interface FeatureDefinition {
  /** Folder name and label: lower-case words joined by '_'. */
  readonly name: string;
  readonly description: string;
  /** [3, FEATURE_SIZE, FEATURE_SIZE], row-major CHW. */
  readonly pattern: Float32Array;
}

type Colour = readonly [number, number, number];
const GREY: Colour = [1, 1, 1];

/**
 * Energy (sum of squares) of every pattern after removing each channel's mean. Equal energies give
 * every matched filter the same gain on pixel noise, so every detector's peak has the same
 * distribution and a neuron that ORs two features ranks their images evenly (its top-k mixes them).
 */
export const PATTERN_ENERGY = 50;

const PLANE = FEATURE_SIZE * FEATURE_SIZE;

/** The pattern minus its mean in each colour channel: what a per-channel constant does not change. */
export function zeroMeanPerChannel(pattern: Float32Array): Float32Array {
  const out = new Float32Array(pattern.length);
  for (let c = 0; c < 3; c++) {
    let mean = 0;
    for (let i = 0; i < PLANE; i++) mean += pattern[c * PLANE + i]!;
    mean /= PLANE;
    for (let i = 0; i < PLANE; i++) out[c * PLANE + i] = pattern[c * PLANE + i]! - mean;
  }
  return out;
}

export function energy(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v * v;
  return sum;
}

/**
 * A pattern from a spatial mask in [-1, 1] and the colour direction it pushes the background
 * towards, scaled to PATTERN_ENERGY.
 */
function pattern(colour: Colour, mask: (y: number, x: number) => number): Float32Array {
  const out = new Float32Array(3 * PLANE);
  for (let y = 0; y < FEATURE_SIZE; y++) {
    for (let x = 0; x < FEATURE_SIZE; x++) {
      const m = mask(y - CENTRE, x - CENTRE);
      for (let c = 0; c < 3; c++) out[c * PLANE + y * FEATURE_SIZE + x] = colour[c]! * m;
    }
  }
  const scale = Math.sqrt(PATTERN_ENERGY / energy(zeroMeanPerChannel(out)));
  return out.map((v) => v * scale);
}

const radius = (dy: number, dx: number): number => Math.sqrt(dy * dy + dx * dx);
/** +1 on two rows (columns, ...) then -1 on two: period 4 pixels. */
const square4 = (t: number): number => (((t % 4) + 4) % 4 < 2 ? 1 : -1);

/**
 * The features. Chosen so that each detector's response to any other feature, at any offset, stays
 * below a third of its response to its own feature (checked by the unit tests), with colour blobs and
 * grey textures, as in natural images. Colours are limited to red, green and blue (each the negative
 * of no other): a centre-surround detector of yellow also fires on a blue blob, the yellow's negative.
 */
export const FEATURES: readonly FeatureDefinition[] = [
  {
    name: 'red_disc',
    description: 'a red disc (radius 3.5 px)',
    pattern: pattern([1, -0.5, -0.5], (y, x) => (radius(y, x) <= 3.5 ? 1 : 0)),
  },
  {
    name: 'blue_disc',
    description: 'a blue disc (radius 3.5 px)',
    pattern: pattern([-0.5, -0.5, 1], (y, x) => (radius(y, x) <= 3.5 ? 1 : 0)),
  },
  {
    name: 'horizontal_stripes',
    description: 'grey horizontal stripes, period 4 px',
    pattern: pattern(GREY, (y) => square4(y + CENTRE)),
  },
  {
    name: 'vertical_stripes',
    description: 'grey vertical stripes, period 4 px',
    pattern: pattern(GREY, (_y, x) => square4(x + CENTRE)),
  },
  {
    name: 'checkerboard',
    description: 'a grey checkerboard of 2 px cells',
    pattern: pattern(GREY, (y, x) => square4(y + CENTRE) * square4(x + CENTRE)),
  },
  {
    name: 'ring',
    description: 'a bright grey ring (radii 2.5 to 4 px) with a dark centre',
    pattern: pattern(GREY, (y, x) => {
      const r = radius(y, x);
      if (r <= 1.5) return -1;
      return r >= 2.5 && r <= 4 ? 1 : 0;
    }),
  },
  {
    name: 'green_cross',
    description: 'a green plus sign, arms 3 px wide',
    pattern: pattern([-0.5, 1, -0.5], (y, x) => (Math.abs(y) <= 1 || Math.abs(x) <= 1 ? 1 : 0)),
  },
  {
    name: 'bright_spot',
    description: 'a bright grey spot (radius 2.5 px) in a dark surround (to 4.5 px)',
    pattern: pattern(GREY, (y, x) => {
      const r = radius(y, x);
      if (r <= 2.5) return 1;
      return r <= 4.5 ? -1 : 0;
    }),
  },
];
