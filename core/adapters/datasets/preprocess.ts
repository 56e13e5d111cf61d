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
  return resizeAndCrop(image.rotate().removeAlpha().toColourspace('srgb'), meta.width, meta.height, spec);
}

/**
 * The same for pixels already decoded (uint8 HWC RGB), e.g. a crop of a model view on its way into an
 * image encoder (the evaluation's embeddings).
 */
export function rawView(
  rgb: Uint8Array,
  width: number,
  height: number,
  spec: PreprocessSpec,
): Promise<Uint8Array> {
  return resizeAndCrop(sharp(rgb, { raw: { width, height, channels: 3 } }), width, height, spec);
}

/** torchvision's Resize(short side) then CenterCrop, as uint8 HWC RGB of cropSize x cropSize. */
async function resizeAndCrop(
  image: sharp.Sharp,
  width: number,
  height: number,
  spec: PreprocessSpec,
): Promise<Uint8Array> {
  const target = resizedSize(width, height, spec.resizeShortSide);
  let pipeline = image;
  if (target.width !== width || target.height !== height) {
    const kernel = spec.interpolation === 'bicubic' ? 'cubic' : 'linear';
    pipeline = pipeline.resize(target.width, target.height, { fit: 'fill', kernel });
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
