/**
 * Dev-only cross-check of core/compute/visualisation/embedding-crop.ts against torchvision's
 * gaussian_blur and the PURE authors' box arithmetic run on torch tensors (not part of CI: it needs
 * Debian's python3-torch and python3-torchvision, run with /usr/bin/python3).
 *
 *   npx tsc -p tsconfig.json && node dist/test/dev/embedding-crop-crosscheck.js
 *
 * ~200 seeded heat planes (Gaussian blobs, blocks, lines, sparse points, noise, zero, constant, tiny
 * values; 3x3 to 224x224, square and not; some with black pixels or other kernels and thresholds) go
 * to test/dev/embedding-crop-crosscheck.py, which computes each box with float64 and with float32
 * tensors. Passes when every box and fallback equals torch's float64 one and heatMax, heatInside agree to
 * 1e-6 relative (torchvision 0.14 builds its kernel in float32 even for float64 images, so heatMax
 * differs by ~2e-7 there). The float32 agreement (the authors' dtype) is reported: there a value within float32
 * rounding of a threshold may flip a row. Exit status 1 on failure. PURE_TORCH_PYTHON overrides the
 * interpreter, PURE_CROSSCHECK_SEED the seed of the planes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type EmbeddingCrop,
  type EmbeddingCropOptions,
  embeddingCrop,
  type PixelBox,
} from '../../core/compute/visualisation/embedding-crop.js';
import { projectRoot } from '../support/paths.js';
import { seededRandom } from '../support/random.js';

interface Case {
  readonly name: string;
  readonly height: number;
  readonly width: number;
  readonly heat: Float64Array;
  /** The image's value per pixel (all channels); null: 0.5 everywhere. */
  readonly pixels: Float64Array | null;
  readonly options: Required<EmbeddingCropOptions>;
}

interface Reply {
  readonly torch: string;
  readonly torchvision: string;
  readonly float64: EmbeddingCrop[];
  readonly float32: EmbeddingCrop[];
}

const random = seededRandom(Number(process.env.PURE_CROSSCHECK_SEED ?? 20240607));
const uniform = (a: number, b: number) => a + (b - a) * random();
const integer = (n: number) => Math.floor(random() * n);

/** `count` Gaussian blobs of random sign, width and place (edges and corners included). */
function blobs(h: number, w: number, count: number): Float64Array {
  const plane = new Float64Array(h * w);
  for (let b = 0; b < count; b++) {
    const [cy, cx] = [uniform(-2, h + 1), uniform(-2, w + 1)];
    const sigma = uniform(0.3, Math.max(1, Math.min(h, w) / 5));
    const amplitude = (random() < 0.25 ? -1 : 1) * uniform(0.1, 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        plane[y * w + x]! += amplitude * Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * sigma * sigma));
      }
    }
  }
  return plane;
}

/** A rectangle of heat: a block, or a line one pixel high or wide. */
function rectangle(h: number, w: number, kind: 'block' | 'row' | 'column'): Float64Array {
  const plane = new Float64Array(h * w);
  const [y0, x0] = [integer(h), integer(w)];
  const y1 = kind === 'row' ? y0 + 1 : y0 + 1 + integer(h - y0);
  const x1 = kind === 'column' ? x0 + 1 : x0 + 1 + integer(w - x0);
  const value = uniform(-2, 2);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) plane[y * w + x] = value;
  return plane;
}

function points(h: number, w: number, count: number): Float64Array {
  const plane = new Float64Array(h * w);
  for (let i = 0; i < count; i++) plane[integer(h * w)] = uniform(-1, 1);
  return plane;
}

const HEATS: Record<string, (h: number, w: number) => Float64Array> = {
  blob: (h, w) => blobs(h, w, 1),
  blobs: (h, w) => blobs(h, w, 2 + integer(3)),
  'blob+noise': (h, w) => blobs(h, w, 1).map((v) => v + uniform(-0.01, 0.01)),
  block: (h, w) => rectangle(h, w, 'block'),
  row: (h, w) => rectangle(h, w, 'row'),
  column: (h, w) => rectangle(h, w, 'column'),
  point: (h, w) => points(h, w, 1),
  points: (h, w) => points(h, w, 2 + integer(6)),
  noise: (h, w) => Float64Array.from({ length: h * w }, () => uniform(-1, 1)),
  tiny: (h, w) => blobs(h, w, 2).map((v) => v * 1e-20),
  zero: (h, w) => new Float64Array(h * w),
  constant: (h, w) => new Float64Array(h * w).fill(0.7),
};

