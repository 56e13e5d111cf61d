/**
 * Benchmark of the references stage (ActMax) on ResNet-20 / CIFAR-10, parts measured side by side in one
 * process: image decoding + preprocessing, the forward pass (logits only vs. with the three stage outputs),
 * top-k selection, ActMax's inference as a share of raw inference, and the whole shard computation. Run: `npm run bench:references [-- images]`.
 */
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { openDataset } from '../../core/adapters/datasets/dataset.js';
import { preprocessImage } from '../../core/adapters/datasets/preprocess.js';
import { openActivationModel } from '../../core/adapters/onnxruntime/activations.js';
import { createSession, ort } from '../../core/adapters/onnxruntime/session.js';
import { PREPROCESS_PRESETS } from '../../core/compute/images/preprocess.js';
import { withSymbolicBatch } from '../../core/compute/onnx/batch.js';
import { withExtraOutputs } from '../../core/compute/onnx/image-model.js';
import { decodeModel } from '../../core/compute/onnx/model.js';
import { offerActivationBatch, TopKSelector } from '../../core/compute/references/topk.js';
import { evenlySpaced } from '../../core/compute/run/config.js';
import { actMaxShard } from '../../core/stages/references.js';
import { sharedDataset, sharedModel } from '../support/paths.js';
import { peakMemory } from './peak-memory.js';

const LAYERS = [
  '/layer1/layer1.2/Relu_1_output_0',
  '/layer2/layer2.2/Relu_1_output_0',
  '/layer3/layer3.2/Relu_1_output_0',
];
const images = Number(process.argv[2] ?? 2000);
const batch = 64;

async function timed<T>(label: string, count: number, unit: string, work: () => Promise<T>): Promise<T> {
  const start = process.hrtime.bigint();
  const result = await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `| ${label} | ${count} ${unit} | ${seconds.toFixed(2)} s | ${(count / seconds).toFixed(0)} ${unit}/s |`,
  );
  return result;
}

const dataset = openDataset(sharedDataset('cifar10-test'));
const all = await dataset.listSamples();
const samples = evenlySpaced(all.length, images).map((i) => all[i]!);
const modelBytes = await readFile(sharedModel('resnet20-cifar10.onnx'));
const spec = PREPROCESS_PRESETS.cifar10;

console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}; ${images} images, batch ${batch}`,
);
console.log('| part | work | time | rate |\n|---|---|---|---|');
const pixels = await timed('decode + preprocess (sharp)', images, 'images', async () => {
  const out = new Float32Array(images * 3 * 32 * 32);
  for (let i = 0; i < samples.length; i += batch) {
    const decoded = await Promise.all(
      samples
        .slice(i, i + batch)
        .map(async (s) => preprocessImage(await dataset.readSample(s.sampleId), spec)),
    );
    decoded.forEach((chw, j) => {
      out.set(chw, (i + j) * chw.length);
    });
  }
  return out;
});
const logitsOnly = await openActivationModel(modelBytes, ['logits']);
const withStages = await openActivationModel(modelBytes, LAYERS);
async function forwardAll(model: typeof logitsOnly) {
  const outputs = [];
  for (let i = 0; i < images; i += batch) {
    const n = Math.min(batch, images - i);
    outputs.push(await model.run(pixels.subarray(i * 3072, (i + n) * 3072), n));
  }
  return outputs;
}
await forwardAll(logitsOnly); // warm-up
await timed('forward, logits only', images, 'images', () => forwardAll(logitsOnly));
const activations = await timed('forward + 3 stage outputs', images, 'images', () => forwardAll(withStages));
/**
 * ActMax's inference (the forward with the stage outputs, then the top-k of every neuron) against raw
 * inference of the same model (logits only), decode excluded (measured above), batch by batch
 * alternating so that load from other processes hits both alike. The gap is the stage outputs copied
 * out of onnxruntime (the forward's share) and the max over space + top-k (the top-k's share).
 */
async function actMaxVsRawInference(): Promise<void> {
  const selectors = new Map(
    LAYERS.map((l, i) => [l, Array.from({ length: [16, 32, 64][i]! }, () => new TopKSelector(100))]),
  );
  // The same graph with the stage outputs declared but only the logits fetched: what declaring them
  // costs inside onnxruntime (fusions and buffer reuse lost) apart from copying them out.
  const declared = await createSession(
    withExtraOutputs(withSymbolicBatch(decodeModel(modelBytes)), LAYERS),
    {},
  );
  const inputName = declared.inputNames[0]!;
  let raw = 0;
  let forward = 0;
  let topk = 0;
  let declaredOnly = 0;
  for (let i = 0; i < images; i += batch) {
    const n = Math.min(batch, images - i);
    const pixelsOf = pixels.subarray(i * 3072, (i + n) * 3072);
    let t = performance.now();
    await logitsOnly.run(pixelsOf, n);
    raw += performance.now() - t;
    t = performance.now();
    const out = await withStages.run(pixelsOf, n);
    forward += performance.now() - t;
    t = performance.now();
    const indices = Array.from({ length: n }, (_, j) => i + j);
    for (const [layer, act] of out) offerActivationBatch(selectors.get(layer)!, act.dims, act.data, indices);
    topk += performance.now() - t;
    t = performance.now();
    await declared.run({ [inputName]: new ort.Tensor('float32', pixelsOf, [n, 3, 32, 32]) }, ['logits']);
    declaredOnly += performance.now() - t;
  }
  await declared.release();
  const rate = (ms: number) => `${((images * 1000) / ms).toFixed(0)} images/s`;
  console.log(
    `ActMax inference (forward with the 3 stage outputs + top-k, no decode) ${rate(forward + topk)} = ${((100 * raw) / (forward + topk)).toFixed(1)} % of raw inference (logits only) ${rate(raw)}, batch by batch alternating; of ActMax's time the forward ${rate(forward)} (${((100 * raw) / forward).toFixed(1)} % of raw), top-k ${rate(topk)}; the stage outputs declared but not fetched ${((100 * raw) / declaredOnly).toFixed(1)} % of raw`,
  );
}

await timed('top-k (k=100) over 112 neurons', images, 'images', async () => {
  const selectors = new Map(
    LAYERS.map((l, i) => [l, Array.from({ length: [16, 32, 64][i]! }, () => new TopKSelector(100))]),
  );
  let offset = 0;
  for (const out of activations) {
    const first = out.values().next().value!;
    const indices = Array.from({ length: first.dims[0]! }, (_, j) => offset + j);
    for (const [layer, act] of out) offerActivationBatch(selectors.get(layer)!, act.dims, act.data, indices);
    offset += indices.length;
  }
});
await actMaxVsRawInference();
await timed('whole shard (actMaxShard: decode overlapped with inference)', images, 'images', () =>
  actMaxShard({ model: withStages, dataset, samples, preprocess: spec, k: 100, batchSize: batch }),
);
await logitsOnly.release();
await withStages.release();
console.log(`peak memory: ${peakMemory()}`);
