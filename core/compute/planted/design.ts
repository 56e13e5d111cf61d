/**
 * The planted model's wiring: which channel of each layer is what, and the constants its weights are
 * made of. model.ts turns this into ONNX; truth.ts reports it. Channels are interleaved (distractors
 * between detectors, polysemantic neurons between monosemantic ones) so that no consumer can get the
 * right answer by assuming an order.
 */
import { FEATURES } from './features.js';

/** The nuisance variables drawn per image, each driving one distractor channel. */
export type Nuisance = 'brightness' | 'warmth' | 'noise';
export const NUISANCES: readonly Nuisance[] = ['brightness', 'warmth', 'noise'];

export const LAYER_NAMES = {
  input: 'input',
  lower: '/lower/Relu_output_0',
  upper: '/upper/Relu_output_0',
  output: 'logits',
} as const;

/** Lower layer (L'), in channel order: a feature name or a nuisance. */
const LOWER_ORDER: readonly string[] = [
  'red_disc',
  'brightness',
  'blue_disc',
  'horizontal_stripes',
  'vertical_stripes',
  'noise',
  'checkerboard',
  'ring',
  'warmth',
  'green_cross',
  'bright_spot',
];

/** Upper layer (L), in channel order: the features a neuron ORs, or the nuisance it reads. */
const UPPER_ORDER: readonly (readonly string[] | Nuisance)[] = [
  ['red_disc'],
  ['red_disc', 'horizontal_stripes'],
  'brightness',
  ['blue_disc'],
  ['horizontal_stripes'],
  ['blue_disc', 'ring', 'checkerboard'],
  ['vertical_stripes'],
  'noise',
  ['checkerboard'],
  ['ring'],
  ['vertical_stripes', 'green_cross'],
  ['green_cross'],
  'warmth',
  ['bright_spot'],
];

export type LowerChannel =
  | { readonly channel: number; readonly name: string; readonly kind: 'feature'; readonly feature: number }
  | {
      readonly channel: number;
      readonly name: string;
      readonly kind: 'distractor';
      readonly nuisance: Nuisance;
    };

export type NeuronKind = 'polysemantic' | 'monosemantic' | 'distractor';

export interface UpperNeuron {
  readonly channel: number;
  readonly name: string;
  readonly kind: NeuronKind;
  /** Feature ids the neuron ORs (empty for distractors). */
  readonly features: readonly number[];
  /** The lower channels with non-zero weight into this neuron: its true circuit. */
  readonly lowerChannels: readonly number[];
  readonly nuisance?: Nuisance;
}

function featureId(name: string): number {
  const id = FEATURES.findIndex((f) => f.name === name);
  if (id < 0) throw new Error(`planted design: unknown feature '${name}'`);
  return id;
}

function isNuisance(name: string): name is Nuisance {
  return (NUISANCES as readonly string[]).includes(name);
}

export const LOWER_CHANNELS: readonly LowerChannel[] = LOWER_ORDER.map((name, channel) =>
  isNuisance(name)
    ? { channel, name: `distractor:${name}`, kind: 'distractor', nuisance: name }
    : { channel, name: `detector:${name}`, kind: 'feature', feature: featureId(name) },
);

export function lowerChannelOfFeature(feature: number): number {
  const found = LOWER_CHANNELS.find((c) => c.kind === 'feature' && c.feature === feature);
  if (!found) throw new Error(`planted design: feature ${feature} has no detector`);
  return found.channel;
}

export function lowerChannelOfNuisance(nuisance: Nuisance): number {
  const found = LOWER_CHANNELS.find((c) => c.kind === 'distractor' && c.nuisance === nuisance);
  if (!found) throw new Error(`planted design: nuisance ${nuisance} has no distractor channel`);
  return found.channel;
}

export const UPPER_NEURONS: readonly UpperNeuron[] = UPPER_ORDER.map((reads, channel): UpperNeuron => {
  if (typeof reads === 'string') {
    return {
      channel,
      name: `distractor:${reads}`,
      kind: 'distractor',
      features: [],
      lowerChannels: [lowerChannelOfNuisance(reads)],
      nuisance: reads,
    };
  }
  const features = reads.map(featureId);
  return {
    channel,
    name: `${features.length > 1 ? 'poly' : 'mono'}:${reads.join('|')}`,
    kind: features.length > 1 ? 'polysemantic' : 'monosemantic',
    features,
    lowerChannels: features.map(lowerChannelOfFeature),
  };
});

/** Image units (pixel / 255) a feature adds per unit of pattern, before the per-image contrast factor. */
export const NOMINAL_CONTRAST = 0.2;

/**
 * Weights. A detector's pre-activation on its own feature at nominal contrast is DETECTOR_RESPONSE;
 * its bias is -DETECTOR_THRESHOLD, so it peaks at 1 and stays silent on other features (whose
 * responses stay below a third of DETECTOR_RESPONSE) and on noise.
 */
export const WEIGHTS = {
  detectorResponse: 2.5,
  detectorThreshold: 1.5,
  /** Distractor "brightness": this many times the local mean of R, G and B over the 9x9 window. */
  brightnessGain: 3,
  /** Distractor "warmth": gain * local mean of (R - B) + offset, so it stays mostly positive. */
  warmthGain: 15,
  warmthOffset: 1.5,
  /** Distractor "noise": gain * grey Laplacian at the centre tap, half-wave rectified by the Relu. */
  noiseGain: 20,
  /** Upper feature neurons read each of their detectors through the centre tap of the 3x3 kernel. */
  featureRead: 1,
  /** ...minus this bias, which silences cross-talk below it. */
  featureBias: 0.1,
  /** Upper distractor neurons: the sum over the 3x3 window of their distractor channel times this. */
  distractorRead: 1 / 3,
  /** Classifier: logit of feature f = gain * (GAP of f's monosemantic neuron + half that of each OR). */
  headGain: 100,
} as const;
