/**
 * Dev-only cross-check of the attribution engine against PyTorch autograd and zennit (the LRP library
 * the PURE authors use), on the three shared models (real images), two built ones (random weights:
 * bottleneck blocks with unfused BatchNorm, and the ops of mixed-ops.ts) and four torchvision families
 * with random weights on real images (families.ts; exported on demand). Not part of CI: it needs Debian's
 * PyTorch and a small virtual environment that test/dev/torch-setup.sh installs (docs/attribution.md,
 * "Cross-check with PyTorch and zennit"):
 *
 *   npm run build && npm run crosscheck:torch            # all models
 *   node dist/test/dev/torch-crosscheck.js densenet resnet20   # only models whose file name has one of these
 *
 * For each case it computes circuit vectors (docs/design.md step 2) or input heatmaps (step 4) with our
 * ONNX backward graphs on onnxruntime, hands the same preprocessed images to
 * test/dev/torch-crosscheck.py (onnx2torch conversion + torch.autograd / zennit EpsilonPlusFlat, none
 * of our code), and compares: max |ours - torch| / max |torch| per row. Channels are each image's most
 * active ones, so no row is trivially zero. Exit status 1 if any case exceeds the tolerance.
 * PURE_TORCH_PYTHON overrides the interpreter; PURE_TORCH_ONLY=<part of a model file name> runs that
 * model's cases only (e.g. `vit`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { saveModel } from '../../core/adapters/models/model-file.js';
import {
  AttributionEngine,
  type CompositeName,
  circuitVectors,
  heatmaps,
  lowerActivations,
  type NeuronRegion,
  selectRows,
} from '../../core/adapters/onnxruntime/attribution.js';
import { fromOrt, toOrt } from '../../core/adapters/onnxruntime/session.js';
import { featureView } from '../../core/compute/onnx/feature-layout.js';
import type { ModelProto } from '../../core/compute/onnx/model.js';
import { type Tensor, tensor } from '../../core/compute/onnx/tensor.js';
import { bottleneckStage } from '../support/bottleneck.js';
import { mixedOpsModel } from '../support/mixed-ops.js';
import { fixtureModel, projectRoot, sharedModel } from '../support/paths.js';
import { seededRandom } from '../support/random.js';
import { loadImages, samplePaths } from '../unit/attribution/images.js';
import { ensureFamilyExports, FAMILIES, familyModel } from './families.js';

const TOLERANCE = 1e-3;
/** Gradient heatmaps: the share of pixels allowed to differ (float32 decision flips; see agrees()). */
const PATCH_SHARE = 0.01;

type Case =
  | { kind: 'circuit'; name: string; lower: string; upper: string }
  | {
      kind: 'heatmap';
      name: string;
      layer: string;
      composite: CompositeName;
      region: NeuronRegion;
      /** Why the two sides are known to differ: the numbers are printed, not checked. */
      measuredOnly?: string;
    };

interface ModelCases {
  /**
   * A shared model's file name, a model built here (written to the work folder under `name`), or a model
   * file elsewhere (`path`: a fixture of this checkout, a ViT export `ensure` makes when missing, or a
   * torchvision family export-families.py writes; `name` is how it is reported, default its file name).
   */
  readonly model:
    | string
    | { readonly name: string; readonly build: () => ModelProto }
    | { readonly path: string; readonly name?: string; readonly ensure?: () => void };
  /**
   * Recompute torch's side on the torchvision model itself instead of the ONNX file through onnx2torch:
   * `builder` names a function of test/dev/export-vit.py, `modules` maps our tensor names to the
   * torchvision modules whose outputs they are.
   */
  readonly torchvision?: { readonly builder: string; readonly modules: Readonly<Record<string, string>> };
  readonly images: () => Promise<Tensor>;
  readonly cases: readonly Case[];
}

const cifar = async () =>
  loadImages(
    [
      ...samplePaths('cifar10-test', 3, 'cat'),
      ...samplePaths('cifar10-test', 3, 'ship'),
      ...samplePaths('cifar10-test', 2, 'horse'),
    ],
    32,
  );
const resnetStage = (stage: number, block: number) => `/layer${stage}/layer${stage}.${block}/Relu_1_output_0`;
const fire = (n: number) => `/fires.${n}/Concat_output_0`;

