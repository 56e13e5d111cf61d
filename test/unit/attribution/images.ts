/** Real sample images for attribution tests: a simple sharp decode, RGB/255, ImageNet mean/std. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { type Tensor, tensor } from '../../../core/compute/onnx/tensor.js';
import { sharedDataset } from '../../support/paths.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** The first `count` images of a CIFAR-10 class folder, or the first ImageNet samples. */
export function samplePaths(
  dataset: 'cifar10-test' | 'imagenet-samples',
  count: number,
  cls = 'cat',
): string[] {
  const dir = dataset === 'cifar10-test' ? join(sharedDataset(dataset), cls) : sharedDataset(dataset);
  return readdirSync(dir)
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort()
    .slice(0, count)
    .map((f) => join(dir, f));
}

/** Decode, resize (cover) to size x size, normalise, stack as [B, 3, size, size]. */
export async function loadImages(paths: readonly string[], size: number): Promise<Tensor> {
  const plane = size * size;
  const out = new Float32Array(paths.length * 3 * plane);
  for (const [b, path] of paths.entries()) {
    const rgb = await sharp(path).removeAlpha().resize(size, size, { fit: 'cover' }).raw().toBuffer();
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) out[(b * 3 + c) * plane + p] = (rgb[p * 3 + c]! / 255 - MEAN[c]!) / STD[c]!;
    }
  }
  return tensor('float32', [paths.length, 3, size, size], out);
}
