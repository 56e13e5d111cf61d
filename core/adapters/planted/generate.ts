/**
 * `pure planted --out DIR`: writes the planted model, its images and the truth to a folder, so the
 * whole pipeline can be demonstrated and tested with nothing from outside the repository.
 */
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { FEATURES } from '../../compute/planted/features.js';
import { type PlantedImageSpec, renderPlantedImage } from '../../compute/planted/images.js';
import { assertPlantedSize, buildPlantedModel } from '../../compute/planted/model.js';
import {
  PLANTED_FILES,
  type PlantedParameters,
  type PlantedTruth,
  plantedTruth,
} from '../../compute/planted/truth.js';

export interface PlantedOptions {
  /** Folder to write model.onnx, images/ and truth.json into (created if missing). */
  readonly outDir: string;
  /** Any integer 0..2^32-1 (default 0). */
  readonly seed?: number;
  /** Images of each of the 8 features (default 128, so the paper's k = 100 references fit). */
  readonly imagesPerFeature?: number;
  /** Image side in pixels, even, 16..256 (default 32). */
  readonly size?: number;
  /** Replace the model, images and truth of an earlier run in outDir (default: refuse). */
  readonly overwrite?: boolean;
}

export const PLANTED_DEFAULTS = { seed: 0, imagesPerFeature: 128, size: 32 } as const;
/** Keeps truth.json (one entry per image) to a size any JSON reader takes (about 16 MB at the limit). */
const MAX_IMAGES_PER_FEATURE = 10_000;

/** Checks the options and fills in defaults; throws an Error that names the option at fault. */
export function resolvePlantedParameters(options: Omit<PlantedOptions, 'outDir'>): PlantedParameters {
  const seed = options.seed ?? PLANTED_DEFAULTS.seed;
  const imagesPerFeature = options.imagesPerFeature ?? PLANTED_DEFAULTS.imagesPerFeature;
  const size = options.size ?? PLANTED_DEFAULTS.size;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`planted: seed must be an integer from 0 to 4294967295, got ${seed}`);
  }
  if (
    !Number.isInteger(imagesPerFeature) ||
    imagesPerFeature < 1 ||
    imagesPerFeature > MAX_IMAGES_PER_FEATURE
  ) {
    throw new Error(
      `planted: imagesPerFeature must be an integer from 1 to ${MAX_IMAGES_PER_FEATURE}, got ${imagesPerFeature}`,
    );
  }
  assertPlantedSize(size);
  return { seed, imagesPerFeature, size };
}

/** The PNG bytes of one planted image (lossless, so preprocessing reads back exactly the rendered pixels). */
export function encodePlantedImage(spec: PlantedImageSpec, size: number): Promise<Buffer> {
  const pixels = renderPlantedImage(spec, size);
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png({ compressionLevel: 9, adaptiveFiltering: false })
    .toBuffer();
}

async function existingOutputs(outDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(outDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`planted: cannot read output folder '${outDir}': ${(e as Error).message}`);
  }
  const ours = new Set<string>(Object.values(PLANTED_FILES));
  return entries.filter((e) => ours.has(e)).sort();
}

/** Files are written under a temporary name and renamed, so an interrupted run leaves no half file. */
async function writeAtomically(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}

/** Number of PNG encodes in flight: sharp runs them on libuv's thread pool. */
const ENCODE_WINDOW = 8;

/**
 * Writes `outDir/model.onnx`, `outDir/images/<feature>/<nnnn>.png` and `outDir/truth.json` (written
 * last: its presence means the rest is complete) and returns the truth.
 */
export async function generatePlanted(options: PlantedOptions): Promise<PlantedTruth> {
  if (typeof options.outDir !== 'string' || options.outDir.trim() === '') {
    throw new Error('planted: outDir must be a non-empty path');
  }
  const parameters = resolvePlantedParameters(options);
  const { outDir } = options;
  const existing = await existingOutputs(outDir);
  if (existing.length > 0) {
    if (!options.overwrite) {
      throw new Error(
        `planted: '${outDir}' already holds ${existing.join(', ')}; choose another folder or pass overwrite ` +
          '(which deletes exactly those)',
      );
    }
    // truth.json first: a crash mid-way must not leave a truth that describes missing images.
    for (const name of [PLANTED_FILES.truth, ...existing.filter((e) => e !== PLANTED_FILES.truth)]) {
      await rm(join(outDir, name), { recursive: true, force: true });
    }
  }
  const truth = plantedTruth(parameters);
  const imagesDir = join(outDir, PLANTED_FILES.images);
  for (const feature of FEATURES) await mkdir(join(imagesDir, feature.name), { recursive: true });
  await writeAtomically(join(outDir, PLANTED_FILES.model), buildPlantedModel(parameters.size));
  for (let start = 0; start < truth.images.length; start += ENCODE_WINDOW) {
    await Promise.all(
      truth.images.slice(start, start + ENCODE_WINDOW).map(async (spec) => {
        await writeFile(join(imagesDir, spec.sampleId), await encodePlantedImage(spec, parameters.size));
      }),
    );
  }
  await writeAtomically(join(outDir, PLANTED_FILES.truth), `${JSON.stringify(truth, null, 2)}\n`);
  return truth;
}
