import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import {
  decodeModel,
  encodeModel,
  graphOf,
  type ModelProto,
  valueInfo,
} from '../../core/compute/onnx/model.js';
import { tensorFromProto, tensorToProto } from '../../core/compute/onnx/tensor.js';
import { projectRoot, sharedDataset, sharedModel } from '../support/paths.js';

/**
 * Bad inputs as a user meets them: `pure run` (and `pure worker`, `pure --version`) started as a
 * process, one row per mistake. A set-up mistake exits 1 within seconds with a message that names the
 * option, before any Temporal server starts (no "[pure] run " line), and leaves nothing in --out that a
 * later run would trust. Images that cannot be decoded are rows too: one small real sweep over a folder
 * of odd images, which skips and records the broken ones and uses the unusual but valid ones.
 */

/** The compiled CLI beside this compiled test (dist/ or any other outDir). */
const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const RESNET20 = sharedModel('resnet20-cifar10.onnx');
const SQUEEZENET = sharedModel('squeezenet1.1-imagenet.onnx');
const CIFAR = sharedDataset('cifar10-test');
const L1 = '/layer1/layer1.2/Relu_1_output_0';
const L2 = '/layer2/layer2.2/Relu_1_output_0';
/** The Relu inside layer2.0, between L1 and L2: the unsupported-op model replaces it. */
const INNER_RELU = '/layer2/layer2.0/Relu';
const S3_DEADLINE_S = 20;

/** Everything built once for all rows: broken models, odd folders, and the mixed image folder. */
interface Assets {
  textOnnx: string;
  emptyOnnx: string;
  twoInputs: string;
  nanWeights: string;
  nanInitializer: string;
  oneChannel: string;
  unsupportedOp: string;
  emptyFolder: string;
  textJpegs: string;
  mixed: string;
}

/** One row's own folders: --out and --state-dir are fresh per row. */
interface Fixture {
  assets: Assets;
  dir: string;
  out: string;
  state: string;
  /** Port of an S3 endpoint that accepts TCP connections and never answers. */
  silentPort: number;
}

interface SetupCase {
  name: string;
  /** The CLI's arguments; a `run` row builds them with runArgs. */
  args: (f: Fixture) => string[];
  /** Prepared before the command: files the row needs in its own folder. */
  setup?: (f: Fixture) => Promise<void>;
  env?: (f: Fixture) => NodeJS.ProcessEnv;
  /** Matched against stderr (or stdout with `stream`). */
  expect: RegExp;
  stream?: 'stderr' | 'stdout';
  code?: number;
  /** The command ends within this (default 15 s: seconds of checks, never a sweep). */
  maxSeconds?: number;
  minSeconds?: number;
  /** Further checks after the command. */
  check?: (f: Fixture, result: CliResult) => void;
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** The environment of a user without a Temporal server or S3 settings. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'TEMPORAL_ADDRESS' || key.startsWith('AWS_') || key.startsWith('PURE_S3_')) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

function pure(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** `pure run` with working defaults (ResNet-20, 20 CIFAR images, k 5); `undefined` drops an option. */
function runArgs(f: Fixture, options: Record<string, string | true | undefined> = {}): string[] {
  const merged: Record<string, string | true | undefined> = {
    model: RESNET20,
    data: CIFAR,
    layers: 'auto',
    limit: '20',
    k: '5',
    out: f.out,
    'state-dir': f.state,
    ...options,
  };
  return [
    'run',
    ...Object.entries(merged).flatMap(([name, value]) =>
      value === undefined ? [] : value === true ? [`--${name}`] : [`--${name}`, value],
    ),
  ];
}

/** Every file under `path` (itself when it is a file) with its size: what a command left there. */
async function filesUnder(path: string): Promise<string[]> {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [`${path} (${statSync(path).size} bytes)`];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => {
      const file = join(e.parentPath, e.name);
      return `${file} (${statSync(file).size} bytes)`;
    })
    .sort();
}

// ---------------------------------------------------------------------------------------------------
// Models and images, built from the shared ResNet-20 and CIFAR-10

function loadResnet(): ModelProto {
  return decodeModel(readFileSync(RESNET20));
}

