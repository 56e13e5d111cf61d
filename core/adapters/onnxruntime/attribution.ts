/**
 * The attribution API that activities call. A typical circuit job:
 *
 *   const engine = new AttributionEngine({ intraOpNumThreads: 4 });
 *   const acts = await lowerActivations(engine, cut, images);          // once per unique image
 *   const batch = { lower: selectRows(acts.lower, rows), side: ..., channels };
 *   const { vectors } = await circuitVectors(engine, cut, batch);       // [B, C'] row-major
 */

import { CHANNEL_INPUT } from '../../compute/attribution/circuit.js';
import {
  HEAT_OUTPUT,
  type HeatmapModelOptions,
  SEED_TOTAL_OUTPUT,
} from '../../compute/attribution/heatmap.js';
import { type LayerInfo, layersOf } from '../../compute/attribution/layers.js';
import { type TokenPositions, tokensOption } from '../../compute/onnx/feature-layout.js';
import type { ModelProto } from '../../compute/onnx/model.js';
import { concatRows, selectRows, sliceRows } from '../../compute/onnx/rows.js';
import { type Tensor, tensor } from '../../compute/onnx/tensor.js';
import { loadModel } from '../models/model-file.js';
import type { AttributionEngine } from './engine.js';
import { prepareModel } from './prepare.js';
import { fromOrt, type OrtSession, toOrt } from './session.js';

export type { HeatmapModelOptions, NeuronRegion } from '../../compute/attribution/heatmap.js';
export type { LayerInfo, LayerKind } from '../../compute/attribution/layers.js';
export { COMPOSITES, type CompositeName } from '../../compute/attribution/lrp.js';
export { BACKWARD_RULES, SUPPORTED_OPS } from '../../compute/attribution/rules.js';
export { selectRows } from '../../compute/onnx/rows.js';
export { AttributionEngine, type EngineOptions } from './engine.js';
export { InferenceTimeoutError } from './session.js';

/** Which two layers of which model: the circuit runs from `lower` (L') to `upper` (L). */
export interface CutSpec {
  readonly model: string;
  readonly lower: string;
  readonly upper: string;
  /** Which tokens of a token layer L seed the circuit (SweepConfig.tokens; default 'all'). */
  readonly tokens?: TokenPositions;
}

/** Candidate layers of a model (a file, or a model already read), block / Fire outputs first. */
export async function listLayers(
  model: string | ModelProto,
  engine?: AttributionEngine,
): Promise<LayerInfo[]> {
  if (typeof model === 'string' && engine) return layersOf(await engine.prepare(model));
  return layersOf(await prepareModel(typeof model === 'string' ? await loadModel(model) : model));
}

export interface LowerActivations {
  /** a_L' [B, C', H', W'] */
  readonly lower: Tensor;
  /** Side inputs of the cut by tensor name, [B, ...] each (empty for plain ResNet/SqueezeNet cuts). */
  readonly side: Readonly<Record<string, Tensor>>;
  /** a_L [B, C, H, W], when asked for (`upper: true`). */
  readonly upper?: Tensor;
}

/**
 * Forward preprocessed images [B, 3, H, W] to a_L' and the cut's side inputs, and with `upper` also to
 * a_L in the same run (which neurons are silent on an image, before any circuit is computed).
 */
export async function lowerActivations(
  engine: AttributionEngine,
  cut: CutSpec,
  images: Tensor,
  options: { readonly upper?: boolean } = {},
): Promise<LowerActivations> {
  const { circuit } = await engine.circuit(cut.model, cut.lower, cut.upper, tokensOption(cut.tokens));
  const outputs = [cut.lower, ...circuit.cut.sideInputs, ...(options.upper ? [cut.upper] : [])];
  const forward = await engine.forward(cut.model, outputs);
  const joined = await runInChunks(
    engine,
    forward.session,
    images.dims[0] ?? 0,
    (start, end) => ({ [forward.inputName]: sliceRows(images, start, end) }),
    outputs,
    `the forward of '${cut.model}' to ${outputs.join(', ')}`,
  );
  const side: Record<string, Tensor> = {};
  circuit.cut.sideInputs.forEach((name, k) => {
    side[name] = joined[k + 1]!;
  });
  return { lower: joined[0]!, side, ...(options.upper ? { upper: joined.at(-1)! } : {}) };
}