const MODELS: readonly ModelCases[] = [
  {
    model: 'resnet20-cifar10.onnx',
    images: cifar,
    cases: [
      { kind: 'circuit', name: 'stage1->stage2', lower: resnetStage(1, 2), upper: resnetStage(2, 2) },
      { kind: 'circuit', name: 'stage2->stage3', lower: resnetStage(2, 2), upper: resnetStage(3, 2) },
      {
        kind: 'heatmap',
        name: 'gradient map',
        layer: resnetStage(2, 2),
        composite: 'gradient',
        region: 'map',
      },
      {
        kind: 'heatmap',
        name: 'EpsilonPlusFlat map',
        layer: resnetStage(3, 2),
        composite: 'epsilon-plus-flat',
        region: 'map',
      },
      {
        kind: 'heatmap',
        name: 'EpsilonPlusFlat arg-max',
        layer: resnetStage(2, 2),
        composite: 'epsilon-plus-flat',
        region: 'argmax',
      },
    ],
  },
  {
    model: 'resnet56-cifar10.onnx',
    images: cifar,
    cases: [
      { kind: 'circuit', name: 'stage2->stage3', lower: resnetStage(2, 8), upper: resnetStage(3, 8) },
      {
        kind: 'heatmap',
        name: 'EpsilonPlusFlat map',
        layer: resnetStage(3, 8),
        composite: 'epsilon-plus-flat',
        region: 'map',
      },
    ],
  },
  {
    model: 'squeezenet1.1-imagenet.onnx',
    images: () => loadImages(samplePaths('imagenet-samples', 3), 224),
    cases: [
      { kind: 'circuit', name: 'fire6->fire7', lower: fire(6), upper: fire(7) },
      { kind: 'circuit', name: 'fire3->fire4 (ceil MaxPool)', lower: fire(3), upper: fire(4) },
      { kind: 'heatmap', name: 'gradient map', layer: fire(4), composite: 'gradient', region: 'map' },
      {
        kind: 'heatmap',
        name: 'EpsilonPlusFlat map',
        layer: fire(7),
        composite: 'epsilon-plus-flat',
        region: 'map',
      },
      {
        kind: 'heatmap',
        name: 'EpsilonPlusFlat arg-max',
        layer: fire(4),
        composite: 'epsilon-plus-flat',
        region: 'argmax',
      },
    ],
  },
  {
    // Unfused BatchNorm: our canonizer merges it into the conv before it, zennit's
    // SequentialMergeBatchNorm does the same on the torch side (the authors' ResNet canonizers).
    model: {
      name: 'bottleneck-batchnorm.onnx',
      build: () =>
        bottleneckStage({
          inChannels: 16,
          width: 8,
          size: 8,
          blocks: 2,
          batchNorm: true,
          stem: true,
          seed: 3,
        }),
    },
    images: async () => {
      const random = seededRandom(11);
      return tensor(
        'float32',
        [4, 16, 8, 8],
        Float32Array.from({ length: 4 * 16 * 64 }, () => random() * 2 - 1),
      );
    },
    cases: [
      { kind: 'circuit', name: 'block0 -> block1', lower: 'block0_out', upper: 'block1_out' },
      { kind: 'heatmap', name: 'gradient map', layer: 'block1_out', composite: 'gradient', region: 'map' },
      {
        kind: 'heatmap',
        name: 'EpsilonPlusFlat map (BN merged)',
        layer: 'block1_out',
        composite: 'epsilon-plus-flat',
        region: 'map',
      },
    ],
  },
  {
    // The ops of issue 13 that no shared model has: HardSwish, Resize (bilinear up, nearest down),
    // reflect Pad, Softmax over channels, LayerNormalization, GELU through Erf, Gather with repeats.
    model: { name: 'mixed-ops.onnx', build: () => mixedOpsModel() },
    images: async () => {
      const random = seededRandom(13);
      return tensor(
        'float32',
        [4, 3, 8, 8],
        Float32Array.from({ length: 4 * 3 * 64 }, () => random() * 2 - 1),
      );
    },
    cases: [
      { kind: 'circuit', name: 'block0 -> block1', lower: 'block0_out', upper: 'block1_out' },
      { kind: 'heatmap', name: 'gradient map', layer: 'block1_out', composite: 'gradient', region: 'map' },
      {
        kind: 'heatmap',
        name: 'EpsilonPlusFlat map',
        layer: 'block1_out',
        composite: 'epsilon-plus-flat',
        region: 'map',
      },
      {
        kind: 'heatmap',
        name: 'EpsilonPlusFlat arg-max',
        layer: 'block1_out',
        composite: 'epsilon-plus-flat',
        region: 'argmax',
      },
    ],
  },
];

