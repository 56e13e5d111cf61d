/**
 * The evaluation's image encoder (docs/design.md step 5): any ONNX model with one image input, run
 * forward only; its chosen output pooled to one embedding per image (core/compute/evaluation/pooling.ts).
 */

import { type Embeddings, poolEmbeddings } from '../../compute/evaluation/pooling.js';
import type { ModelInput } from '../../compute/onnx/image-model.js';
import { decodeModel } from '../../compute/onnx/model.js';
import { openDecodedActivationModel } from './activations.js';
import type { SessionSettings } from './session.js';

export interface ImageEncoder {
  readonly input: ModelInput;
  /** The tensor the embeddings come from. */
  readonly output: string;
  /** Embeds `n` preprocessed images (n x 3 x S x S, contiguous). */
  embed(images: Float32Array, n: number): Promise<Embeddings>;
  release(): Promise<void>;
}

/** Opens an encoder; `output` defaults to the model's first output. */
export async function openImageEncoder(
  modelBytes: Uint8Array,
  output: string | undefined,
  settings: SessionSettings = {},
): Promise<ImageEncoder> {
  // Decoded once: an encoder (CLIP ViT-B/32: 350 MB) is read for its first output and for the session.
  const decoded = decodeModel(modelBytes);
  const chosen = output ?? decoded.graph?.output?.[0]?.name;
  if (!chosen) throw new Error('the encoder has no outputs');
  const model = await openDecodedActivationModel(decoded, [chosen], settings);
  return {
    input: model.input,
    output: chosen,
    async embed(images, n) {
      const result = await model.run(images, n);
      return poolEmbeddings(result.get(chosen)!);
    },
    release: () => model.release(),
  };
}