/** ResNet-20 with a second (unused) image input. */
function twoInputsModel(): Uint8Array {
  const model = loadResnet();
  graphOf(model).input!.push(valueInfo('mask', 1, ['N', 3, 32, 32]));
  return encodeModel(model);
}

/** ResNet-20 with one value of its first convolution's weights set to NaN. */
function nanWeightsModel(): { bytes: Uint8Array; initializer: string } {
  const model = loadResnet();
  const inits = graphOf(model).initializer!;
  const at = inits.findIndex((t) => (t.dims ?? []).length === 4);
  const weights = tensorFromProto(inits[at]!);
  const data = Float32Array.from(weights.data as Float32Array);
  data[7] = Number.NaN;
  inits[at] = tensorToProto(inits[at]!.name!, { ...weights, data });
  return { bytes: encodeModel(model), initializer: inits[at]!.name! };
}

/** ResNet-20 for grayscale input: 1 input channel, the first convolution's weights summed over RGB. */
function oneChannelModel(): Uint8Array {
  const model = loadResnet();
  const graph = graphOf(model);
  const input = graph.input!.find((i) => i.name === 'input')!;
  input.type!.tensorType!.shape!.dim![1] = { dimValue: 1 };
  const conv = graph.node!.find((n) => n.opType === 'Conv' && n.input![0] === 'input')!;
  const at = graph.initializer!.findIndex((t) => t.name === conv.input![1]);
  const weights = tensorFromProto(graph.initializer![at]!);
  const [outC, inC, kh, kw] = weights.dims as [number, number, number, number];
  const src = weights.data as Float32Array;
  const data = new Float32Array(outC * kh * kw);
  for (let o = 0; o < outC; o++) {
    for (let c = 0; c < inC; c++) {
      for (let i = 0; i < kh * kw; i++) data[o * kh * kw + i]! += src[(o * inC + c) * kh * kw + i]!;
    }
  }
  graph.initializer![at] = tensorToProto(conv.input![1]!, {
    dtype: 'float32',
    dims: [outC, 1, kh, kw],
    data,
  });
  return encodeModel(model);
}