/**
 * Vision Transformers (docs/attribution.md, "Token neurons"): torch's side runs the torchvision model
 * that test/dev/export-vit.py exported (same seed, same weights), hooked at the encoder's modules, so
 * neither onnx2torch nor our graph is involved. Gradient-based cases only: zennit's EpsilonPlusFlat on a
 * torchvision ViT treats the residual adds and GELU as plain autograd (functional calls, not modules),
 * where our composite applies norm and the Erf-GELU's gradient; those are different LRP variants.
 */
const vitBlock = (i: number) => `/encoder/layers/encoder_layer_${i}/Add_1_output_0`;
const vitModules = (blocks: number) => ({
  '/encoder/Add_output_0': 'encoder.dropout',
  ...Object.fromEntries(
    Array.from({ length: blocks }, (_, i) => [vitBlock(i), `encoder.layers.encoder_layer_${i}`]),
  ),
});
const exportVit = (flag: string[]) => () => {
  const python =
    process.env.PURE_TORCH_PYTHON ?? resolve(projectRoot, '.tools', 'torch-venv', 'bin', 'python');
  const done = spawnSync(python, [join(projectRoot, 'test', 'dev', 'export-vit.py'), ...flag], {
    stdio: 'inherit',
  });
  if (done.status !== 0)
    throw new Error(`test/dev/export-vit.py ${flag.join(' ')} failed (exit ${done.status})`);
};
const VIT_MODELS: readonly ModelCases[] = [
  {
    model: { path: fixtureModel('vit-tiny-cifar10.onnx') },
    torchvision: { builder: 'tiny_vit', modules: vitModules(2) },
    images: cifar,
    cases: [
      { kind: 'circuit', name: 'embedding->block0', lower: '/encoder/Add_output_0', upper: vitBlock(0) },
      { kind: 'circuit', name: 'block0->block1', lower: vitBlock(0), upper: vitBlock(1) },
      { kind: 'heatmap', name: 'gradient map', layer: vitBlock(1), composite: 'gradient', region: 'map' },
      {
        kind: 'heatmap',
        name: 'gradient arg-max token',
        layer: vitBlock(1),
        composite: 'gradient',
        region: 'argmax',
      },
    ],
  },
  {
    // 330 MB, not committed: exported on first use (random weights; torchvision downloads nothing).
    model: {
      path: resolve(projectRoot, '.tools', 'families', 'vit_b_16.onnx'),
      ensure: exportVit(['--vit-b-16']),
    },
    torchvision: { builder: 'vit_b_16', modules: vitModules(12) },
    images: () => loadImages(samplePaths('imagenet-samples', 3), 224),
    cases: [
      { kind: 'circuit', name: 'block5->block6', lower: vitBlock(5), upper: vitBlock(6) },
      { kind: 'circuit', name: 'block10->block11', lower: vitBlock(10), upper: vitBlock(11) },
      { kind: 'heatmap', name: 'gradient map', layer: vitBlock(11), composite: 'gradient', region: 'map' },
    ],
  },
];

/**
 * The torchvision families (random weights, exported on demand): circuit vectors for two pairs of
 * stage outputs each, on real photos. Their block outputs are residual sums or DenseNet Concats, not
 * ReLUs, so the seed ReLU(a_L) keeps only the positive part of the map (docs/attribution.md).
 */
function familyModelCases(): ModelCases[] {
  return FAMILIES.map((family) => ({
    model: { name: `${family.name}.onnx`, path: familyModel(family) },
    images: () => loadImages(samplePaths('imagenet-samples', 3), 224),
    cases: [
      ...family.pairs.map((pair) => ({ kind: 'circuit' as const, ...pair })),
      ...(['gradient', 'epsilon-plus-flat'] as const).map((composite) => ({
        kind: 'heatmap' as const,
        name: `${composite} arg-max, ${family.pairs[0].upper}`,
        layer: family.pairs[0].upper,
        composite,
        region: 'argmax' as const,
        ...(composite === 'epsilon-plus-flat' && family.lrpDiffers
          ? { measuredOnly: family.lrpDiffers }
          : {}),
      })),
    ],
  }));
}

/**
 * Each image's `perImage` most active channels of `layer` (max over space, or over tokens for a token
 * layer: feature-layout.ts): rows and channels.
 */
