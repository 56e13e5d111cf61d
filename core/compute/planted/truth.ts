/**
 * The ground truth of a planted data set, as returned by generatePlanted and written to truth.json:
 * what each channel of both layers is, which feature each image shows and with which nuisance, and
 * how to preprocess the images for the model.
 */
import type { PreprocessSpec } from '../../compute/images/preprocess.js';
import {
  LAYER_NAMES,
  LOWER_CHANNELS,
  type LowerChannel,
  lowerChannelOfFeature,
  type NeuronKind,
  type Nuisance,
  UPPER_NEURONS,
  WEIGHTS,
} from './design.js';
import { FEATURES } from './features.js';
import { type PlantedImageSpec, plantedImageSpecs } from './images.js';

export const PLANTED_FILES = { model: 'model.onnx', images: 'images', truth: 'truth.json' } as const;

export interface PlantedFeatureTruth {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  /** The lower channel that detects it. */
  readonly lowerChannel: number;
}

export interface PlantedNeuronTruth {
  readonly channel: number;
  readonly name: string;
  readonly kind: NeuronKind;
  /** Feature ids the neuron responds to (OR); empty for distractors. */
  readonly features: readonly number[];
  /** Lower channels with non-zero weight into the neuron: every circuit of it lies on these. */
  readonly lowerChannels: readonly number[];
  /** Virtual neurons PURE should find: one per feature; null for distractors (no planted split). */
  readonly expectedClusters: number | null;
  readonly nuisance?: Nuisance;
}

export interface PlantedTruth {
  readonly formatVersion: 1;
  readonly seed: number;
  readonly size: number;
  readonly imagesPerFeature: number;
  /** Paths relative to the output folder. */
  readonly files: typeof PLANTED_FILES;
  readonly input: { readonly name: string; readonly dims: readonly ['N', 3, number, number] };
  readonly output: string;
  /** The layer list for PURE: circuits of `upper` neurons over `lower` channels. */
  readonly layers: { readonly lower: string; readonly upper: string };
  /** Plain RGB / 255: the weights are set for that input. */
  readonly preprocess: PreprocessSpec;
  /**
   * With k references per neuron at most this, every feature neuron's references show only its
   * features (further ones have activation 0, i.e. ties among unrelated images).
   */
  readonly maxReferences: number;
  readonly features: readonly PlantedFeatureTruth[];
  readonly lowerChannels: readonly LowerChannel[];
  readonly upperNeurons: readonly PlantedNeuronTruth[];
  /** Every image, in sample id order (the order a dataset lists them: index i is sample i). */
  readonly images: readonly PlantedImageSpec[];
  readonly weights: typeof WEIGHTS;
}

export interface PlantedParameters {
  readonly seed: number;
  readonly imagesPerFeature: number;
  readonly size: number;
}

/** The truth of a planted data set, computed without I/O. */
export function plantedTruth(parameters: PlantedParameters): PlantedTruth {
  const { seed, imagesPerFeature, size } = parameters;
  return {
    formatVersion: 1,
    seed,
    size,
    imagesPerFeature,
    files: PLANTED_FILES,
    input: { name: LAYER_NAMES.input, dims: ['N', 3, size, size] },
    output: LAYER_NAMES.output,
    layers: { lower: LAYER_NAMES.lower, upper: LAYER_NAMES.upper },
    preprocess: { resizeShortSide: size, cropSize: size, mean: [0, 0, 0], std: [1, 1, 1] },
    maxReferences: imagesPerFeature,
    features: FEATURES.map((f, id) => ({
      id,
      name: f.name,
      description: f.description,
      lowerChannel: lowerChannelOfFeature(id),
    })),
    lowerChannels: LOWER_CHANNELS,
    upperNeurons: UPPER_NEURONS.map((n) => ({
      channel: n.channel,
      name: n.name,
      kind: n.kind,
      features: n.features,
      lowerChannels: n.lowerChannels,
      expectedClusters: n.kind === 'distractor' ? null : n.features.length,
      ...(n.nuisance ? { nuisance: n.nuisance } : {}),
    })),
    images: plantedImageSpecs(seed, imagesPerFeature, size),
    weights: WEIGHTS,
  };
}