/** Black where the heat's bounding box, grown by 3, lies; `fill` elsewhere. */
function blackAroundHeat(heat: Float64Array, h: number, w: number, fill: number): Float64Array {
  const pixels = new Float64Array(h * w).fill(fill);
  let [y0, y1, x0, x1] = [h, -1, w, -1];
  heat.forEach((v, i) => {
    if (v === 0) return;
    [y0, y1] = [Math.min(y0, Math.floor(i / w)), Math.max(y1, Math.floor(i / w))];
    [x0, x1] = [Math.min(x0, i % w), Math.max(x1, i % w)];
  });
  for (let y = Math.max(0, y0 - 3); y <= Math.min(h - 1, y1 + 3); y++) {
    for (let x = Math.max(0, x0 - 3); x <= Math.min(w - 1, x1 + 3); x++) pixels[y * w + x] = 0;
  }
  return pixels;
}

const PIXELS: Record<string, (heat: Float64Array, h: number, w: number) => Float64Array | null> = {
  grey: () => null,
  random: (_, h, w) => Float64Array.from({ length: h * w }, () => random()),
  black: (_, h, w) => new Float64Array(h * w),
  'one lit pixel': (_, h, w) => {
    const pixels = new Float64Array(h * w);
    pixels[integer(h * w)] = 1 / 255;
    return pixels;
  },
  'black around heat': (heat, h, w) => blackAroundHeat(heat, h, w, 0.5),
};

function options(h: number, w: number): Required<EmbeddingCropOptions> {
  const defaults = { kernelSize: 5, cropThreshold: 0.02, visibleThreshold: 0.01 };
  if (random() < 0.75) return defaults;
  // torch's reflect padding needs (k - 1) / 2 < min(h, w).
  const kernels = [1, 3, 5, 7, 9, 19].filter((k) => (k - 1) / 2 < Math.min(h, w));
  return {
    kernelSize: kernels[integer(kernels.length)]!,
    cropThreshold: random() < 0.5 ? 0.9 : uniform(0, 0.5),
    visibleThreshold: random() < 0.5 ? 0.95 : uniform(0, 0.5),
  };
}

function cases(): Case[] {
  const sizes: [number, number, number][] = [
    [32, 32, 60],
    [224, 224, 40],
    [20, 30, 40],
    [30, 20, 20],
    [64, 48, 10],
    [7, 9, 10],
    [5, 5, 10],
    [3, 4, 10],
  ];
  const heatKinds = Object.keys(HEATS);
  const pixelKinds = Object.keys(PIXELS);
  const out: Case[] = [];
  for (const [height, width, count] of sizes) {
    for (let i = 0; i < count; i++) {
      const heatKind = heatKinds[out.length % heatKinds.length]!;
      const heat = HEATS[heatKind]!(height, width);
      const pixelKind = random() < 0.6 ? 'grey' : pixelKinds[1 + integer(pixelKinds.length - 1)]!;
      const pixels = PIXELS[pixelKind]!(heat, height, width);
      const name = `${height}x${width} ${heatKind}, ${pixelKind}`;
      out.push({ name, height, width, heat, pixels, options: options(height, width) });
    }
  }
  return out;
}

function ours(c: Case): EmbeddingCrop {
  const sum = (box: PixelBox) => {
    if (c.pixels === null) return 0.5 * (box.x1 - box.x0) * (box.y1 - box.y0);
    let s = 0;
    for (let y = box.y0; y < box.y1; y++)
      for (let x = box.x0; x < box.x1; x++) s += c.pixels[y * c.width + x]!;
    return s;
  };
  return embeddingCrop(c.heat, c.height, c.width, sum, c.options);
}

const sameBox = (a: EmbeddingCrop, b: EmbeddingCrop) =>
  a.x0 === b.x0 && a.y0 === b.y0 && a.x1 === b.x1 && a.y1 === b.y1 && a.cropped === b.cropped;
const relative = (a: number, b: number) =>
  a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
const describe = (c: EmbeddingCrop) =>
  `${c.cropped ? 'crop' : 'whole'} x ${c.x0}:${c.x1} y ${c.y0}:${c.y1} max ${c.heatMax.toExponential(3)}`;

