/**
 * The attribution engine: prepared models and onnxruntime sessions, cached per model and per cut,
 * so an activity that handles many batches of one layer pair builds its graphs once. Every run is
 * guarded by a timeout.
 */

import {
  buildCircuitModel,
  buildTruncatedModel,
  type CircuitModel,
  type CircuitModelOptions,
} from '../../compute/attribution/circuit.js';
import {
  buildHeatmapModel,
  type HeatmapModel,
  type HeatmapModelOptions,
} from '../../compute/attribution/heatmap.js';
import { loadModel } from '../models/model-file.js';
import { type PreparedModel, prepareModel } from './prepare.js';
import {
  createSession,
  type Feeds,
  type OrtSession,
  type OrtTensor,
  runWithTimeout,
  type SessionSettings,
} from './session.js';
import type { ProbeOptions } from './shapes.js';

export interface EngineOptions extends SessionSettings {
  /** Longest one onnxruntime run may take before it is reported as hung (default 10 min). */
  readonly timeoutMs?: number;
  /** Rows per onnxruntime run; larger requests are split (default 64). */
  readonly maxBatch?: number;
  /** Non-batch input sizes for models with symbolic spatial dimensions. */
  readonly inputDims?: ProbeOptions['inputDims'];
}

export interface CircuitSession {
  readonly circuit: CircuitModel;
  readonly session: OrtSession;
}

export interface HeatmapSession {
  readonly heatmap: HeatmapModel;
  readonly session: OrtSession;
}

export interface ForwardSession {
  readonly inputName: string;
  readonly outputs: readonly string[];
  readonly session: OrtSession;
}

export class AttributionEngine {
  private readonly preparedModels = new Map<string, Promise<PreparedModel>>();
  private readonly sessions = new Map<string, Promise<CircuitSession | ForwardSession | HeatmapSession>>();

  constructor(readonly options: EngineOptions = {}) {
    if (options.maxBatch !== undefined && !(Number.isInteger(options.maxBatch) && options.maxBatch > 0)) {
      throw new Error(`maxBatch must be a positive integer, got ${options.maxBatch}`);
    }
  }

  get maxBatch(): number {
    return this.options.maxBatch ?? 64;
  }

  /** Load, upgrade, fold and probe a model once. */
  prepare(modelPath: string): Promise<PreparedModel> {
    let prepared = this.preparedModels.get(modelPath);
    if (!prepared) {
      prepared = loadModel(modelPath).then((model) =>
        prepareModel(model, this.options.inputDims ? { inputDims: this.options.inputDims } : {}),
      );
      this.preparedModels.set(modelPath, prepared);
      prepared.catch(() => this.preparedModels.delete(modelPath));
    }
    return prepared;
  }

  circuit(
    modelPath: string,
    lower: string,
    upper: string,
    options: Pick<CircuitModelOptions, 'maps' | 'tokens'> = {},
  ): Promise<CircuitSession> {
    const maps = options.maps ?? false;
    const tokens = options.tokens ?? 'all';
    const key = JSON.stringify(['circuit', modelPath, lower, upper, maps, tokens]);
    return this.cached(key, async () => {
      const circuit = buildCircuitModel(await this.prepare(modelPath), lower, upper, { maps, tokens });
      return { circuit, session: await createSession(circuit.model, this.options) };
    }) as Promise<CircuitSession>;
  }

  heatmap(modelPath: string, layer: string, options: HeatmapModelOptions): Promise<HeatmapSession> {
    // tokens 'all' is the default: the same model as tokens unset, so the same session.
    const { tokens, ...rest } = options;
    const key = JSON.stringify(['heatmap', modelPath, layer, rest, tokens ?? 'all']);
    return this.cached(key, async () => {
      const heatmap = buildHeatmapModel(await this.prepare(modelPath), layer, options);
      return { heatmap, session: await createSession(heatmap.model, this.options) };
    }) as Promise<HeatmapSession>;
  }

  /** image -> `outputs` (a_L' and side inputs), once per unique image. */
  forward(modelPath: string, outputs: readonly string[]): Promise<ForwardSession> {
    const key = JSON.stringify(['forward', modelPath, [...outputs]]);
    return this.cached(key, async () => {
      const prepared = await this.prepare(modelPath);
      const model = buildTruncatedModel(prepared, outputs);
      return { inputName: prepared.inputName, outputs, session: await createSession(model, this.options) };
    }) as Promise<ForwardSession>;
  }

  run(
    session: OrtSession,
    feeds: Feeds,
    outputs: readonly string[],
    what: string,
  ): Promise<Record<string, OrtTensor>> {
    return runWithTimeout(session, feeds, outputs, what, this.options.timeoutMs ?? 600_000);
  }

  /** Release every cached session (the engine stays usable; sessions are rebuilt on demand). */
  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const pending of sessions) {
      const s = await pending.catch(() => undefined);
      await s?.session.release();
    }
  }

  private cached(key: string, make: () => Promise<CircuitSession | ForwardSession | HeatmapSession>) {
    let entry = this.sessions.get(key);
    if (!entry) {
      entry = make();
      this.sessions.set(key, entry);
      entry.catch(() => this.sessions.delete(key));
    }
    return entry;
  }
}
