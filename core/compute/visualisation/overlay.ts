/**
 * The heatmap over the image, as the report's enlarged pictures show it (docs/design.md step 4): each
 * pixel's signed heat, scaled by the largest |heat| of the image, drawn in zennit's diverging `bwr` colours
 * (red: relevance for the neuron, blue: against it) over the image, more opaque where |heat| is larger, so
 * that the picture shows both what the neuron looks at and where that is in the image.
 */

/** Opacity of the heat colour where |heat| is at its maximum. */
const MAX_OPACITY = 0.75;

/**
 * `rgb` (HWC, 3 channels) with `plane` (one heat value per pixel, e.g. core/visualisation/crop.ts heatPlane)
 * laid over it. A silent neuron (heat zero everywhere) leaves the image as it is.
 */
export function heatOverlay(rgb: Uint8Array, plane: ArrayLike<number>): Uint8Array {
  if (rgb.length !== plane.length * 3) {
    throw new Error(`heat plane of ${plane.length} pixels for an image of ${rgb.length / 3}`);
  }
  let max = 0;
  for (let i = 0; i < plane.length; i++) max = Math.max(max, Math.abs(plane[i]!));
  const out = Uint8Array.from(rgb);
  if (!(max > 0) || !Number.isFinite(max)) return out;
  for (let i = 0; i < plane.length; i++) {
    const v = plane[i]! / max;
    const opacity = MAX_OPACITY * Math.abs(v);
    // bwr: red (255, 0, 0) for positive heat, blue (0, 0, 255) for negative.
    const colour = v >= 0 ? [255, 0, 0] : [0, 0, 255];
    for (let c = 0; c < 3; c++) {
      out[3 * i + c] = Math.round((1 - opacity) * rgb[3 * i + c]! + opacity * colour[c]!);
    }
  }
  return out;
}
