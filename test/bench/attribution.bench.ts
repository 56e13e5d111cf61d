/**
 * Attribution engine benchmark: cost of the circuit model vs the forward of the same cut alone,
 * and circuit vectors per second, for
 *   - ResNet-56 (shared model), last two stages: layer2.8 -> layer3.8;
 *   - a ResNet-50 layer4.0-shaped bottleneck block (1024 -> 2048 channels, 14x14 -> 7x7) with
 *     random weights built here (0.745 GFLOP per image forward), and the whole layer3 -> layer4 cut
 *     (3 blocks), the paper's last pair of layers;
 * where 1x1 convs take the one-channel shortcut, the circuit without it runs alongside (A/B).
 *
 * The workload is `rows` circuit rows = rows / K images x K upper channels per image, rows of one image
 * adjacent as the circuits stage orders them, for each K given: with K = 1 every row has its own image;
 * with K > 1 the K rows of an image share its L' -> L forward (circuit.ts).
 *
 * With --torch (or PURE_BENCH_TORCH=1) the same cuts and workloads run in PyTorch in the same rounds
 * (attribution_torch.py: the careful user, the better of its two ways, and the authors' code path) and
 * the ratios are printed. Dev-only: it needs /usr/bin/python3 with Debian's torch and torchvision.
 *
 * Run: node dist/test/bench/attribution.bench.js [threads=2] [rows=64] [K list=1,8] [--torch]
 * On a GPU: PURE_BENCH_DEVICE=cuda (after `bash infra/tools.sh install gpu`; scripts/gpu-check.sh runs it).
 * Env: PURE_BENCH_TORCH=1, PURE_BENCH_AUTHORS_ROWS (rows per run of the authors' path, default 8: it
 * costs a whole-model forward and backward per row), PURE_BENCH_SECONDS (time per workload, default 6),
 * PURE_BENCH_ROUNDS (at least this many rounds per workload, default 5).
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
import { buildCircuitModel, type CircuitModel, IMAGE_INPUT } from '../../core/compute/attribution/circuit.js';
import { type ModelProto, onnx } from '../../core/compute/onnx/model.js';
import { probedValueInfo } from '../../core/compute/onnx/tensor-info.js';
import { bottleneckStage } from '../support/bottleneck.js';
import { sharedModel } from '../support/paths.js';
import { seededRandom } from '../support/random.js';
import { peakMemory } from './peak-memory.js';
import { TORCH_PYTHON, TorchWorker } from './torch-worker.js';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const threads = Number(positional[0] ?? 2);
const rows = Number(positional[1] ?? 64);
const slotCounts = (positional[2] ?? '1,8').split(',').map(Number);
const withTorch = process.argv.includes('--torch') || process.env.PURE_BENCH_TORCH === '1';
const authorsRows = Number(process.env.PURE_BENCH_AUTHORS_ROWS ?? 8);
const seconds = Number(process.env.PURE_BENCH_SECONDS ?? 6);
const minRounds = Number(process.env.PURE_BENCH_ROUNDS ?? 5);
const device = (process.env.PURE_BENCH_DEVICE ?? 'cpu') as Device;
if (!DEVICES.includes(device)) {
  throw new Error(`PURE_BENCH_DEVICE must be one of ${DEVICES.join(', ')}, got '${device}'`);
}
await checkDevice(device);
for (const k of slotCounts) {
  if (!Number.isInteger(k) || k < 1 || rows % k !== 0) {
    throw new Error(`K = ${k}: each K must be a positive integer dividing the ${rows} rows (argument 3)`);
  }
}
if (!Number.isInteger(authorsRows) || authorsRows < 1) {
  throw new Error(`PURE_BENCH_AUTHORS_ROWS must be a positive integer, got ${authorsRows}`);
}

/** A timed run: resolves to its own measured milliseconds (the torch worker's), or to anything else (wall time). */
type Run = () => Promise<unknown>;

/**
 * Median milliseconds of each run, alternating between them round by round so that load from other
 * processes (the machine is shared) hits all alike and their ratios stay meaningful.
 */
