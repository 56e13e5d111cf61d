/**
 * Preflight (docs/design.md, "Preflight"): every set-up mistake found before a sweep starts, in seconds,
 * each as one message naming the option, its value and what to do. `pure run` calls `preflightSweep`
 * before it starts a server; `prepareSweep`, the first activity, repeats the checks a distributed run
 * can only make where the workers are (the dataset and output root as the workers see them).
 */
import { randomBytes } from 'node:crypto';
import { type Dataset, openDataset } from '../adapters/datasets/dataset.js';
import { prepareModel } from '../adapters/onnxruntime/prepare.js';
import { openStore, StorageError } from '../adapters/storage/index.js';
import { buildCircuitModel } from '../compute/attribution/circuit.js';
import { buildHeatmapModel } from '../compute/attribution/heatmap.js';
import type { PreparedModel } from '../compute/attribution/prepared.js';
import { InputError } from '../compute/errors.js';
import { type TokenPositions, tokensOption } from '../compute/onnx/feature-layout.js';
import { type ModelInput, modelInput } from '../compute/onnx/image-model.js';
import { decodeModel, encodeModel, type ModelProto } from '../compute/onnx/model.js';
import { evenlySpaced, runsStage, type SweepConfig } from '../compute/run/config.js';
import { checkFiniteWeights, checkLayerOrder, checkPreprocessFits } from '../compute/run/model-checks.js';
import type { SampleRow } from '../compute/tables/schemas.js';
import { CROP_COMPOSITE } from './crops.js';
import { decodeSamples } from './decode.js';

/** Images tried, spread over the dataset, before saying that none decodes. */
const DECODE_TRIES = 8;
/** A store that does not answer within this is reported as unreachable (its client would retry for longer). */
const STORE_DEADLINE_MS = 20_000;

/** The ONNX model in `bytes`, or an error that says the file is not one. */
export function decodeModelOption(bytes: Uint8Array, uri: string, option: ModelOption = MODEL): ModelProto {
  if (bytes.length === 0) {
    // Protobuf decodes no bytes as an empty message: "has no graph" would blame the export, not the copy.
    throw new InputError(
      option.kind,
      `${option.flag} ${uri}: the file is empty (0 bytes); pass an .onnx file (PyTorch: torch.onnx.export)`,
    );
  }
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (error) {
    throw new InputError(
      option.kind,
      `${option.flag} ${uri}: not a valid ONNX model (${(error as Error).message}); pass an .onnx file ` +
        '(PyTorch: torch.onnx.export)',
    );
  }
  if (!model.graph || (model.graph.node ?? []).length === 0) {
    throw new InputError(
      option.kind,
      `${option.flag} ${uri}: not a valid ONNX model (it has no graph nodes)`,
    );
  }
  return model;
}

/** Which option a model file came from, for messages: the model explained, or the evaluator's encoder. */
export interface ModelOption {
  readonly flag: string;
  readonly kind: string;
}
export const MODEL: ModelOption = { flag: '--model', kind: 'InvalidModel' };
export const EVALUATOR: ModelOption = { flag: '--evaluator', kind: 'InvalidEvaluator' };

/** The model's one image input, or an error that says what kind of model pure explains. */
export function modelInputOption(model: ModelProto, uri: string, option: ModelOption = MODEL): ModelInput {
  try {
    return modelInput(model);
  } catch (error) {
    throw new InputError(
      option.kind,
      `${option.flag} ${uri}: ${(error as Error).message}; pure needs image models with one NCHW float input`,
    );
  }
}

/** What the model's graph says about the options: input, preprocessing, layers, weights, attribution. */
export async function checkModel(
  model: ModelProto,
  config: SweepConfig,
  preprocessOption: string | undefined,
): Promise<void> {
  checkPreprocessFits(modelInputOption(model, config.modelUri), config.preprocess, preprocessOption);
  checkLayerOrder(model, config.layers);
  checkFiniteWeights(model);
  if (!runsStage(config, 'virtual-neurons') || config.layers.length < 2) return;
  // prepareModel rewrites the graph it is given: it gets a copy. The circuits of every adjacent pair, built as the circuits stage builds them: an op without a
  // backward rule is named here instead of failing the stage after the references are done.
  const prepared = await prepareModel(decodeModel(encodeModel(model)));
  for (let i = 1; i < config.layers.length; i++) {
    try {
      buildCircuitModel(prepared, config.layers[i - 1]!, config.layers[i]!, tokensOption(config.tokens));
    } catch (error) {
      throw new InputError(
        'UnsupportedModel',
        `--layers ${config.layers[i - 1]} -> ${config.layers[i]}: the circuit between them cannot be built: ` +
          `${(error as Error).message}. Pick other layers (\`pure layers <model>\`) or --until references`,
      );
    }
  }
  if (runsStage(config, 'crops'))
    checkCropHeatmaps(prepared, config.layers.slice(1), tokensOption(config.tokens));
}

/** The crops' heatmap (EpsilonPlusFlat, image <- layer) of every explained layer builds. */
function checkCropHeatmaps(
  prepared: PreparedModel,
  layers: readonly string[],
  tokens: { readonly tokens?: TokenPositions },
): void {
  for (const layer of layers) {
    try {
      buildHeatmapModel(prepared, layer, { composite: CROP_COMPOSITE, region: 'argmax', ...tokens });
    } catch (error) {
      throw new InputError(
        'UnsupportedModel',
        `--layers ${layer}: the crops' heatmap (${CROP_COMPOSITE}) from the image to it cannot be built: ` +
          `${(error as Error).message}. Pick other layers, or --until virtual-neurons to stop before the crops`,
      );
    }
  }
}

