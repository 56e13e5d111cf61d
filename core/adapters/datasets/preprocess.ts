import sharp from 'sharp';
import { centreCropOffset, type PreprocessSpec, resizedSize } from '../../compute/images/preprocess.js';

/**
 * Decodes an encoded image (JPEG, PNG, WebP, ...) and returns it preprocessed as CHW float32.
 * Throws on undecodable input; callers skip and record such samples.
 */
export async function preprocessImage(encoded: Uint8Array, spec: PreprocessSpec): Promise<Float32Array> {
  return hwcToNormalisedChw(await modelView(encoded, spec), spec.cropSize, spec.cropSize, spec);
}

/**
 * The image as the model sees it, before normalisation: decoded, resized (short side), centre-cropped,
 * uint8 HWC RGB of cropSize x cropSize. Feature visualisations draw on these pixels.
 */
export async function modelView(encoded: Uint8Array, spec: PreprocessSpec): Promise<Uint8Array> {
  const image = sharp(encoded, { failOn: 'error' });
  const meta = await image.metadata();
  if (!meta.width || !meta.height) throw new Error('image has no dimensions');
  const target = resizedSize(meta.width, meta.height, spec.resizeShortSide);
  let pipeline = image.rotate().removeAlpha().toColourspace('srgb');
  if (target.width !== meta.width || target.height !== meta.height) {
    pipeline = pipeline.resize(target.width, target.height, { fit: 'fill', kernel: 'linear' });
  }
  const crop = spec.cropSize;
  pipeline = pipeline.extract({
    left: centreCropOffset(target.width, crop),
    top: centreCropOffset(target.height, crop),
    width: crop,
    height: crop,
  });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== crop || info.height !== crop) {
    throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${crop}x${crop}x3`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** uint8 HWC (RGB) -> float32 CHW, (v / 255 - mean_c) / std_c. */
export function hwcToNormalisedChw(
  hwc: Uint8Array,
  height: number,
  width: number,
  spec: Pick<PreprocessSpec, 'mean' | 'std'>,
): Float32Array {
  const plane = height * width;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const mean = spec.mean[c]!;
    const scale = 1 / (255 * spec.std[c]!);
    const shift = mean / spec.std[c]!;
    for (let i = 0; i < plane; i++) out[c * plane + i] = hwc[i * 3 + c]! * scale - shift;
  }
  return out;
}