async function timeAlternating(runs: ReadonlyMap<string, Run>): Promise<Map<string, number>> {
  for (const run of runs.values()) await run();
  const times = new Map([...runs.keys()].map((name): [string, number[]] => [name, []]));
  const deadline = performance.now() + seconds * 1000;
  for (let round = 0; performance.now() < deadline || round < minRounds; round++) {
    for (const [name, run] of runs) {
      const t = performance.now();
      const own = await run();
      times.get(name)!.push(typeof own === 'number' ? own : performance.now() - t);
    }
  }
  return new Map(
    [...times].map(([name, list]) => [name, list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!]),
  );
}

/** The cut a_L' -> a_L alone, as a model: what a forward of the same cut costs. */
function forwardModelOf(
  prepared: Awaited<ReturnType<typeof prepareModel>>,
  circuit: CircuitModel,
): ModelProto {
  const { lower, upper } = circuit.cut;
  return onnx.ModelProto.create({
    ...circuit.model,
    graph: {
      ...circuit.model.graph,
      node: [...circuit.cut.nodes],
      initializer: circuit.cut.initializers.map((n) => prepared.index.initializers.get(n)!),
      input: [probedValueInfo(lower, prepared.info.get(lower)!)],
      output: [probedValueInfo(upper, prepared.info.get(upper)!)],
    },
  });
}

const int64 = (values: readonly number[]) =>
  new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [values.length]);

interface Cut {
  readonly label: string;
  readonly model: ModelProto;
  readonly lower: string;
  readonly upper: string;
  /** The same cut in attribution_torch.py. */
  readonly torchCase: string;
}

async function bench(cut: Cut, torch: TorchWorker | undefined): Promise<void> {
  const prepared = await prepareModel(cut.model);
  const circuit = buildCircuitModel(prepared, cut.lower, cut.upper);
  const plain = buildCircuitModel(prepared, cut.lower, cut.upper, { oneChannelShortcut: false });
  const settings = {
    intraOpNumThreads: threads,
    ...(device === 'cpu' ? {} : { executionProviders: executionProvidersFor(device) }),
  };
  const forward = await createSession(forwardModelOf(prepared, circuit), settings);
  const backward = await createSession(circuit.model, settings);
  const shortcuts = (circuit.model.graph?.node ?? []).filter(
    (n) => n.opType === 'Gather' && n.input?.[1] !== IMAGE_INPUT,
  ).length;
  const plainBackward = shortcuts > 0 ? await createSession(plain.model, settings) : undefined;
  const perImage = prepared.info.get(cut.lower)!.dims.slice(1) as number[];
  const lowerOf = (images: number) => {
    const rand = seededRandom(1);
    const n = images * perImage.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, () => Math.max(0, rand() * 2 - 1));
    return new ort.Tensor('float32', data, [images, ...perImage]);
  };
  let authorsPerSecond: number | undefined;
  for (const slots of slotCounts) {
    const images = rows / slots;
    const lower = lowerOf(images);
    // Row r is image floor(r / K)'s slot r mod K, channel r mod C: as attribution_torch.py numbers them.
    const feeds = {
      [circuit.inputs.lower]: lower,
      [circuit.inputs.image]: int64(Array.from({ length: rows }, (_, r) => Math.floor(r / slots))),
      [circuit.inputs.channel]: int64(Array.from({ length: rows }, (_, r) => r % circuit.upperChannels)),
    };
    const runs = new Map<string, Run>([
      ['forward', () => forward.run({ [cut.lower]: lower })],
      ['circuit', () => backward.run(feeds)],
    ]);
    if (plainBackward) runs.set('plain', () => plainBackward.run(feeds));
    if (torch) {
      for (const variant of ['careful-shared', 'careful-repeat'] as const) {
        runs.set(variant, () => torch.run(cut.torchCase, variant, rows, slots));
      }
      // The authors' path pays a whole-model forward and backward per row whatever K is (no sharing):
      // timed once per cut, one image per row.
      if (authorsPerSecond === undefined)
        runs.set('authors', () => torch.run(cut.torchCase, 'authors', authorsRows, 1));
    }
    const t = await timeAlternating(runs);
    const perRow = (ms: number) => `${(ms / rows).toFixed(2)} ms/row`;
    const ours = (rows * 1000) / t.get('circuit')!;
    const parts = [
      `${cut.label} | K ${slots}: ${images} images x ${slots} neurons = ${rows} rows`,
      `forward ${(t.get('forward')! / images).toFixed(2)} ms/image`,
      `circuit ${perRow(t.get('circuit')!)}, ${ours.toFixed(1)} vectors/s`,
    ];
    const tPlain = t.get('plain');
    if (tPlain !== undefined) {
      parts.push(
        `${shortcuts} one-channel 1x1 shortcut(s); without them ${perRow(tPlain)}: ${(tPlain / t.get('circuit')!).toFixed(2)}x faster with`,
      );
    }
    if (torch) {
      const shared = t.get('careful-shared')!;
      const repeat = t.get('careful-repeat')!;
      const authors = t.get('authors');
      if (authors !== undefined) authorsPerSecond = (authorsRows * 1000) / authors;
      const careful = (rows * 1000) / Math.min(shared, repeat);
      const winner = shared <= repeat ? 'forward once, grad per neuron' : "a_L' repeated per row";
      parts.push(
        `torch careful ${careful.toFixed(1)} vectors/s (${winner} won: ${perRow(shared)} vs ${perRow(repeat)}), ours/careful ${(ours / careful).toFixed(2)}x`,
        `torch authors (CRP-style, ${authorsRows} rows a run${authors === undefined ? ', timed at the first K' : ''}) ${authorsPerSecond!.toFixed(2)} vectors/s, ours/authors ${(ours / authorsPerSecond!).toFixed(1)}x`,
      );
    }
    console.log(parts.join(' | '));
  }
  await forward.release();
  await backward.release();
  await plainBackward?.release();
}