function main(): void {
  const python = process.env.PURE_TORCH_PYTHON ?? '/usr/bin/python3';
  const script = resolve(projectRoot, 'test', 'dev', 'embedding-crop-crosscheck.py');
  const all = cases();
  const directory = mkdtempSync(join(tmpdir(), 'pure-embedding-crop-'));
  let reply: Reply;
  try {
    const input = join(directory, 'in.json');
    const output = join(directory, 'out.json');
    const serial = all.map((c) => ({
      height: c.height,
      width: c.width,
      heat: Array.from(c.heat),
      pixels: c.pixels === null ? null : Array.from(c.pixels),
      ...c.options,
    }));
    writeFileSync(input, JSON.stringify({ cases: serial }));
    const child = spawnSync(python, [script, input, output], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (child.error !== undefined || child.status !== 0) {
      console.error(`torch run failed (${python}): ${child.error?.message ?? child.stderr}`);
      process.exitCode = 2;
      return;
    }
    reply = JSON.parse(readFileSync(output, 'utf8')) as Reply;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  report(all, reply);
}

/** Which of the authors' paths a plane took, to show the cases cover them. */
function quirkOf(c: Case, crop: EmbeddingCrop): string {
  if (!crop.cropped) {
    if (crop.heatMax === 0) return 'whole: no heat';
    return embeddingCrop(c.heat, c.height, c.width, undefined, c.options).cropped
      ? 'whole: black pixels'
      : 'whole: no visible heat in box';
  }
  if (crop.x0 === 0 && crop.y0 === 0 && crop.x1 === c.width - 1 && crop.y1 === c.height - 1) {
    return 'all but last row and column';
  }
  return crop.x1 - crop.x0 === crop.y1 - crop.y0 ? 'square' : 'not square';
}

function report(all: Case[], reply: Reply): void {
  console.log(`torch ${reply.torch}, torchvision ${reply.torchvision}; ${all.length} heat planes`);
  const quirks = new Map<string, number>();
  const tally = {
    identical: 0,
    cropped: 0,
    whole: 0,
    float32: 0,
    worstMax: 0,
    worstInside: 0,
    worstMax32: 0,
  };
  all.forEach((c, i) => {
    const mine = ours(c);
    const [theirs, theirs32] = [reply.float64[i]!, reply.float32[i]!];
    const maxError = relative(mine.heatMax, theirs.heatMax);
    const insideError = relative(mine.heatInside, theirs.heatInside);
    tally.worstMax = Math.max(tally.worstMax, maxError);
    tally.worstInside = Math.max(tally.worstInside, insideError);
    tally.worstMax32 = Math.max(tally.worstMax32, relative(mine.heatMax, theirs32.heatMax));
    if (sameBox(mine, theirs32)) tally.float32++;
    else
      console.log(`float32 differs: ${c.name}: ours ${describe(mine)}, torch float32 ${describe(theirs32)}`);
    const quirk = quirkOf(c, mine);
    quirks.set(quirk, (quirks.get(quirk) ?? 0) + 1);
    if (sameBox(mine, theirs) && maxError <= 1e-6 && insideError <= 1e-6) {
      tally.identical++;
      tally[mine.cropped ? 'cropped' : 'whole']++;
    } else {
      console.log(
        `FAIL ${c.name} ${JSON.stringify(c.options)}: ours ${describe(mine)}, torch ${describe(theirs)}`,
      );
    }
  });
  console.log(
    `float64: ${tally.identical} of ${all.length} identical (${tally.cropped} cropped, ${tally.whole} whole image);` +
      ` heatMax worst relative difference ${tally.worstMax.toExponential(1)}, heatInside ${tally.worstInside.toExponential(1)}`,
  );
  console.log(
    `float32 (the authors' dtype): ${tally.float32} of ${all.length} identical boxes;` +
      ` heatMax worst relative difference ${tally.worstMax32.toExponential(1)}`,
  );
  console.log(`cases by outcome: ${[...quirks].map(([quirk, n]) => `${quirk} ${n}`).join(', ')}`);
  const passed = tally.identical === all.length;
  console.log(passed ? 'cross-check passed' : `cross-check FAILED: ${all.length - tally.identical} planes`);
  if (!passed) process.exitCode = 1;
}

main();
