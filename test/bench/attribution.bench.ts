/**
 * Attribution engine benchmark: cost of the circuit model vs the forward of the same cut alone,
 * and circuit vectors per second, for
 *   - ResNet-56 (shared model), last two stages: layer2.8 -> layer3.8;
 *   - a ResNet-50 layer4.0-shaped bottleneck block (1024 -> 2048 channels, 14x14 -> 7x7) with
 *     random weights built here (0.745 GFLOP per image forward), and the whole layer3 -> layer4 cut
 *     (3 blocks), the paper's last pair of layers;
 * where 1x1 convs take the one-channel shortcut, the circuit without it runs alongside (A/B).
 * Run: node dist/test/bench/attribution.bench.js [threads] [batch]
 * On a GPU: PURE_BENCH_DEVICE=cuda (after `bash infra/tools.sh install gpu`; scripts/gpu-check.sh runs it).
 */
import { availableParallelism, cpus } from 'node:os';
import { loadModel } from '../../core/adapters/models/model-file.js';
import { checkDevice } from '../../core/adapters/onnxruntime/device.js';
import { prepareModel } from '../../core/adapters/onnxruntime/prepare.js';
import {
  createSession,
  DEVICES,
  type Device,
  executionProvidersFor,
  ort,
} from '../../core/adapters/onnxruntime/session.js';
import { buildCircuitModel, IMAGE_INPUT } from '../../core/compute/attribution/circuit.js';
import { type ModelProto, onnx } from '../../core/compute/onnx/model.js';
import { probedValueInfo } from '../../core/compute/onnx/tensor-info.js';
import { bottleneckStage } from '../support/bottleneck.js';
import { sharedModel } from '../support/paths.js';
import { seededRandom } from '../support/random.js';

const threads = Number(process.argv[2] ?? 2);
const batch = Number(process.argv[3] ?? 16);
const device = (process.env.PURE_BENCH_DEVICE ?? 'cpu') as Device;
if (!DEVICES.includes(device)) {
  throw new Error(`PURE_BENCH_DEVICE must be one of ${DEVICES.join(', ')}, got '${device}'`);
}
await checkDevice(device);

/**
 * Median milliseconds of each run, alternating between them so that load from other processes
 * (the machine is shared) hits both alike and their ratio stays meaningful.
 */
async function timeAlternating(runs: readonly (() => Promise<unknown>)[], seconds = 6): Promise<number[]> {
  for (const run of runs) await run();
  const times = runs.map((): number[] => []);
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline || (times[0]?.length ?? 0) < 3) {
    for (const [k, run] of runs.entries()) {
      const t = performance.now();
      await run();
      times[k]!.push(performance.now() - t);
    }
  }
  return times.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!);
}

async function bench(label: string, model: ModelProto, lower: string, upper: string): Promise<void> {
  const prepared = await prepareModel(model);
  const circuit = buildCircuitModel(prepared, lower, upper);
  const plain = buildCircuitModel(prepared, lower, upper, { oneChannelShortcut: false });
  const forwardModel = onnx.ModelProto.create({
    ...circuit.model,
    graph: {
      ...circuit.model.graph,
      node: [...circuit.cut.nodes],
      initializer: circuit.cut.initializers.map((n) => prepared.index.initializers.get(n)!),
      input: [probedValueInfo(lower, prepared.info.get(lower)!)],
      output: [probedValueInfo(upper, prepared.info.get(upper)!)],
    },
  });
  const settings = {
    intraOpNumThreads: threads,
    ...(device === 'cpu' ? {} : { executionProviders: executionProvidersFor(device) }),
  };
  const forward = await createSession(forwardModel, settings);
  const backward = await createSession(circuit.model, settings);
  const shortcuts = (circuit.model.graph?.node ?? []).filter(
    (n) => n.opType === 'Gather' && n.input?.[1] !== IMAGE_INPUT,
  ).length;
  const plainBackward = shortcuts > 0 ? await createSession(plain.model, settings) : undefined;
  const dims = prepared.info.get(lower)!.dims.map((d) => (d === 'N' ? batch : d));
  const rand = seededRandom(1);
  const n = dims.reduce((a, b) => a * b, 1);
  const x = new ort.Tensor(
    'float32',
    Float32Array.from({ length: n }, () => Math.max(0, rand() * 2 - 1)),
    dims,
  );
  const channels = new ort.Tensor(
    'int64',
    BigInt64Array.from({ length: batch }, (_, i) => BigInt(i % circuit.upperChannels)),
    [batch],
  );
  const images = new ort.Tensor(
    'int64',
    BigInt64Array.from({ length: batch }, (_, i) => BigInt(i)),
    [batch],
  );
  const feeds = { [lower]: x, [circuit.inputs.image]: images, [circuit.inputs.channel]: channels };
  const [tForward, tCircuit, tPlain] = await timeAlternating([
    () => forward.run({ [lower]: x }),
    () => backward.run(feeds),
    ...(plainBackward ? [() => plainBackward.run(feeds)] : []),
  ]);
  const perRow = (t: number) => `${(t / batch).toFixed(2)} ms/row`;
  console.log(
    `${label} | batch ${batch} | forward ${perRow(tForward!)} | circuit ${perRow(tCircuit!)} | ratio ${(tCircuit! / tForward!).toFixed(2)} | ${((batch * 1000) / tCircuit!).toFixed(0)} vectors/s` +
      (tPlain === undefined
        ? ''
        : ` | ${shortcuts} one-channel 1x1 shortcut(s); without them ${perRow(tPlain)}, ratio ${(tPlain / tForward!).toFixed(2)}: ${(tPlain / tCircuit!).toFixed(2)}x faster with`),
  );
  await forward.release();
  await backward.release();
  await plainBackward?.release();
}

console.log(
  `${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores visible, ${threads} intra-op threads` +
    (device === 'cpu' ? '' : `, sessions on ${device}`),
);
await bench(
  'ResNet-56 layer2.8 -> layer3.8',
  await loadModel(sharedModel('resnet56-cifar10.onnx')),
  '/layer2/layer2.8/Relu_1_output_0',
  '/layer3/layer3.8/Relu_1_output_0',
);
await bench(
  'ResNet-50 layer4.0 block (1024x14x14 -> 2048x7x7)',
  bottleneckStage({ inChannels: 1024, width: 512, size: 14, blocks: 1 }),
  'stage_in',
  'block0_out',
);
await bench(
  'ResNet-50 layer3 -> layer4 (3 blocks, 1024x14x14 -> 2048x7x7)',
  bottleneckStage({ inChannels: 1024, width: 512, size: 14, blocks: 3 }),
  'stage_in',
  'block2_out',
);