console.log(
  `${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores visible, ${threads} intra-op threads, ${rows} rows per run, K ${slotCounts.join(', ')}`,
);
let torch: TorchWorker | undefined;
if (withTorch) {
  const started = await TorchWorker.start(threads);
  if (typeof started === 'string') console.log(`PyTorch side-by-side skipped: ${started}`);
  else {
    torch = started;
    console.log(`PyTorch side-by-side: ${torch.banner} (${TORCH_PYTHON}), interleaved round by round`);
  }
} else {
  console.log(
    '(PyTorch side-by-side off: add --torch or PURE_BENCH_TORCH=1, dev-only, /usr/bin/python3 + torch)',
  );
}
const cuts: Cut[] = [
  {
    label: 'ResNet-56 layer2.8 -> layer3.8',
    model: await loadModel(sharedModel('resnet56-cifar10.onnx')),
    lower: '/layer2/layer2.8/Relu_1_output_0',
    upper: '/layer3/layer3.8/Relu_1_output_0',
    torchCase: 'resnet56',
  },
  {
    label: 'ResNet-50 layer4.0 block (1024x14x14 -> 2048x7x7)',
    model: bottleneckStage({ inChannels: 1024, width: 512, size: 14, blocks: 1 }),
    lower: 'stage_in',
    upper: 'block0_out',
    torchCase: 'resnet50-block',
  },
  {
    label: 'ResNet-50 layer3 -> layer4 (3 blocks, 1024x14x14 -> 2048x7x7)',
    model: bottleneckStage({ inChannels: 1024, width: 512, size: 14, blocks: 3 }),
    lower: 'stage_in',
    upper: 'block2_out',
    torchCase: 'resnet50-layer4',
  },
];
for (const cut of cuts) await bench(cut, torch);
console.log(
  `peak memory: ${peakMemory()} (this process)${torch ? `, ${((await torch.peakBytes()) / 2 ** 20).toFixed(0)} MB (the torch worker)` : ''}`,
);
torch?.close();
