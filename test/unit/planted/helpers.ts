/**
 * Helpers for the planted-model tests: run the generated model in onnxruntime on rendered images and
 * compute circuits by hand, independently of the attribution engine.
 */
import * as ort from 'onnxruntime-node';
import { hwcToNormalisedChw } from '../../../core/adapters/datasets/preprocess.js';
import {
  buildPlantedModel,
  type PlantedImageSpec,
  type PlantedTruth,
  renderPlantedImage,
  WEIGHT_NAMES,
} from '../../../core/adapters/planted/index.js';
import { withExtraOutputs } from '../../../core/compute/onnx/image-model.js';
import { decodeModel, encodeModel } from '../../../core/compute/onnx/model.js';
import { tensorFromProto } from '../../../core/compute/onnx/tensor.js';

export const POOLED = '/pool/MaxPool_output_0';

/** A [N, C, H, W] float32 tensor. */
export interface Maps {
  readonly data: Float32Array;
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

export interface PlantedForward {
  readonly lower: Maps;
  readonly pooled: Maps;
  readonly upper: Maps;
  readonly logits: Float32Array;
}

export function sessionOptions(): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'] };
}

/** The rendered images as the model input [N, 3, S, S], preprocessed as the truth says. */
export function inputBatch(truth: PlantedTruth, images: readonly PlantedImageSpec[]): Float32Array {
  const { size } = truth;
  const plane = 3 * size * size;
  const batch = new Float32Array(images.length * plane);
  images.forEach((spec, i) => {
    batch.set(hwcToNormalisedChw(renderPlantedImage(spec, size), size, size, truth.preprocess), i * plane);
  });
  return batch;
}

function maps(t: ort.Tensor): Maps {
  const [n, c, h, w] = t.dims;
  return { data: t.data as Float32Array, n: n!, c: c!, h: h!, w: w! };
}

/** Forward the images through the planted model, returning both layers, the pooled lower layer and logits. */
export async function forwardPlanted(
  truth: PlantedTruth,
  images: readonly PlantedImageSpec[],
): Promise<PlantedForward> {
  const model = decodeModel(buildPlantedModel(truth.size));
  const bytes = encodeModel(withExtraOutputs(model, [truth.layers.lower, POOLED, truth.layers.upper]));
  const session = await ort.InferenceSession.create(bytes, sessionOptions());
  try {
    const input = new ort.Tensor('float32', inputBatch(truth, images), [
      images.length,
      3,
      truth.size,
      truth.size,
    ]);
    const out = await session.run({ [truth.input.name]: input });
    return {
      lower: maps(out[truth.layers.lower]!),
      pooled: maps(out[POOLED]!),
      upper: maps(out[truth.layers.upper]!),
      logits: out[truth.output]!.data as Float32Array,
    };
  } finally {
    await session.release();
  }
}

/** One image's channel as a view. */
export function channelMap(m: Maps, image: number, channel: number): Float32Array {
  const plane = m.h * m.w;
  const start = (image * m.c + channel) * plane;
  return m.data.subarray(start, start + plane);
}

export function maxOf(values: ArrayLike<number>): number {
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) best = Math.max(best, values[i]!);
  return best;
}

export function meanOf(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/** The upper conv's weights [C, C', 3, 3] and the kernel side, read back from the model bytes. */
export function upperWeights(size: number): { weights: Float32Array; lowerChannels: number; kernel: number } {
  const model = decodeModel(buildPlantedModel(size));
  const init = model.graph!.initializer!.find((t) => t.name === WEIGHT_NAMES.upperWeight);
  if (!init) throw new Error('planted model has no upper weights');
  const t = tensorFromProto(init);
  return { weights: t.data as Float32Array, lowerChannels: t.dims[1]!, kernel: t.dims[2]! };
}

/**
 * The circuit of upper neuron c on one image, by the analytic formula for
 * a_L = Relu(Conv3x3(MaxPool(a_L'))) with initial gradient ReLU(a_L) on channel c:
 *
 *   dL/dz_c = a_c (the Relu mask is already in a_c), so with m = MaxPool(a_L'),
 *   R_j = sum_p dL/da_L'_j(p) a_L'_j(p) = sum_q dL/dm_j(q) m_j(q)        (MaxPool routes the gradient
 *       = sum_p a_c(p) * sum_{ky,kx} W[c,j,ky,kx] m_j(p + (ky-1, kx-1)) to its arg-max, whose value is m)
 *
 * i.e. each lower channel's share of the neuron's pre-activation, weighted by the neuron's activation;
 * then R / (sum |R| + 1e-10). Returns the un-normalised R too.
 */
export function circuitByFormula(
  forward: PlantedForward,
  weights: ReturnType<typeof upperWeights>,
  image: number,
  neuron: number,
): { raw: Float64Array; normalised: Float64Array } {
  const { pooled, upper } = forward;
  const { kernel, lowerChannels } = weights;
  const half = (kernel - 1) / 2;
  const activation = channelMap(upper, image, neuron);
  const raw = new Float64Array(lowerChannels);
  for (let j = 0; j < lowerChannels; j++) {
    const m = channelMap(pooled, image, j);
    const w = weights.weights.subarray((neuron * lowerChannels + j) * kernel * kernel);
    let sum = 0;
    for (let y = 0; y < upper.h; y++) {
      for (let x = 0; x < upper.w; x++) {
        const a = activation[y * upper.w + x]!;
        if (a === 0) continue;
        let share = 0;
        for (let ky = 0; ky < kernel; ky++) {
          const yy = y + ky - half;
          if (yy < 0 || yy >= pooled.h) continue;
          for (let kx = 0; kx < kernel; kx++) {
            const xx = x + kx - half;
            if (xx < 0 || xx >= pooled.w) continue;
            share += w[ky * kernel + kx]! * m[yy * pooled.w + xx]!;
          }
        }
        sum += a * share;
      }
    }
    raw[j] = sum;
  }
  let total = 0;
  for (const r of raw) total += Math.abs(r);
  return { raw, normalised: raw.map((r) => r / (total + 1e-10)) };
}

/** Mean over space of every channel of one image: the Activation baseline's vector. */
export function meanActivations(m: Maps, image: number): Float64Array {
  const out = new Float64Array(m.c);
  for (let c = 0; c < m.c; c++) out[c] = meanOf(channelMap(m, image, c));
  return out;
}

/** Indices of the k largest values, ties by smaller index (the references' order). */
export function topK(values: readonly number[], k: number): number[] {
  return values
    .map((value, index) => ({ value, index }))
    .sort((a, b) => b.value - a.value || a.index - b.index)
    .slice(0, k)
    .map((e) => e.index);
}

export function pearson(a: readonly number[], b: readonly number[]): number {
  const ma = meanOf(a);
  const mb = meanOf(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Share of the variance of `values` explained by the group means (eta squared). */
export function varianceExplainedByGroups(values: readonly number[], groups: readonly number[]): number {
  const overall = meanOf(values);
  const sums = new Map<number, { sum: number; count: number }>();
  values.forEach((v, i) => {
    const g = sums.get(groups[i]!) ?? { sum: 0, count: 0 };
    g.sum += v;
    g.count += 1;
    sums.set(groups[i]!, g);
  });
  let total = 0;
  let between = 0;
  values.forEach((v, i) => {
    const g = sums.get(groups[i]!)!;
    total += (v - overall) ** 2;
    between += (g.sum / g.count - overall) ** 2;
  });
  return between / total;
}
