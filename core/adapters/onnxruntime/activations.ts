import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';

import { withSymbolicBatch } from '../../compute/onnx/batch.js';
import { type InferenceSettings, sessionSettingsFor } from './session.js';

const { onnx } = onnxProto;

/** Input geometry of an image model: NCHW with a dynamic (or fixed) batch axis. */
export interface ModelInput {
  name: string;
  channels: number;
  height: number;
  width: number;
  /** Fixed batch size if the model has one, otherwise null (dynamic `N`). */
  fixedBatch: number | null;
}

/** An activation as onnxruntime returns it: float32, row-major, batch first. */
export interface Activation {
  dims: readonly number[];
  data: Float32Array;
}

export interface ActivationModel {
  readonly input: ModelInput;
  readonly layers: readonly string[];
  /** Runs a batch of `n` preprocessed images (n x C x H x W, contiguous) and returns every requested layer. */
  run(images: Float32Array, n: number): Promise<Map<string, Activation>>;
  release(): Promise<void>;
}

export interface ActivationModelOptions extends InferenceSettings {
  /** A run that takes longer fails with a clear error instead of hanging the worker (default 10 min). */
  runTimeoutMs?: number;
}

const ELEM_FLOAT = 1;

function dimValue(dim: onnxProto.onnx.TensorShapeProto.IDimension | undefined): number | null {
  if (!dim || dim.dimValue === undefined || dim.dimValue === null) return null;
  const v = Number(dim.dimValue);
  return v > 0 ? v : null;
}

export function modelInput(model: onnxProto.onnx.IModelProto): ModelInput {
  const graph = model.graph;
  if (!graph) throw new Error('ONNX model has no graph');
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name));
  if (inputs.length !== 1) {
    throw new Error(
      `expected an image model with one input, found ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`,
    );
  }
  const input = inputs[0]!;
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const [n, c, h, w] = dims.map(dimValue);
  if (dims.length !== 4 || !c || !h || !w) {
    throw new Error(
      `model input ${input.name} must be NCHW with known C, H, W; got [${dims
        .map((d) => dimValue(d) ?? d.dimParam ?? '?')
        .join(', ')}]`,
    );
  }
  return { name: input.name ?? 'input', channels: c, height: h, width: w, fixedBatch: n ?? null };
}

/** Every tensor a node produces: the names `--layers` may use. */
export function producedTensors(model: onnxProto.onnx.IModelProto): string[] {
  return (model.graph?.node ?? []).flatMap((node) => node.output ?? []).filter((name) => name.length > 0);
}

/** Fails, listing valid names, if a requested layer is not a tensor the model computes. */
export function assertKnownTensors(model: onnxProto.onnx.IModelProto, tensors: readonly string[]): void {
  const produced = new Set(producedTensors(model));
  const unknown = tensors.filter((t) => !produced.has(t));
  if (unknown.length > 0) {
    throw new Error(
      `unknown layer ${unknown.map((u) => JSON.stringify(u)).join(', ')}; run \`pure layers <model>\` for candidates. ` +
        `Valid tensor names include: ${[...produced].slice(0, 40).join(', ')}${produced.size > 40 ? ', ...' : ''}`,
    );
  }
}

/**
 * Returns a copy of the model whose graph also outputs the given intermediate tensors.
 * Unknown names fail with the list of valid ones, so a typo never costs a sweep.
 */
export function withExtraOutputs(model: onnxProto.onnx.IModelProto, tensors: readonly string[]): Uint8Array {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const graph = copy.graph!;
  assertKnownTensors(copy, tensors);
  graph.output ??= [];
  const existing = new Set(graph.output.map((o) => o.name));
  for (const name of tensors) {
    if (existing.has(name)) continue;
    graph.output.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: ELEM_FLOAT } } }));
  }
  return onnx.ModelProto.encode(copy).finish();
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${ms / 1000} s; the worker should be restarted`)),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export async function openActivationModel(
  modelBytes: Uint8Array,
  layers: readonly string[],
  options: ActivationModelOptions = {},
): Promise<ActivationModel> {
  const model = withSymbolicBatch(onnx.ModelProto.decode(modelBytes));
  const input = modelInput(model);
  const settings = sessionSettingsFor(options);
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionProviders: [...(settings.executionProviders ?? ['cpu'])],
  };
  if (settings.intraOpNumThreads) sessionOptions.intraOpNumThreads = settings.intraOpNumThreads;
  const session = await ort.InferenceSession.create(withExtraOutputs(model, layers), sessionOptions);
  const runTimeoutMs = options.runTimeoutMs ?? 10 * 60_000;
  return {
    input,
    layers,
    async run(images, n) {
      const perImage = input.channels * input.height * input.width;
      if (images.length !== n * perImage) {
        throw new Error(`batch of ${n} images needs ${n * perImage} values, got ${images.length}`);
      }
      const feed = new ort.Tensor('float32', images, [n, input.channels, input.height, input.width]);
      const results = await withTimeout(
        session.run({ [input.name]: feed }, [...layers]),
        runTimeoutMs,
        `onnxruntime forward of ${n} images`,
      );
      const out = new Map<string, Activation>();
      for (const layer of layers) {
        const t = results[layer];
        if (t?.type !== 'float32')
          throw new Error(`layer ${layer}: expected a float32 output, got ${t?.type}`);
        out.set(layer, { dims: t.dims, data: t.data as Float32Array });
      }
      return out;
    },
    release: () => session.release(),
  };
}
