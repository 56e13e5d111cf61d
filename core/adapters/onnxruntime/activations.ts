/**
 * The references stage's model: the image model with its chosen layers as extra outputs, run on batches
 * of preprocessed images. Sessions, timeouts and tensors are the ones every onnxruntime use shares
 * (session.ts).
 */
import { withSymbolicBatch } from '../../compute/onnx/batch.js';
import { type ModelInput, modelInput, withExtraOutputs } from '../../compute/onnx/image-model.js';
import { decodeModel, type ModelProto } from '../../compute/onnx/model.js';
import { type Float32Tensor, tensor } from '../../compute/onnx/tensor.js';
import { createSession, fromOrt, runWithTimeout, type SessionSettings, toOrt } from './session.js';

export type { ModelInput } from '../../compute/onnx/image-model.js';

export interface ActivationModel {
  readonly input: ModelInput;
  readonly layers: readonly string[];
  /** Runs a batch of `n` preprocessed images (n x C x H x W, contiguous) and returns every requested layer. */
  run(images: Float32Array, n: number): Promise<Map<string, Float32Tensor>>;
  release(): Promise<void>;
}

export interface ActivationModelOptions extends SessionSettings {
  /** A run that takes longer fails with InferenceTimeoutError instead of hanging the worker (default 10 min). */
  readonly timeoutMs?: number;
}

export const DEFAULT_RUN_TIMEOUT_MS = 10 * 60_000;

export async function openActivationModel(
  modelBytes: Uint8Array,
  layers: readonly string[],
  options: ActivationModelOptions = {},
): Promise<ActivationModel> {
  return openDecodedActivationModel(decodeModel(modelBytes), layers, options);
}

/** The same for a model already read (callers that look into the graph first decode it once). */
export async function openDecodedActivationModel(
  decoded: ModelProto,
  layers: readonly string[],
  options: ActivationModelOptions = {},
): Promise<ActivationModel> {
  const model = withSymbolicBatch(decoded);
  const input = modelInput(model);
  const session = await createSession(withExtraOutputs(model, layers), options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  return {
    input,
    layers,
    async run(images, n) {
      const feed = tensor('float32', [n, input.channels, input.height, input.width], images);
      const results = await runWithTimeout(
        session,
        { [input.name]: toOrt(feed) },
        layers,
        `the forward of ${n} images`,
        timeoutMs,
      );
      const out = new Map<string, Float32Tensor>();
      for (const layer of layers) {
        const t = results[layer];
        if (t?.type !== 'float32')
          throw new Error(`layer ${layer}: expected a float32 output, got ${t?.type}`);
        out.set(layer, fromOrt(t) as Float32Tensor);
      }
      return out;
    },
    release: () => session.release(),
  };
}