async function activeChannels(
  engine: AttributionEngine,
  model: string,
  layer: string,
  images: Tensor,
  perImage = 2,
) {
  const forward = await engine.forward(model, [layer]);
  const result = await engine.run(forward.session, { [forward.inputName]: toOrt(images) }, [layer], layer);
  const a = fromOrt(result[layer]!);
  const view = featureView(a.dims);
  const rows: number[] = [];
  const picked: number[] = [];
  for (let b = 0; b < view.rows; b++) {
    const maxima = Array.from({ length: view.features }, (_, c) => {
      let m = -Infinity;
      for (let p = 0; p < view.positions; p++)
        m = Math.max(m, Number(a.data[view.base(b, c) + p * view.stride]));
      return [m, c] as const;
    }).sort((x, y) => y[0] - x[0]);
    for (const [, c] of maxima.slice(0, perImage)) {
      rows.push(b);
      picked.push(c);
    }
  }
  return { rows, channels: picked };
}

interface Agreement {
  /** max over rows of max |a - b| / max |b| within the row */
  readonly worst: number;
  /** the share of all elements where |a - b| > TOLERANCE x max |b| of their row */
  readonly offShare: number;
  /** max over all elements of |a - b| */
  readonly maxAbs: number;
  /** min over rows of the cosine of a and b */
  readonly minCosine: number;
}

function agreement(ours: Float32Array, theirs: Float32Array, rows: number): Agreement {
  if (ours.length !== theirs.length) throw new Error(`length ${ours.length} vs ${theirs.length}`);
  const size = ours.length / rows;
  let worst = 0;
  let off = 0;
  let maxAbs = 0;
  let minCosine = 1;
  for (let r = 0; r < rows; r++) {
    let scale = 0;
    for (let i = r * size; i < (r + 1) * size; i++) scale = Math.max(scale, Math.abs(theirs[i]!));
    if (scale === 0) throw new Error(`row ${r} is all zero in torch's result: the check would be vacuous`);
    let dot = 0;
    let oursNorm = 0;
    let theirsNorm = 0;
    for (let i = r * size; i < (r + 1) * size; i++) {
      const diff = Math.abs(ours[i]! - theirs[i]!);
      const e = diff / scale;
      worst = Math.max(worst, e);
      maxAbs = Math.max(maxAbs, diff);
      if (e > TOLERANCE) off++;
      dot += ours[i]! * theirs[i]!;
      oursNorm += ours[i]! * ours[i]!;
      theirsNorm += theirs[i]! * theirs[i]!;
    }
    minCosine = Math.min(minCosine, dot / Math.sqrt(oursNorm * theirsNorm));
  }
  return { worst, offShare: off / ours.length, maxAbs, minCosine };
}

/**
 * Whether a case agrees. Circuit vectors and LRP heatmaps: everywhere, to TOLERANCE. Gradient heatmaps
 * are discontinuous: a ReLU whose pre-activation lies within float32 rounding of zero, or a MaxPool
 * window whose two largest values do, switches a path on or off, and two float32 implementations (or
 * torch in float32 vs float64) may decide differently, which changes the heatmap in that unit's
 * receptive field. On real SqueezeNet inputs this happens (torch32 vs torch64 differ by up to 2e-2
 * there), so for gradients the criterion is: within TOLERANCE on all but PATCH_SHARE of the pixels.
 * A wrong adjoint would change most pixels.
 */
function agrees(c: Case, a: Agreement): boolean {
  if (c.kind === 'heatmap' && c.composite === 'gradient') return a.offShare <= PATCH_SHARE;
  return a.worst < TOLERANCE;
}

/** How a model is reported (and picked by the arguments): its file name. */
function fileOf(source: ModelCases['model']): string {
  if (typeof source === 'string') return source;
  return 'path' in source ? (source.name ?? basename(source.path)) : source.name;
}