/** ResNet-20 with one Relu between L1 and L2 replaced by Softplus, an op without a backward rule. */
function unsupportedOpModel(): Uint8Array {
  const model = loadResnet();
  const node = graphOf(model).node!.find((n) => n.name === INNER_RELU);
  assert.ok(node, `${INNER_RELU} is in ResNet-20`);
  node.opType = 'Softplus';
  return encodeModel(model);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid 20000x20000 1-bit grayscale PNG of ~50 KB: 400 megapixels once decoded. */
function decompressionBomb(): Buffer {
  const side = 20_000;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header.set([1, 0, 0, 0, 0], 8); // bit depth 1, grayscale, deflate, no filter, no interlace
  const rows = Buffer.alloc((1 + Math.ceil(side / 8)) * side); // filter byte 0 + zero pixels per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(rows, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Three frames of the same CIFAR image, shifted in colour, as an animated GIF. */
async function animatedGif(source: string): Promise<Buffer> {
  const frames = await Promise.all(
    [0, 60, 120].map((shift) =>
      sharp(source).removeAlpha().linear(1, shift).raw().toBuffer({ resolveWithObject: true }),
    ),
  );
  const { width, height } = frames[0]!.info;
  return sharp(Buffer.concat(frames.map((f) => f.data)), {
    raw: { width, height: height * frames.length, channels: 3, pageHeight: height },
  })
    .gif({ delay: [100, 100, 100], loop: 0 })
    .toBuffer();
}

/** How the sweep over the mixed folder must treat each odd image. */
interface ImageCase {
  name: string;
  file: string;
  make: (source: string) => Promise<Uint8Array | string>;
  /** The `skipped` table's error for it; absent: the image is used. */
  skipped?: RegExp;
}

const GOOD_IMAGES = 20;

const imageCases: ImageCase[] = [
  {
    name: 'a zero-byte .jpg',
    file: 'odd/zero-bytes.jpg',
    make: async () => new Uint8Array(0),
    skipped: /could not decode image: .*empty/i,
  },
  {
    name: 'a text file named .jpg',
    file: 'odd/text.jpg',
    make: async () => 'not an image, just text\n',
    skipped: /could not decode image: .*unsupported image format/i,
  },
  {
    name: 'a 20000x20000 PNG (decompression bomb)',
    file: 'odd/bomb.png',
    make: async () => decompressionBomb(),
    skipped: /could not decode image: .*exceeds pixel limit/i,
  },
  {
    name: 'a CMYK JPEG',
    file: 'odd/cmyk.jpg',
    make: (source) => sharp(source).toColourspace('cmyk').jpeg().toBuffer(),
  },
  {
    name: 'a 16-bit PNG',
    file: 'odd/rgb16.png',
    make: (source) => sharp(source).toColourspace('rgb16').png().toBuffer(),
  },
  {
    name: 'a grayscale PNG',
    file: 'odd/gray.png',
    make: (source) => sharp(source).toColourspace('b-w').png().toBuffer(),
  },
  {
    name: 'an RGBA PNG',
    file: 'odd/rgba.png',
    make: (source) => sharp(source).ensureAlpha(0.5).png().toBuffer(),
  },
  { name: 'an animated GIF', file: 'odd/animated.gif', make: animatedGif },
];

/** Checks that the odd images really are what their rows say, so a row cannot pass by accident. */
async function assertImageKinds(folder: string): Promise<void> {
  const meta = (file: string) => sharp(join(folder, file), { limitInputPixels: false }).metadata();
  assert.equal((await meta('odd/cmyk.jpg')).space, 'cmyk');
  assert.equal((await meta('odd/rgb16.png')).depth, 'ushort');
  assert.equal((await meta('odd/gray.png')).channels, 1);
  assert.equal((await meta('odd/rgba.png')).channels, 4);
  assert.equal((await meta('odd/animated.gif')).pages, 3);
  const bomb = await meta('odd/bomb.png');
  assert.deepEqual([bomb.width, bomb.height], [20_000, 20_000]);
  assert.ok(statSync(join(folder, 'odd/bomb.png')).size < 100_000);
}

async function buildAssets(dir: string): Promise<Assets> {
  const at = (name: string) => join(dir, name);
  const nan = nanWeightsModel();
  const assets: Assets = {
    textOnnx: at('text.onnx'),
    emptyOnnx: at('empty.onnx'),
    twoInputs: at('two-inputs.onnx'),
    nanWeights: at('nan-weights.onnx'),
    nanInitializer: nan.initializer,
    oneChannel: at('one-channel.onnx'),
    unsupportedOp: at('softplus.onnx'),
    emptyFolder: at('empty-folder'),
    textJpegs: at('text-jpegs'),
    mixed: at('mixed'),
  };
  await writeFile(assets.textOnnx, 'this is a README, not a model\n'.repeat(20));
  await writeFile(assets.emptyOnnx, '');
  await writeFile(assets.twoInputs, twoInputsModel());
  await writeFile(assets.nanWeights, nan.bytes);
  await writeFile(assets.oneChannel, oneChannelModel());
  await writeFile(assets.unsupportedOp, unsupportedOpModel());
  await mkdir(assets.emptyFolder);
  await mkdir(join(assets.textJpegs, 'cats'), { recursive: true });
  for (let i = 0; i < 3; i++) {
    await writeFile(join(assets.textJpegs, 'cats', `${i}.jpg`), `image ${i} was here\n`);
  }
  // The mixed folder: GOOD_IMAGES CIFAR images from every class, plus one file per image row.
  const classes = (await readdir(CIFAR)).sort();
  for (let i = 0; i < GOOD_IMAGES; i++) {
    const label = classes[i % classes.length]!;
    const file = `${String(i).padStart(4, '0')}.jpg`;
    await mkdir(join(assets.mixed, label), { recursive: true });
    await copyFile(join(CIFAR, label, file), join(assets.mixed, label, file));
  }
  await mkdir(join(assets.mixed, 'odd'));
  const source = join(CIFAR, classes[0]!, '0100.jpg');
  for (const image of imageCases) await writeFile(join(assets.mixed, image.file), await image.make(source));
  await assertImageKinds(assets.mixed);
  return assets;
}

// ---------------------------------------------------------------------------------------------------
// The set-up rows: each exits 1 (unless told) before any server starts

/** The mistake is said once, on one line: no stack trace, no second message. */
function oneMessage(_f: Fixture, r: CliResult): void {
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^pure: /);
}

const setupCases: SetupCase[] = [
  {
    name: '--preprocess imagenet on the CIFAR ResNet-20',
    args: (f) => runArgs(f, { preprocess: 'imagenet' }),
    expect:
      /--preprocess imagenet: makes 224x224 images, but the model takes 32x32; use --preprocess cifar10, or leave --preprocess out/,
  },
  {
    name: 'invalid --preprocess JSON',
    args: (f) => runArgs(f, { preprocess: '{"cropSize":32,' }),
    expect: /--preprocess must be one of cifar10, imagenet, clip or a JSON spec .*JSON/,
  },
  {
    name: 'a missing --evaluator file',
    args: (f) => runArgs(f, { evaluator: join(f.dir, 'no-such-encoder.onnx') }),
    expect:
      /--evaluator \S+no-such-encoder\.onnx: cannot read it \(.*not found.*\); pass the path or s3:\/\/ URI of an image encoder exported to ONNX/,
    check: oneMessage,
  },
  {
    name: 'a text file as --evaluator',
    args: (f) => runArgs(f, { evaluator: f.assets.textOnnx }),
    expect: /--evaluator \S+text\.onnx: not a valid ONNX model \(.+\); pass an \.onnx file/,
    check: oneMessage,
  },
  {
    name: 'an --evaluator with two inputs',
    args: (f) => runArgs(f, { evaluator: f.assets.twoInputs }),
    expect:
      /--evaluator \S+two-inputs\.onnx: expected an image model with one input, found 2 \(input, mask\); pure needs image models with one NCHW float input/,
    check: oneMessage,
  },
  {
    name: 'an --evaluator-output the encoder does not have (its outputs are listed)',
    args: (f) =>
      runArgs(f, { evaluator: SQUEEZENET, 'evaluator-output': 'nosuch', 'evaluator-preprocess': 'imagenet' }),
    expect:
      /--evaluator-output nosuch: no such tensor in \S+squeezenet1\.1-imagenet\.onnx; its outputs are logits \(any intermediate/,
    check: oneMessage,
  },
  {
    name: '--evaluator-preprocess cifar10 for a 224-pixel encoder',
    args: (f) => runArgs(f, { evaluator: SQUEEZENET, 'evaluator-preprocess': 'cifar10' }),
    expect:
      /--evaluator-preprocess cifar10: makes 3x32x32 inputs, but the encoder takes 3x224x224; pass a preset or JSON spec with "cropSize":224/,
    check: oneMessage,
  },
  {
    name: 'invalid --evaluator-preprocess JSON',
    args: (f) => runArgs(f, { evaluator: SQUEEZENET, 'evaluator-preprocess': '{"cropSize":224,' }),
    expect: /--evaluator-preprocess must be one of cifar10, imagenet, clip or a JSON spec .*JSON/,
    check: oneMessage,
  },
  {
    name: 'an --evaluator-preprocess spec without its fields',
    args: (f) => runArgs(f, { evaluator: SQUEEZENET, 'evaluator-preprocess': '{"cropSize":224}' }),
    expect: /--evaluator-preprocess must be one of cifar10, imagenet, clip or a JSON spec .*resizeShortSide/,
    check: oneMessage,
  },
  {
    name: '--out pointing to a file',
    setup: (f) => writeFile(f.out, 'a file the user keeps\n'),
    args: (f) => runArgs(f),
    expect: /--out \S+: cannot write there: it \(or a folder above it\) is a file, not a folder/,
  },
  {
    name: 'layers in the wrong order',
    args: (f) => runArgs(f, { layers: `${L2},${L1}` }),
    expect: new RegExp(
      `--layers: "${L1}" comes before "${L2}" in the model; list lower layers first: --layers ${L1},${L2}`,
    ),
  },
  {
    name: 'layers on parallel branches (the two expand branches of a SqueezeNet Fire module)',
    args: (f) =>
      runArgs(f, { model: SQUEEZENET, layers: '/fires.0/Relu_1_output_0,/fires.0/Relu_2_output_0' }),
    expect:
      /--layers: "\/fires\.0\/Relu_2_output_0" is not computed from "\/fires\.0\/Relu_1_output_0" \(parallel branches\)/,
  },
  {
    name: 'an unknown layer',
    args: (f) => runArgs(f, { layers: `${L1},/layer9/Relu_output_0` }),
    expect: /--layers: unknown layer "\/layer9\/Relu_output_0"; run `pure layers <model>` for candidates/,
  },
  {
    name: 'one layer with the default --until',
    args: (f) => runArgs(f, { layers: L1 }),
    expect: /virtual neurons need at least two layers .*or --until references/,
  },
  {
    name: 'an unsupported op between the layers (Softplus)',
    args: (f) => runArgs(f, { model: f.assets.unsupportedOp, layers: `${L1},${L2}` }),
    expect: new RegExp(
      `--layers ${L1} -> ${L2}: the circuit between them cannot be built: .*${INNER_RELU}.*Softplus`,
    ),
  },
  {
    name: 'an empty image folder',
    args: (f) => runArgs(f, { data: f.assets.emptyFolder }),
    expect: /--data \S+empty-folder: no images found under \S+ \(looked for \.jpg/,
  },
  {
    name: 'a folder whose only images are text files named .jpg',
    args: (f) => runArgs(f, { data: f.assets.textJpegs, k: '2', clusters: '2' }),
    expect:
      /--data \S+text-jpegs: none of 3 images tried .* can be used: cats\/0\.jpg: could not decode image: .*Point --data at a folder/,
  },
  {
    name: 'a missing --data folder',
    args: (f) => runArgs(f, { data: join(f.dir, 'no-such-folder') }),
    expect: /--data \S+no-such-folder: no images found under \S+no-such-folder/,
  },
  {
    name: 'a text file renamed .onnx',
    args: (f) => runArgs(f, { model: f.assets.textOnnx }),
    expect: /--model \S+text\.onnx: not a valid ONNX model \(.+\); pass an \.onnx file/,
  },
  {
    name: 'a zero-byte .onnx',
    args: (f) => runArgs(f, { model: f.assets.emptyOnnx }),
    expect: /--model \S+empty\.onnx: the file is empty \(0 bytes\); pass an \.onnx file/,
  },
  {
    name: 'a missing model path',
    args: (f) => runArgs(f, { model: join(f.dir, 'missing.onnx') }),
    expect: /--model \S+missing\.onnx: cannot read it \(.*not found.*\); pass the path or s3:\/\/ URI/,
  },
  {
    name: 'a model with two inputs',
    args: (f) => runArgs(f, { model: f.assets.twoInputs }),
    expect:
      /--model \S+two-inputs\.onnx: expected an image model with one input, found 2 \(input, mask\); pure needs image models with one NCHW float input/,
  },
  {
    name: 'NaN weights',
    args: (f) => runArgs(f, { model: f.assets.nanWeights }),
    expect:
      /--model: 1 weight tensor\(s\) contain NaN or infinite values \(([^)]+)\); the checkpoint is broken/,
    check: (f, r) => assert.match(r.stderr, new RegExp(`\\(${f.assets.nanInitializer}\\)`)),
  },
  {
    name: 'a 1-channel-input model',
    args: (f) => runArgs(f, { model: f.assets.oneChannel }),
    expect: /--model: its input 'input' has 1 channel\(s\); pure feeds RGB images \(3 channels\)/,
  },
  {
    name: '--k 100000 (more than the images)',
    args: (f) => runArgs(f, { k: '100000', limit: undefined }),
    expect:
      /--k 100000: more references per neuron than the 10000 images the run uses; pass --k 10000 or less/,
  },
  {
    name: '--k larger than --limit',
    args: (f) => runArgs(f, { k: '50', limit: '20' }),
    expect:
      /--k 50: more references per neuron than the 20 images the run uses \(--limit 20\); pass --k 20 or less/,
  },
  {
    name: 'cluster counts above k',
    args: (f) => runArgs(f, { k: '5', clusters: '2,3,8' }),
    expect: /cluster counts \(up to 8\) cannot exceed k = 5/,
  },
  {
    name: '--k 0',
    args: (f) => runArgs(f, { k: '0' }),
    expect: /option '-k, --k <n>' argument '0' is invalid\. k must be an integer >= 1/,
  },
  {
    name: 'three independent problems are reported together',
    setup: (f) => writeFile(f.out, 'a file\n'),
    args: (f) => runArgs(f, { preprocess: 'imagenet', k: '50' }),
    expect:
      /3 problems:\n {2}- --preprocess imagenet: .*\n {2}- --k 50: .*\n {2}- --out \S+: cannot write there/,
  },
  {
    name: '--no-worker without --temporal',
    args: (f) => runArgs(f, { 'no-worker': true }),
    expect: /--no-worker needs --temporal \(or TEMPORAL_ADDRESS\)/,
  },
  {
    name: 'a second `pure run` while lock.json names a live process',
    setup: async (f) => {
      await mkdir(join(f.state, 'embedded-temporal'), { recursive: true });
      await writeFile(
        join(f.state, 'embedded-temporal', 'lock.json'),
        // No serverPid: a lock judged stale gets its server killed, and that must never be this process.
        JSON.stringify({ pid: process.pid, startedAt: '2024-01-01T00:00:00.000Z' }),
      );
    },
    args: (f) => runArgs(f),
    expect: new RegExp(
      `another \`pure run\` \\(pid ${process.pid}, started 2024-01-01T00:00:00.000Z\\) is using \\S+embedded-temporal; .*own --state-dir`,
    ),
    check: (f) => {
      // The live holder's lock is left as it was.
      const lock = JSON.parse(readFileSync(join(f.state, 'embedded-temporal', 'lock.json'), 'utf8'));
      assert.equal(lock.pid, process.pid);
    },
  },
  {
    name: '`pure worker` against a dead Temporal server',
    args: () => ['worker', '--temporal', '127.0.0.1:1'],
    expect: /cannot reach Temporal at 127\.0\.0\.1:1 \(.*refused.*\); start a server/i,
  },
  {
    name: '--out s3:// with an endpoint that refuses connections',
    args: (f) => runArgs(f, { out: 's3://bucket/prefix' }),
    env: () => ({
      PURE_S3_ENDPOINT: 'http://127.0.0.1:1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
    }),
    expect: /--out s3:\/\/bucket\/prefix: cannot write there: .*; check the endpoint \(PURE_S3_ENDPOINT/,
    maxSeconds: S3_DEADLINE_S + 10,
  },
  {
    name: '--out s3:// with an endpoint that accepts connections and never answers',
    args: (f) => runArgs(f, { out: 's3://bucket/prefix' }),
    env: (f) => ({
      PURE_S3_ENDPOINT: `http://127.0.0.1:${f.silentPort}`,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
    }),
    expect: new RegExp(
      `--out s3://bucket/prefix: cannot write there: no answer within ${S3_DEADLINE_S} s \\(PUT s3://bucket/prefix/\\.pure-write-check-[0-9a-f]+\\); check the endpoint`,
    ),
    minSeconds: S3_DEADLINE_S - 1,
    maxSeconds: S3_DEADLINE_S + 15,
  },
  {
    name: '`pure --version` prints the package version',
    args: () => ['--version'],
    stream: 'stdout',
    code: 0,
    expect: new RegExp(
      `^${JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).version.replace(/\./g, '\\.')}\n$`,
    ),
  },
];

// ---------------------------------------------------------------------------------------------------

let assetsDir: string | undefined;
let assets: Assets;
let silent: Server;
const silentSockets = new Set<Socket>();

before(async () => {
  assert.ok(existsSync(CLI), `${CLI} is compiled`);
  assetsDir = await mkdtemp(join(tmpdir(), 'pure-bad-inputs-'));
  assets = await buildAssets(assetsDir);
  silent = createServer((socket) => {
    silentSockets.add(socket); // accepted, read, never answered
    socket.on('close', () => silentSockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  for (const socket of silentSockets) socket.destroy();
  await new Promise<void>((resolve) => silent?.close(() => resolve()));
  if (assetsDir) await rm(assetsDir, { recursive: true, force: true });
});

for (const row of setupCases) {
  test(`set-up error: ${row.name}`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pure-bad-input-'));
    const address = silent.address();
    const f: Fixture = {
      assets,
      dir,
      out: join(dir, 'out'),
      state: join(dir, 'state'),
      silentPort: typeof address === 'object' && address ? address.port : 0,
    };
    try {
      await row.setup?.(f);
      const outBefore = await filesUnder(f.out);
      const result = await pure(row.args(f), cleanEnv(row.env?.(f)));
      const output = row.stream === 'stdout' ? result.stdout : result.stderr;
      t.diagnostic(`exit ${result.code} after ${result.seconds.toFixed(1)} s: ${output.trim()}`);
      const shown = `exit ${result.code} after ${result.seconds.toFixed(1)} s\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
      assert.match(output, row.expect, shown);
      assert.equal(result.code, row.code ?? 1, shown);
      assert.doesNotMatch(result.stderr, /\[pure\] run /, `no server or sweep started\n${shown}`);
      assert.deepEqual(await filesUnder(f.out), outBefore, `nothing written to --out\n${shown}`);
      assert.ok(result.seconds <= (row.maxSeconds ?? 15), `ends within ${row.maxSeconds ?? 15} s\n${shown}`);
      if (row.minSeconds) assert.ok(result.seconds >= row.minSeconds, `waits ${row.minSeconds} s\n${shown}`);
      row.check?.(f, result);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// The per-image rows: one real sweep over the mixed folder, each odd image skipped or used

interface MixedSweep {
  result: CliResult;
  samples: Set<string>;
  skipped: Map<string, string>;
}

let mixedSweep: Promise<MixedSweep> | undefined;

/** Runs the sweep once, for all image rows, and reads its samples and skipped tables. */
function sweepMixedFolder(): Promise<MixedSweep> {
  mixedSweep ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pure-bad-images-'));
    try {
      const f = { assets, dir, out: join(dir, 'out'), state: join(dir, 'state'), silentPort: 0 };
      const args = runArgs(f, {
        data: assets.mixed,
        limit: undefined,
        until: 'references',
        'shard-size': '1000',
      });
      const result = await pure(args, cleanEnv(), 240_000);
      assert.equal(result.code, 0, `the sweep exits 0\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
      const runs = await readdir(f.out);
      assert.equal(runs.length, 1);
      const root = join(f.out, runs[0]!);
      const db = await openDuckDB();
      const rows = async (sql: string) => (await db.runAndReadAll(sql)).getRows();
      const samples = await rows(`SELECT sample_id FROM read_parquet('${root}/samples/*.parquet')`);
      const skipped = await rows(
        `SELECT sample_id, stage, error FROM read_parquet('${root}/skipped/*/*.parquet', hive_partitioning = false)`,
      );
      db.closeSync();
      return {
        result,
        samples: new Set(samples.map((r) => String(r[0]))),
        skipped: new Map(skipped.map((r) => [String(r[0]), `${r[1]}: ${r[2]}`])),
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return mixedSweep;
}

test('per-image: the sweep over good and odd images exits 0 and counts the skipped ones', async () => {
  const { result, samples, skipped } = await sweepMixedFolder();
  const broken = imageCases.filter((c) => c.skipped).length;
  assert.equal(samples.size, GOOD_IMAGES + imageCases.length);
  assert.equal(skipped.size, broken, [...skipped].join('\n'));
  assert.match(
    result.stdout,
    new RegExp(`Done: ${GOOD_IMAGES + imageCases.length} images, 3 layers, ${broken} images skipped`),
  );
  for (const id of samples) {
    if (!id.startsWith('odd/')) assert.ok(!skipped.has(id), `good image ${id} is used`);
  }
});

for (const image of imageCases) {
  test(`per-image: ${image.name} is ${image.skipped ? 'skipped with a reason' : 'used'}`, async (t) => {
    const { samples, skipped } = await sweepMixedFolder();
    t.diagnostic(`${image.file}: ${skipped.get(image.file) ?? 'used'}`);
    assert.ok(samples.has(image.file), `${image.file} is in the samples table`);
    if (image.skipped) {
      assert.match(skipped.get(image.file) ?? '(not skipped)', image.skipped);
      assert.match(skipped.get(image.file)!, /^references: /);
    } else {
      assert.equal(skipped.get(image.file), undefined, `${image.file} is not skipped`);
    }
  });
}