export interface CircuitBatch {
  /** a_L' rows: one per image (with `images`), or one per (image, channel) pair (without). */
  readonly lower: Tensor;
  readonly side?: Readonly<Record<string, Tensor>>;
  /** The upper channel c of each row. */
  readonly channels: readonly number[];
  /**
   * The row of `lower` (and the side inputs) each row reads; default: row i reads row i. Rows that
   * share an image share its L' -> L forward (docs/design.md, "Attribution on ONNX").
   */
  readonly images?: readonly number[];
}

export interface CircuitVectors {
  /** R, [rows, lowerChannels] row-major; each row sums to 1 in absolute value (or is all zero). */
  readonly vectors: Float32Array;
  readonly rows: number;
  readonly lowerChannels: number;
  /** a_L for the rows. */
  readonly upper: Tensor;
  /** Unreduced gradient x activation maps [rows, C', H', W'] when asked for. */
  readonly maps?: Tensor;
}

/** Circuit vectors (docs/design.md step 2) for a batch of (a_L' row, upper channel) pairs. */
export async function circuitVectors(
  engine: AttributionEngine,
  cut: CutSpec,
  batch: CircuitBatch,
  options: { readonly maps?: boolean } = {},
): Promise<CircuitVectors> {
  const { circuit, session } = await engine.circuit(cut.model, cut.lower, cut.upper, {
    ...tokensOption(cut.tokens),
    maps: options.maps ?? false,
  });
  const rows = batch.channels.length;
  const images = batch.images ?? Array.from({ length: rows }, (_, i) => i);
  checkCircuitBatch(batch, images, circuit);
  const outputs = [
    circuit.outputs.upper,
    circuit.outputs.relevance,
    ...(circuit.outputs.maps ? [circuit.outputs.maps] : []),
  ];
  const joined = await runInChunks(
    engine,
    session,
    rows,
    (start, end) => {
      // The chunk's images, each once, and every row's index into them.
      const used = [...new Set(images.slice(start, end))];
      const position = new Map(used.map((image, k) => [image, k]));
      return {
        [circuit.inputs.lower]: selectRows(batch.lower, used),
        ...Object.fromEntries(
          circuit.cut.sideInputs.map((name, k) => [
            circuit.inputs.side[k]!,
            selectRows(batch.side![name]!, used),
          ]),
        ),
        [circuit.inputs.image]: indexColumn(images.slice(start, end).map((image) => position.get(image)!)),
        [circuit.inputs.channel]: indexColumn(batch.channels.slice(start, end)),
      };
    },
    outputs,
    `the circuit ${cut.lower} -> ${cut.upper} of '${cut.model}'`,
  );
  return {
    vectors: joined[1]!.data as Float32Array,
    rows,
    lowerChannels: circuit.lowerChannels,
    upper: joined[0]!,
    ...(circuit.outputs.maps ? { maps: joined[2]! } : {}),
  };
}

function checkCircuitBatch(
  batch: CircuitBatch,
  images: readonly number[],
  circuit: { readonly upperChannels: number; readonly cut: { readonly sideInputs: readonly string[] } },
): void {
  const lowerRows = batch.lower.dims[0] ?? 0;
  if (batch.lower.dtype !== 'float32') {
    throw new Error(`circuitVectors: lower activations must be float32, got ${batch.lower.dtype}`);
  }
  if (images.length !== batch.channels.length) {
    throw new Error(
      `circuitVectors: ${batch.channels.length} channel indices but ${images.length} image indices`,
    );
  }
  if (!batch.images && lowerRows !== batch.channels.length) {
    throw new Error(
      `circuitVectors: ${lowerRows} activation rows but ${batch.channels.length} channel indices`,
    );
  }
  for (const image of images) {
    if (!Number.isInteger(image) || image < 0 || image >= lowerRows) {
      throw new Error(`circuitVectors: image ${image} is outside the ${lowerRows} activation rows`);
    }
  }
  for (const c of batch.channels) {
    if (!Number.isInteger(c) || c < 0 || c >= circuit.upperChannels) {
      throw new Error(
        `circuitVectors: channel ${c} is outside the upper layer (0..${circuit.upperChannels - 1})`,
      );
    }
  }
  for (const name of circuit.cut.sideInputs) {
    if (!batch.side?.[name])
      throw new Error(`circuitVectors: the cut reads side input '${name}'; pass it in batch.side`);
  }
}