async function main(): Promise<void> {
  const python =
    process.env.PURE_TORCH_PYTHON ?? resolve(projectRoot, '.tools', 'torch-venv', 'bin', 'python');
  const folder = mkdtempSync(join(tmpdir(), 'pure-torch-'));
  const engine = new AttributionEngine({ intraOpNumThreads: 2 });
  const pending: { label: string; name: string; ours: Float32Array; rows: number; case: Case }[] = [];
  const requests: object[] = [];
  // Arguments (or PURE_TORCH_ONLY), if any, pick the models whose file name contains one of them.
  const only = [
    ...process.argv.slice(2),
    ...(process.env.PURE_TORCH_ONLY ? [process.env.PURE_TORCH_ONLY] : []),
  ];
  const families = familyModelCases();
  const picked = [...MODELS, ...VIT_MODELS, ...families].filter(
    (m) => only.length === 0 || only.some((o) => fileOf(m.model).includes(o)),
  );
  try {
    if (picked.some((m) => families.includes(m))) ensureFamilyExports(python);
    for (const { model: source, images: load, cases, torchvision } of picked) {
      const file = fileOf(source);
      const model =
        typeof source === 'string'
          ? sharedModel(source)
          : 'path' in source
            ? source.path
            : join(folder, source.name);
      if (typeof source !== 'string' && 'build' in source) await saveModel(source.build(), model);
      if (typeof source !== 'string' && 'path' in source && !existsSync(model)) source.ensure?.();
      const images = await load();
      const imageFile = `${file}.images.f32`;
      writeFileSync(join(folder, imageFile), Buffer.from(images.data.buffer));
      for (const [i, c] of cases.entries()) {
        const name = `${file}.${i}`;
        const layer = c.kind === 'circuit' ? c.upper : c.layer;
        const { rows, channels } = await activeChannels(engine, model, layer, images);
        let ours: Float32Array;
        if (c.kind === 'circuit') {
          const cut = { model, lower: c.lower, upper: c.upper };
          const acts = await lowerActivations(engine, cut, images);
          const batch = { lower: selectRows(acts.lower, rows), channels };
          ours = (await circuitVectors(engine, cut, batch)).vectors;
        } else {
          const batch = { images: selectRows(images, rows), channels };
          const options = { composite: c.composite, region: c.region };
          ours = (await heatmaps(engine, { model, layer: c.layer }, batch, options)).heat
            .data as Float32Array;
        }
        writeFileSync(
          join(folder, `${name}.ours.f32`),
          Buffer.from(ours.buffer, ours.byteOffset, ours.byteLength),
        );
        pending.push({ label: `${file} ${c.kind} ${c.name}`, name, ours, rows: rows.length, case: c });
        requests.push({
          ...c,
          name,
          model,
          images: imageFile,
          imageDims: images.dims,
          rows,
          channels,
          ...(torchvision ? { torchvision } : {}),
        });
      }
    }
    writeFileSync(join(folder, 'cases.json'), JSON.stringify(requests));
    const torch = spawnSync(python, [join(projectRoot, 'test', 'dev', 'torch-crosscheck.py'), folder], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (torch.status !== 0) {
      throw new Error(
        `${python} test/dev/torch-crosscheck.py failed (exit ${torch.status}); see the setup above`,
      );
    }
    const reply = JSON.parse(readFileSync(join(folder, 'torch.json'), 'utf8')) as {
      versions: Record<string, string>;
      float32VsFloat64: Record<string, number>;
    };
    const precision = reply.float32VsFloat64;
    console.log(`PyTorch side: ${JSON.stringify(reply.versions)}`);
    let failed = 0;
    for (const p of pending) {
      const bytes = readFileSync(join(folder, `${p.name}.torch.f32`));
      const theirs = new Float32Array(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      );
      const a = agreement(p.ours, theirs, p.rows);
      const measuredOnly = p.case.kind === 'heatmap' ? p.case.measuredOnly : undefined;
      const ok = agrees(p.case, a);
      if (!ok && measuredOnly === undefined) failed++;
      const torch64 = precision[p.name];
      console.log(
        `${measuredOnly !== undefined ? 'info' : ok ? 'ok  ' : 'FAIL'} ${p.label}: ${p.rows} rows, max relative error ${a.worst.toExponential(2)}, ` +
          `${(100 * a.offShare).toFixed(3)} % elements off, max |diff| ${a.maxAbs.toExponential(2)}, ` +
          `min cosine ${a.minCosine.toFixed(9)}` +
          (torch64 === undefined ? '' : ` (torch float32 vs float64: ${torch64.toExponential(2)})`) +
          (measuredOnly === undefined ? '' : ` (not checked: ${measuredOnly})`),
      );
    }
    if (failed > 0) {
      console.error(`${failed} case(s) differ from PyTorch (see the criterion in agrees())`);
      process.exitCode = 1;
    }
  } finally {
    await engine.release();
    if (process.env.PURE_TORCH_KEEP) console.log(`kept ${folder}`);
    else rmSync(folder, { recursive: true, force: true });
  }
}

await main();