/**
 * The images the run will use: at least one decodes to the model's input, and there are at least k of
 * them (with more references than images every neuron would get every image). Returns the manifest.
 */
export async function checkDataset(
  dataset: Dataset,
  config: Pick<SweepConfig, 'dataUri' | 'k' | 'limit' | 'preprocess'>,
  listed?: readonly SampleRow[],
  /** How messages name the dataset: the option or argument it came from. */
  flag = '--data',
): Promise<SampleRow[]> {
  let all: readonly SampleRow[];
  try {
    all = listed ?? (await dataset.listSamples());
  } catch (error) {
    throw new InputError('InvalidDataset', `${flag} ${config.dataUri}: ${(error as Error).message}`);
  }
  const manifest = evenlySpaced(all.length, config.limit).map((i) => all[i]!);
  if (config.k > manifest.length) {
    throw new InputError(
      'KTooLarge',
      `--k ${config.k}: more references per neuron than the ${manifest.length} images the run uses` +
        `${config.limit > 0 ? ` (--limit ${config.limit})` : ''}; pass --k ${manifest.length} or less ` +
        '(the paper uses 100 of 50,000+ images)',
    );
  }
  const tries = evenlySpaced(manifest.length, DECODE_TRIES).map((i) => manifest[i]!);
  const side = config.preprocess.cropSize;
  const { usable, skipped } = await decodeSamples(
    dataset,
    tries,
    config.preprocess,
    'preflight',
    3 * side * side,
  );
  if (usable.length === 0) {
    throw new InputError(
      'NoDecodableImage',
      `${flag} ${config.dataUri}: none of ${tries.length} images tried (spread over the dataset) can be used: ` +
        `${skipped
          .slice(0, 3)
          .map((s) => `${s.sampleId}: ${s.error}`)
          .join('; ')}. Point ${flag} at a folder or s3:// prefix of JPEG/PNG/WebP images`,
    );
  }
  return manifest;
}

/** Runs `work` or fails after `ms`: a silent endpoint must not stall a check that should take a second. */
async function withDeadline<T>(ms: number, what: string, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s (${what})`)), ms);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why a local folder cannot be written, in words, from the error code of the first failing call; undefined for other errors. */
function localWriteProblem(error: unknown): string | undefined {
  const code =
    (error as { cause?: { code?: string }; code?: string }).cause?.code ?? (error as { code?: string }).code;
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'it (or a folder above it) is a file, not a folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'the file system is read-only';
  if (code === 'ENOSPC') return 'the disk is full';
  return undefined;
}

/**
 * The output root takes a write (and a delete of it): a file in place of a folder, a read-only disk,
 * wrong S3 credentials or a missing bucket are found now, not after the first stage's retries. The
 * probe object is deleted again; nothing a later run reads is written.
 */
export async function checkOutputWritable(
  outUri: string,
  /**
   * Inside an activity, a transient failure (timeout, refused connection, 5xx) must stay retryable so
   * the retry window rides it out; only permanent ones (denied, no bucket, a file in the way) are
   * input errors there. The client reports every failure: the user is there to fix it.
   */
  options: { transientIsFatal: boolean } = { transientIsFatal: true },
): Promise<void> {
  const store = openStore(outUri);
  const key = `.pure-write-check-${randomBytes(6).toString('hex')}`;
  try {
    await withDeadline(STORE_DEADLINE_MS, `PUT ${store.uri}/${key}`, async () => {
      await store.put(key, new Uint8Array([1]));
      await store.delete(key);
    });
  } catch (error) {
    const s3 = outUri.startsWith('s3://');
    const localProblem = s3 ? undefined : localWriteProblem(error);
    const permanent = (error instanceof StorageError && error.permanent) || localProblem !== undefined;
    if (!options.transientIsFatal && !permanent) throw error;
    throw new InputError(
      'OutputNotWritable',
      `--out ${outUri}: cannot write there: ${localProblem ?? (error as Error).message}; ` +
        (s3
          ? 'check the endpoint (PURE_S3_ENDPOINT / AWS_ENDPOINT_URL), the credentials (AWS_ACCESS_KEY_ID, ...) and that the bucket exists'
          : 'pass a folder you can write (it is created if missing)'),
    );
  }
}

export interface PreflightSummary {
  images: number;
}

/**
 * All checks of a run's options, before any server or workflow starts. Independent problems are all
 * reported at once (one line each), so a user fixes them in one go.
 */
export async function preflightSweep(
  config: SweepConfig,
  model: ModelProto,
  preprocessOption: string | undefined,
): Promise<PreflightSummary> {
  const results = await Promise.allSettled([
    checkModel(model, config, preprocessOption),
    checkDataset(openDataset(config.dataUri), config),
    checkOutputWritable(config.outUri),
  ]);
  const problems = results.flatMap((r) =>
    r.status === 'rejected' ? [r.reason instanceof Error ? r.reason : new Error(String(r.reason))] : [],
  );
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) {
    throw new InputError(
      'Preflight',
      `${problems.length} problems:\n  - ${problems.map((p) => p.message).join('\n  - ')}`,
    );
  }
  const manifest = (results[1] as PromiseFulfilledResult<SampleRow[]>).value;
  return { images: manifest.length };
}
