import type { ReportImage } from './data.js';

/** The report's folder in the run: every key below is relative to it, as the pages link to each other. */
export const REPORT_PREFIX = 'report';

/** The key of a file of the report relative to the run, from its path relative to `report/`. */
export const reportKey = (path: string): string => `${REPORT_PREFIX}/${path}`;

/** The path relative to `report/` of a key relative to the run (the inverse of reportKey). */
export const reportPath = (key: string): string => key.slice(`${REPORT_PREFIX}/`.length);

/** The key of the page of layer `index` (its position in config.layers), relative to `report/`. */
export const layerPage = (index: number): string => `layer-${index}.html`;

/** An image as a whole, relative to `report/`: every page that shows the image shares it. */
const thumbPath = (sampleIndex: number): string => `img/${sampleIndex}.png`;

/** A neuron's crop of an image, relative to `report/`: a neuron sees each of its images its own way. */
const cropPath = (layerIndex: number, neuron: number, sampleIndex: number): string =>
  `crops/${layerIndex}/${neuron}/${sampleIndex}.png`;

/** The picture of `img` on the page of layer `layerIndex`, in the section of `neuron`, relative to `report/`. */
export type ImageSource = (layerIndex: number, neuron: number, img: ReportImage) => string;

/** Where the pictures go: a crop per (layer, neuron, image), or with `crops` false a thumbnail per image. */
export function imageSource(crops: boolean): ImageSource {
  return crops
    ? (layerIndex, neuron, img) => cropPath(layerIndex, neuron, img.sampleIndex)
    : (_layerIndex, _neuron, img) => thumbPath(img.sampleIndex);
}
