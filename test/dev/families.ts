/**
 * Dev-only: the torchvision CNN families beyond ResNets (MobileNetV3-Large, EfficientNet-B0, ConvNeXt-T,
 * DenseNet-121) with random weights, as test/dev/export-families.py writes them (.tools/families/, or
 * $PURE_FAMILIES_DIR), and the layer pairs the PyTorch cross-check (torch-crosscheck.ts) and
 * test/dev/families-run.sh use. Each pair is two block outputs (`pure layers`; docs/attribution.md,
 * "Model families"); the first pair of each family is the one families-run.sh sweeps, chosen with an
 * upper layer of few channels (every channel is explained) so that the run takes minutes.
 *
 *   node dist/test/dev/families.js    # one line per family: name, model file, lower, upper (tab-separated)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../support/paths.js';

export interface LayerPair {
  readonly name: string;
  readonly lower: string;
  readonly upper: string;
}

export interface Family {
  /** torchvision's builder name, and the file's base name. */
  readonly name: string;
  readonly pairs: readonly [LayerPair, ...LayerPair[]];
  /** Why zennit's EpsilonPlusFlat on the onnx2torch conversion differs from ours, where it does. */
  readonly lrpDiffers?: string;
}

const mobilenet = (block: number) => `/features/features.${block}/Add_output_0`;
const staged = (stage: number, block: number) =>
  `/features/features.${stage}/features.${stage}.${block}/Add_output_0`;
const denseBlock = (n: number) => `/features/denseblock${n}/Concat_output_0`;
const transition = (n: number) => `/features/transition${n}/pool/AveragePool_output_0`;

export const FAMILIES: readonly Family[] = [
  {
    name: 'mobilenet_v3_large',
    pairs: [
      { name: '24ch -> 40ch (SE, HardSigmoid, ReLU)', lower: mobilenet(3), upper: mobilenet(6) },
      { name: '80ch -> 112ch (HardSwish, SE)', lower: mobilenet(10), upper: mobilenet(12) },
    ],
  },
  {
    name: 'efficientnet_b0',
    pairs: [
      { name: 'stage 2 -> stage 3 (SiLU, SE)', lower: staged(2, 1), upper: staged(3, 1) },
      { name: 'stage 5 -> stage 6', lower: staged(5, 2), upper: staged(6, 3) },
    ],
  },
  {
    name: 'convnext_tiny',
    lrpDiffers:
      'onnx2torch turns nn.Linear into MatMul + Add modules, which zennit leaves to the gradient; ' +
      'ours applies epsilon to MatMul as zennit does to nn.Linear',
    pairs: [
      { name: 'block 1.1 -> 1.2 (LayerNorm, GELU, layer scale)', lower: staged(1, 1), upper: staged(1, 2) },
      { name: 'stage 1 -> stage 2 (LayerNorm2d, downsampling)', lower: staged(1, 2), upper: staged(3, 2) },
    ],
  },
  {
    name: 'densenet121',
    pairs: [
      {
        name: 'dense block 1 -> transition 1 (BN, Pad, AveragePool)',
        lower: denseBlock(1),
        upper: transition(1),
      },
      { name: 'transition 1 -> dense block 2 (12 dense layers)', lower: transition(1), upper: denseBlock(2) },
    ],
  },
];

export const familiesFolder = (): string =>
  process.env.PURE_FAMILIES_DIR ?? resolve(projectRoot, '.tools', 'families');

export const familyModel = (family: Family): string => resolve(familiesFolder(), `${family.name}.onnx`);

/**
 * Exports the families whose file is missing, with `python` (Debian's torch + torchvision, and onnx:
 * the torch-venv that test/dev/torch-setup.sh makes). Random weights, so nothing is downloaded.
 */
export function ensureFamilyExports(python: string): void {
  const missing = FAMILIES.filter((f) => !existsSync(familyModel(f))).map((f) => f.name);
  if (missing.length === 0) return;
  const script = resolve(projectRoot, 'test', 'dev', 'export-families.py');
  const run = spawnSync(python, [script, '--out', familiesFolder(), ...missing], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (run.status !== 0) {
    throw new Error(`${python} test/dev/export-families.py ${missing.join(' ')} failed (exit ${run.status})`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const family of FAMILIES) {
    const [run] = family.pairs;
    process.stdout.write(`${family.name}\t${familyModel(family)}\t${run.lower}\t${run.upper}\n`);
  }
}
