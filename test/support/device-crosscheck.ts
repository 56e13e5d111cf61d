/**
 * The same circuit vectors on two devices: ResNet-20's layer2 -> layer3 cut (the shared model), real
 * CIFAR-10 test images read and preprocessed as a sweep does, and for each image its most active layer3
 * channels, so every row has a non-zero circuit on both sides. Each device runs the whole path (forward
 * to the lower layer, then the circuit) in its own engine; rows are compared by cosine.
 * scripts/gpu-check.sh runs it as CPU vs CUDA (test/dev/device-crosscheck.ts); the unit test as CPU vs CPU.
 */
import { openDataset } from '../../core/adapters/datasets/dataset.js';
import { preprocessImage } from '../../core/adapters/datasets/preprocess.js';
import {
  AttributionEngine,
  type CutSpec,
  circuitVectors,
  type EngineOptions,
  lowerActivations,
  selectRows,
} from '../../core/adapters/onnxruntime/attribution.js';
import { PREPROCESS_PRESETS } from '../../core/compute/images/preprocess.js';
import { type Tensor, tensor } from '../../core/compute/onnx/tensor.js';
import { sharedDataset, sharedModel } from './paths.js';

export const RESNET20_CUT: CutSpec = {
  model: sharedModel('resnet20-cifar10.onnx'),
  lower: '/layer2/layer2.2/Relu_1_output_0',
  upper: '/layer3/layer3.2/Relu_1_output_0',
};

/** `count` CIFAR-10 test images, evenly spaced over the set (all classes), as [count, 3, 32, 32]. */
export async function cifarImages(count: number): Promise<Tensor> {
  const dataset = openDataset(sharedDataset('cifar10-test'));
  const samples = await dataset.listSamples();
  const step = Math.max(1, Math.floor(samples.length / count));
  const picked = samples.filter((_, i) => i % step === 0).slice(0, count);
  const plane = 3 * 32 * 32;
  const out = new Float32Array(picked.length * plane);
  for (const [b, s] of picked.entries()) {
    out.set(
      await preprocessImage(await dataset.readSample(s.sampleId), PREPROCESS_PRESETS.cifar10),
      b * plane,
    );
  }
  return tensor('float32', [picked.length, 3, 32, 32], out);
}

/** Cosine of two equal-length vectors; 1 when both are zero, 0 when only one is. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  if (aa === 0 && bb === 0) return 1;
  if (aa === 0 || bb === 0) return 0;
  return ab / Math.sqrt(aa * bb);
}

export interface DeviceRun {
  readonly vectors: Float32Array;
  readonly lowerChannels: number;
  readonly seconds: number;
}

/** The image of each row and its upper channel: per image, the `perImage` channels with the largest peak. */
export async function activeRows(
  engine: AttributionEngine,
  cut: CutSpec,
  images: Tensor,
  perImage: number,
): Promise<{ imageOfRow: number[]; channels: number[] }> {
  const { upper } = await lowerActivations(engine, cut, images, { upper: true });
  const [n, c, h, w] = upper!.dims as [number, number, number, number];
  const data = upper!.data as Float32Array;
  const imageOfRow: number[] = [];
  const channels: number[] = [];
  for (let b = 0; b < n; b++) {
    const peaks = Array.from({ length: c }, (_, ch) => {
      const start = (b * c + ch) * h * w;
      return { ch, peak: Math.max(...data.subarray(start, start + h * w)) };
    }).sort((x, y) => y.peak - x.peak);
    for (const { ch } of peaks.slice(0, perImage)) {
      imageOfRow.push(b);
      channels.push(ch);
    }
  }
  return { imageOfRow, channels };
}

/** Forward + circuit vectors of the rows on one engine (one device), timed. */
export async function circuitRowsOn(
  options: EngineOptions,
  cut: CutSpec,
  images: Tensor,
  rows: { imageOfRow: readonly number[]; channels: readonly number[] },
): Promise<DeviceRun> {
  const engine = new AttributionEngine(options);
  try {
    const started = performance.now();
    const acts = await lowerActivations(engine, cut, images);
    const side = Object.fromEntries(
      Object.entries(acts.side).map(([name, t]) => [name, selectRows(t, rows.imageOfRow)]),
    );
    const result = await circuitVectors(engine, cut, {
      lower: selectRows(acts.lower, rows.imageOfRow),
      side,
      channels: rows.channels,
    });
    return {
      vectors: result.vectors,
      lowerChannels: result.lowerChannels,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await engine.release();
  }
}

export interface Crosscheck {
  readonly rows: number;
  readonly lowerChannels: number;
  readonly minCosine: number;
  readonly meanCosine: number;
  /** The row with the smallest cosine: its image and upper channel. */
  readonly worst: { readonly row: number; readonly image: number; readonly channel: number };
  readonly maxAbsDiff: number;
  readonly seconds: { readonly reference: number; readonly candidate: number };
}

/** Circuit vectors of the same rows from a reference and a candidate engine setting, compared row by row. */
export async function crosscheckDevices(
  reference: EngineOptions,
  candidate: EngineOptions,
  options: { readonly images: number; readonly perImage: number; readonly cut?: CutSpec },
): Promise<Crosscheck> {
  const cut = options.cut ?? RESNET20_CUT;
  const images = await cifarImages(options.images);
  const picker = new AttributionEngine(reference);
  const rows = await activeRows(picker, cut, images, options.perImage).finally(() => picker.release());
  const ref = await circuitRowsOn(reference, cut, images, rows);
  const cand = await circuitRowsOn(candidate, cut, images, rows);
  const c = ref.lowerChannels;
  let minCosine = Infinity;
  let sum = 0;
  let worstRow = 0;
  let maxAbsDiff = 0;
  for (let r = 0; r < rows.channels.length; r++) {
    const a = ref.vectors.subarray(r * c, (r + 1) * c);
    const b = cand.vectors.subarray(r * c, (r + 1) * c);
    const cos = cosine(a, b);
    sum += cos;
    if (cos < minCosine) {
      minCosine = cos;
      worstRow = r;
    }
    for (let j = 0; j < c; j++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[j]! - b[j]!));
  }
  return {
    rows: rows.channels.length,
    lowerChannels: c,
    minCosine,
    meanCosine: sum / rows.channels.length,
    worst: { row: worstRow, image: rows.imageOfRow[worstRow]!, channel: rows.channels[worstRow]! },
    maxAbsDiff,
    seconds: { reference: ref.seconds, candidate: cand.seconds },
  };
}
