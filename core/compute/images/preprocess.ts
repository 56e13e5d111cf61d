/**
 * How an image becomes a model input: resize the short side, centre-crop a square, scale to [0, 1],
 * normalise per channel. The torchvision recipe the shared models were trained with; values are
 * stored in the run's config so every stage and worker preprocesses identically.
 */
import { InputError } from '../errors.js';

export interface PreprocessSpec {
  /** Resize so the shorter side has this many pixels (aspect kept). */
  resizeShortSide: number;
  /** Side of the centred square crop; the model's input height/width. */
  cropSize: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** Resampling of the resize: torchvision's default bilinear, or bicubic (CLIP). Default bilinear. */
  interpolation?: 'bilinear' | 'bicubic';
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** OpenAI CLIP's normalisation (its image processor: bicubic resize of the short side to 224, centre crop). */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** The presets of the shared models (../shared/models/README.md). */
export const PREPROCESS_PRESETS = {
  cifar10: { resizeShortSide: 32, cropSize: 32, mean: IMAGENET_MEAN, std: IMAGENET_STD },
  imagenet: { resizeShortSide: 256, cropSize: 224, mean: IMAGENET_MEAN, std: IMAGENET_STD },
  clip: { resizeShortSide: 224, cropSize: 224, mean: CLIP_MEAN, std: CLIP_STD, interpolation: 'bicubic' },
} as const satisfies Record<string, PreprocessSpec>;

export type PresetName = keyof typeof PREPROCESS_PRESETS;

/**
 * The default spec for a model input of side `size`: the torchvision ratio 256/224 for ImageNet-style
 * inputs, no resize margin for small (CIFAR-style) inputs.
 */
export function defaultPreprocess(size: number): PreprocessSpec {
  if (size === 224) return PREPROCESS_PRESETS.imagenet;
  if (size <= 64) return { ...PREPROCESS_PRESETS.cifar10, resizeShortSide: size, cropSize: size };
  return { ...PREPROCESS_PRESETS.imagenet, resizeShortSide: Math.floor((size * 256) / 224), cropSize: size };
}

export function validatePreprocess(spec: PreprocessSpec): PreprocessSpec {
  const bad = (what: string) =>
    new Error(`invalid preprocessing spec: ${what} (got ${JSON.stringify(spec)})`);
  if (!Number.isInteger(spec.cropSize) || spec.cropSize < 1) throw bad('cropSize must be a positive integer');
  if (!Number.isInteger(spec.resizeShortSide) || spec.resizeShortSide < spec.cropSize) {
    throw bad('resizeShortSide must be an integer >= cropSize');
  }
  if (spec.mean.length !== 3 || spec.std.length !== 3) throw bad('mean and std need 3 values (RGB)');
  if (spec.std.some((s) => !(s > 0))) throw bad('std values must be > 0');
  if (spec.interpolation !== undefined && !['bilinear', 'bicubic'].includes(spec.interpolation))
    throw bad('interpolation must be bilinear or bicubic');
  return spec;
}

/** torchvision's Resize(int): the short side becomes `short`, the long side int(short * long / short_orig). */
export function resizedSize(width: number, height: number, short: number): { width: number; height: number } {
  if (width <= height) return { width: short, height: Math.floor((short * height) / width) };
  return { width: Math.floor((short * width) / height), height: short };
}

/** torchvision's CenterCrop offset: int(round((size - crop) / 2)), with Python's round half to even. */
export function centreCropOffset(size: number, crop: number): number {
  const half = (size - crop) / 2;
  const floor = Math.floor(half);
  if (half - floor !== 0.5) return Math.round(half);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * A preprocessing option as given (a preset name or a JSON spec), or an InputError of `kind` naming
 * `where` (the option or file it came from) and what it accepts.
 */
export function parsePreprocessOption(value: string, where: string, kind: string): PreprocessSpec {
  if (value in PREPROCESS_PRESETS) return PREPROCESS_PRESETS[value as PresetName];
  try {
    return validatePreprocess(JSON.parse(value) as PreprocessSpec);
  } catch (error) {
    throw new InputError(
      kind,
      `${where} must be one of ${Object.keys(PREPROCESS_PRESETS).join(', ')} or a JSON spec ` +
        `{"resizeShortSide":256,"cropSize":224,"mean":[...],"std":[...]}: ${(error as Error).message}`,
    );
  }
}
