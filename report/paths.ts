/**
 * Where each file of the report goes, relative to `report/` (the pages link to each other and to their
 * pictures by these relative paths, so the folder opens from disk and from any static host):
 *
 *   index.html                        the run's overview
 *   layer-<i>.html                    the index of layer i (its position in config.layers)
 *   layer-<i>/neuron-<c>.html         one page per neuron
 *   crops/<i>/<c>/<s>.png, -heat.EXT  neuron c's heatmap crop of image s, and the heatmap over the image
 *   img/<s>.png, img/<s>-view.EXT     image s as a thumbnail, and as the model sees it (enlarged view)
 *
 * EXT is `png` for small model inputs (lossless, and tiny) and `jpg` from 96 pixels up (a 224-pixel
 * photo is ~120 kB as PNG, ~15 kB as JPEG: a thousand of them make the difference).
 *   assets/report.css, report.js      shared by every page
 */

/** The report's folder in the run: every key below is relative to it, as the pages link to each other. */
export const REPORT_PREFIX = 'report';

/** The key of a file of the report relative to the run, from its path relative to `report/`. */
export const reportKey = (path: string): string => `${REPORT_PREFIX}/${path}`;

/** The path relative to `report/` of a key relative to the run (the inverse of reportKey). */
export const reportPath = (key: string): string => key.slice(`${REPORT_PREFIX}/`.length);

/** The index page of layer `index` (its position in config.layers). */
export const layerPage = (index: number): string => `layer-${index}.html`;

/** The page of one neuron; its links start with `../` (see fromNeuronPage). */
export const neuronPage = (layerIndex: number, neuron: number): string =>
  `layer-${layerIndex}/neuron-${neuron}.html`;

/** A path relative to `report/` as a neuron page (one folder down) links to it. */
export const fromNeuronPage = (path: string): string => `../${path}`;

export const ASSETS = { css: 'assets/report.css', js: 'assets/report.js' } as const;

/** A picture a page shows: the thumbnail, and the larger picture a click opens. */
export interface PicturePaths {
  readonly thumb: string;
  readonly large: string;
}

/**
 * How a neuron's pictures are drawn: `crop`, its heatmap crop of each image and the heatmap over the image
 * (one heatmap per neuron and image: the expensive kind); `image`, the images themselves, shared by every
 * neuron that shows them.
 */
export type PictureKind = 'crop' | 'image';

/** The format of the enlarged pictures, by the model's input size (see above). */
export type LargeFormat = 'png' | 'jpg';

export const largeFormatFor = (side: number): LargeFormat => (side < 96 ? 'png' : 'jpg');

/** The picture of image `sampleIndex` in the gallery of neuron (layerIndex, neuron), relative to `report/`. */
export function picturePaths(
  kind: PictureKind,
  layerIndex: number,
  neuron: number,
  sampleIndex: number,
  large: LargeFormat,
): PicturePaths {
  if (kind === 'image') return { thumb: `img/${sampleIndex}.png`, large: `img/${sampleIndex}-view.${large}` };
  const base = `crops/${layerIndex}/${neuron}/${sampleIndex}`;
  return { thumb: `${base}.png`, large: `${base}-heat.${large}` };
}