export interface HeatmapBatch {
  /** Preprocessed images [B, 3, H, W]. */
  readonly images: Tensor;
  /** The channel c of layer L for each row. */
  readonly channels: readonly number[];
}

export interface Heatmaps {
  /** [B, 3, H, W]: gradient x input, or LRP relevance at the image. */
  readonly heat: Tensor;
  /** The initial relevance each row started from (LRP conserves it for epsilon -> 0, no biases). */
  readonly initialRelevance: Float32Array;
  /** The layer's token count when its neurons are token features (its arg-max is a token index). */
  readonly tokens?: number;
}

/** Input-space heatmaps of neurons (L, c) (docs/design.md step 4). */
export async function heatmaps(
  engine: AttributionEngine,
  neuron: { readonly model: string; readonly layer: string },
  batch: HeatmapBatch,
  options: HeatmapModelOptions,
): Promise<Heatmaps> {
  const { heatmap, session } = await engine.heatmap(neuron.model, neuron.layer, options);
  const rows = batch.images.dims[0] ?? 0;
  if (batch.channels.length !== rows) {
    throw new Error(`heatmaps: ${rows} images but ${batch.channels.length} channel indices`);
  }
  for (const c of batch.channels) {
    if (!Number.isInteger(c) || c < 0 || c >= heatmap.channels) {
      throw new Error(`heatmaps: channel ${c} is outside '${neuron.layer}' (0..${heatmap.channels - 1})`);
    }
  }
  const outputs = [HEAT_OUTPUT, SEED_TOTAL_OUTPUT];
  const joined = await runInChunks(
    engine,
    session,
    rows,
    (start, end) => ({
      [heatmap.inputName]: sliceRows(batch.images, start, end),
      [CHANNEL_INPUT]: indexColumn(batch.channels.slice(start, end)),
    }),
    outputs,
    `the heatmap of '${neuron.layer}' in '${neuron.model}'`,
  );
  return {
    heat: joined[0]!,
    initialRelevance: joined[1]!.data as Float32Array,
    ...(heatmap.tokens !== undefined ? { tokens: heatmap.tokens } : {}),
  };
}

/**
 * Runs `rows` rows through a session in chunks of at most `engine.maxBatch` (bounded memory, and the
 * session sees the batch sizes it was probed with); returns each output joined back over all rows.
 */
async function runInChunks(
  engine: AttributionEngine,
  session: OrtSession,
  rows: number,
  feedsFor: (start: number, end: number) => Readonly<Record<string, Tensor>>,
  outputs: readonly string[],
  what: string,
): Promise<Tensor[]> {
  if (rows === 0) throw new Error('empty batch');
  const parts: Tensor[][] = [];
  for (let start = 0; start < rows; start += engine.maxBatch) {
    const end = Math.min(rows, start + engine.maxBatch);
    const feeds = Object.fromEntries(
      Object.entries(feedsFor(start, end)).map(([name, t]) => [name, toOrt(t)]),
    );
    const result = await engine.run(session, feeds, outputs, what);
    parts.push(outputs.map((name) => fromOrt(result[name]!)));
  }
  return outputs.map((_, k) => concatRows(parts.map((p) => p[k]!)));
}

function indexColumn(values: readonly number[]): Tensor {
  return tensor('int64', [values.length], [...values]);
}
