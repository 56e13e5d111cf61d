/**
 * onnxruntime-node sessions for models built in memory, and runs guarded by a timeout: one
 * benchmark process once hung at 0 % CPU inside a run, so no caller waits forever.
 */

import { channel } from 'node:diagnostics_channel';
import * as ort from 'onnxruntime-node';
import { encodeModel, type ModelProto } from '../../compute/onnx/model.js';
import { type DType, type Tensor, tensor } from '../../compute/onnx/tensor.js';
import { noteProgress } from '../progress.js';

export type OrtSession = ort.InferenceSession;
export type OrtTensor = ort.Tensor;
export type Feeds = Record<string, ort.Tensor>;

export interface SessionSettings {
  /** Threads inside one operator; tests use 1 because the machine is shared. */
  readonly intraOpNumThreads?: number;
  /** ['cuda'] on GPU workers (executionProvidersFor); default CPU. */
  readonly executionProviders?: readonly string[];
}

/** Where a worker runs its onnxruntime sessions. */
export const DEVICES = ['cpu', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];

/** How a worker's sessions run: threads and device, set once per worker (`pure worker --device cuda`). */
export interface InferenceSettings {
  /** onnxruntime intra-op threads per session (default: all cores). */
  readonly threads?: number;
  readonly device?: Device;
}

/**
 * The execution providers for a device. CUDA alone, not ['cuda', 'cpu']: onnxruntime always keeps its CPU
 * provider for the few nodes CUDA has no kernel for, so listing 'cpu' adds nothing, and a CUDA provider
 * that cannot start makes session creation fail rather than the whole model run on the CPU. Whether the
 * device works here is checkDevice's job (device.ts), run before a worker starts.
 */
export function executionProvidersFor(device: Device = 'cpu'): string[] {
  return device === 'cuda' ? ['cuda'] : ['cpu'];
}

/** SessionSettings for a worker's InferenceSettings. */
export function sessionSettingsFor(settings: InferenceSettings = {}): SessionSettings {
  return {
    ...(settings.threads ? { intraOpNumThreads: settings.threads } : {}),
    executionProviders: executionProvidersFor(settings.device),
  };
}

export async function createSession(model: ModelProto, settings: SessionSettings = {}): Promise<OrtSession> {
  const bytes = encodeModel(model);
  try {
    return await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: settings.intraOpNumThreads ?? 0,
      interOpNumThreads: 1,
      executionProviders: [...(settings.executionProviders ?? ['cpu'])],
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    throw new Error(`onnxruntime rejected model '${model.graph?.name ?? '?'}': ${(e as Error).message}`);
  }
}

export class InferenceTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(
      `onnxruntime run of ${what} did not finish within ${timeoutMs} ms; ` +
        'the session may be hung (seen once at 0 % CPU); recreate it or raise the timeout',
    );
    this.name = 'InferenceTimeoutError';
  }
}

/**
 * Every onnxruntime run is published here when it ends, as an InferenceRun. Workers subscribe to it for
 * their inference-time metric (workers/metrics.ts); core itself knows nothing of metrics, and with no
 * subscriber publishing costs nothing.
 */
export const INFERENCE_RUNS = 'pure:onnxruntime:run';
const inferenceRuns = channel(INFERENCE_RUNS);

export interface InferenceRun {
  seconds: number;
  ok: boolean;
}

/** Run a session, rejecting with InferenceTimeoutError after `timeoutMs` (the run itself cannot be cancelled). */
export async function runWithTimeout(
  session: OrtSession,
  feeds: Feeds,
  outputs: readonly string[],
  what: string,
  timeoutMs: number,
): Promise<Record<string, ort.Tensor>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InferenceTimeoutError(what, timeoutMs)), timeoutMs);
  });
  // A run in flight is progress: its own timeout, not the activity's stall detector, bounds it.
  noteProgress();
  const running = setInterval(noteProgress, 10_000);
  const started = performance.now();
  let ok = false;
  try {
    const results = await Promise.race([session.run(feeds, [...outputs]), timeout]);
    ok = true;
    return results;
  } catch (e) {
    if (e instanceof InferenceTimeoutError) throw e;
    throw new Error(`onnxruntime run of ${what} failed: ${(e as Error).message}`);
  } finally {
    clearInterval(running);
    clearTimeout(timer);
    if (inferenceRuns.hasSubscribers) {
      inferenceRuns.publish({ seconds: (performance.now() - started) / 1000, ok } satisfies InferenceRun);
    }
  }
}

const ORT_TO_DTYPE: Readonly<Record<string, DType>> = {
  float32: 'float32',
  float64: 'float64',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
  uint8: 'uint8',
  int8: 'int8',
};

/** ONNX element types of the onnxruntime tensor type names. */
export const ORT_ELEM_TYPE: Readonly<Record<string, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

export function fromOrt(t: ort.Tensor): Tensor {
  const dtype = ORT_TO_DTYPE[t.type];
  if (!dtype) throw new Error(`onnxruntime tensor type ${t.type} is not supported here`);
  const data = t.data;
  if (dtype === 'bool') return tensor('bool', t.dims, Uint8Array.from(data as Uint8Array));
  return tensor(dtype, t.dims, data as Float32Array);
}

export function toOrt(t: Tensor): ort.Tensor {
  if (t.dtype === 'bool') return new ort.Tensor('bool', t.data as Uint8Array, [...t.dims]);
  return new ort.Tensor(t.dtype, t.data as Float32Array, [...t.dims]);
}

export { ort };
