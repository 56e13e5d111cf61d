/**
 * Steps 2, 4 and 5 for one neuron batch, side by side: the circuits of 16 neurons x k references of the
 * ResNet-20 demo's layer3 (core/stages/circuits.ts), their crops (arg-max EpsilonPlusFlat heatmaps to
 * the image, core/stages/crops.ts), and the crops' embeddings with the demo's encoder (SqueezeNet 1.1,
 * pooled last Fire module, 224 pixels; core/stages/embeddings.ts). References are the first k images of
 * the CIFAR-10 test set for every neuron (the cost does not depend on which images they are).
 *
 *   node dist/test/bench/evaluation.bench.js [k] [threads]
 */

import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { openDataset } from '../../core/adapters/datasets/dataset.js';
import { AttributionEngine } from '../../core/adapters/onnxruntime/attribution.js';
import { openImageEncoder } from '../../core/adapters/onnxruntime/encoder.js';
import { PREPROCESS_PRESETS } from '../../core/compute/images/preprocess.js';
import type { ReferenceRow } from '../../core/compute/tables/schemas.js';
import { computeCircuits } from '../../core/stages/circuits.js';
import { computeCrops } from '../../core/stages/crops.js';
import { computeEmbeddings } from '../../core/stages/embeddings.js';
import { sharedDataset, sharedModel } from '../support/paths.js';

const k = Number(process.argv[2] ?? 100);
const threads = Number(process.argv[3] ?? 2);
const NEURONS = 16;
const LOWER = '/layer2/layer2.2/Relu_1_output_0';
const UPPER = '/layer3/layer3.2/Relu_1_output_0';

async function timed<T>(what: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const start = performance.now();
  const result = await what();
  return { result, seconds: (performance.now() - start) / 1000 };
}

const dataset = openDataset(sharedDataset('cifar10-test'));
const samples = (await dataset.listSamples()).slice(0, k);
const references: ReferenceRow[] = Array.from({ length: NEURONS }, (_, neuron) =>
  samples.map((s, i) => ({ ...s, layer: UPPER, neuron, rank: i + 1, value: 1, h: 0, w: 0 })),
).flat();
const modelPath = sharedModel('resnet20-cifar10.onnx');
const preprocess = PREPROCESS_PRESETS.cifar10;
const engine = new AttributionEngine({ intraOpNumThreads: threads });
const encoder = await openImageEncoder(
  await readFile(sharedModel('squeezenet1.1-imagenet.onnx')),
  '/fires.7/Concat_output_0',
  { intraOpNumThreads: threads },
);
const job = { engine, modelPath, references, dataset, preprocess };
// Warm-up: graph building and session creation are once per worker, not per batch.
await computeCircuits({ ...job, lowerLayer: LOWER, upperLayer: UPPER, references: references.slice(0, 2) });
await computeCrops({ ...job, layer: UPPER, references: references.slice(0, 2) });

const circuits = await timed(() => computeCircuits({ ...job, lowerLayer: LOWER, upperLayer: UPPER }));
const crops = await timed(() => computeCrops({ ...job, layer: UPPER }));
const embeddings = await timed(() =>
  computeEmbeddings(crops.result, {
    encoder,
    dataset,
    preprocess,
    encoderPreprocess: PREPROCESS_PRESETS.imagenet,
  }),
);
const rows = references.length;
console.log(
  `${cpus()[0]?.model}, ${cpus().length} cores, ${threads} onnxruntime threads; ${NEURONS} neurons x k ${k} = ${rows} rows`,
);
for (const [stage, t] of [
  ['circuits (layer2 -> layer3)', circuits],
  ['crops (heatmaps to the image)', crops],
  ['embeddings (SqueezeNet, 224 px)', embeddings],
] as const) {
  console.log(
    `  ${stage.padEnd(34)} ${t.seconds.toFixed(2).padStart(7)} s  ${(rows / t.seconds).toFixed(0).padStart(6)} rows/s  ${(t.seconds / circuits.seconds).toFixed(2)} x circuits`,
  );
}
await engine.release();
await encoder.release();
