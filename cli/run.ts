import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { listLayers } from '../core/attribution/index.js';
import {
  defaultPreprocess,
  PREPROCESS_PRESETS,
  type PreprocessSpec,
  validatePreprocess,
} from '../core/datasets/preprocess.js';
import { assertKnownTensors, modelInput } from '../core/inference/activations.js';
import { decodeModel } from '../core/onnx/model.js';
import { readUri } from '../core/run/blob.js';
import {
  modelDigestOf,
  resultIdentity,
  type SweepConfig,
  type SweepStage,
  validateConfig,
} from '../core/run/config.js';
import { stageOutputs } from '../core/run/layers.js';
import { localModelFile } from '../core/run/model-file.js';
import { createPureWorkers, runWorkers } from '../workers/create.js';
import { type SweepResult, sweepWorkflow, taskQueues } from '../workflows/sweep.js';
import { startEmbeddedTemporal } from './embedded-temporal.js';
import { progressView, sweepStages } from './progress.js';

export interface RunOptions {
  model: string;
  data: string;
  layers: string;
  out: string;
  run?: string;
  k: number;
  batchSize: number;
  shardSize: number;
  window: number;
  limit: number;
  until: SweepStage;
  neuronBatch: number;
  clusters: number[];
  seed: number;
  preprocess?: string;
  temporal?: string;
  namespace: string;
  worker: boolean;
  threads?: number;
  stateDir: string;
  queuePrefix: string;
}

/** Local paths become absolute so every worker, wherever it runs, reads the same files. */
function normaliseUri(uri: string): string {
  return uri.startsWith('s3://') ? uri.replace(/\/+$/, '') : resolve(uri);
}

function parsePreprocess(value: string | undefined, inputSize: number): PreprocessSpec {
  if (!value) return defaultPreprocess(inputSize);
  if (value in PREPROCESS_PRESETS) return PREPROCESS_PRESETS[value as keyof typeof PREPROCESS_PRESETS];
  try {
    return validatePreprocess(JSON.parse(value) as PreprocessSpec);
  } catch (error) {
    throw new Error(
      `--preprocess must be one of ${Object.keys(PREPROCESS_PRESETS).join(', ')} or a JSON spec ` +
        `{"resizeShortSide":256,"cropSize":224,"mean":[...],"std":[...]}: ${(error as Error).message}`,
    );
  }
}

/**
 * The run id defaults to the model name plus a hash of everything that changes results, so running the
 * same command again resumes (or no-ops) instead of starting over.
 */
function defaultRunId(config: Omit<SweepConfig, 'runId'>): string {
  const hash = createHash('sha256')
    .update(resultIdentity({ ...config, runId: '' }))
    .digest('hex')
    .slice(0, 10);
  return `${basename(config.modelUri).replace(/\.onnx$/i, '')}-${hash}`;
}

export async function buildConfig(options: RunOptions): Promise<SweepConfig> {
  const modelUri = normaliseUri(options.model);
  const modelBytes = await readUri(modelUri);
  const model = decodeModel(modelBytes);
  const input = modelInput(model);
  const layers = options.layers
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  const auto = layers.length === 1 && layers[0] === 'auto';
  const partial = {
    modelUri,
    modelDigest: modelDigestOf(modelBytes),
    dataUri: normaliseUri(options.data),
    outUri: normaliseUri(options.out),
    layers: auto ? stageOutputs(await listLayers(await localModelFile(modelUri))) : layers,
    k: options.k,
    preprocess: parsePreprocess(options.preprocess, input.height),
    batchSize: options.batchSize,
    shardSize: options.shardSize,
    window: options.window,
    limit: options.limit,
    until: options.until,
    neuronBatch: options.neuronBatch,
    clusterCounts: options.clusters,
    seed: options.seed,
  };
  assertKnownTensors(model, partial.layers); // before any server starts: a typo costs nothing
  return validateConfig({ runId: options.run ?? defaultRunId(partial), ...partial });
}

export async function runCommand(options: RunOptions): Promise<SweepResult> {
  const config = await buildConfig(options);
  const embedded = options.temporal
    ? undefined
    : await startEmbeddedTemporal(resolve(options.stateDir, 'embedded-temporal'));
  const address = options.temporal ?? embedded!.address;
  process.stderr.write(
    `[pure] run ${config.runId}: ${config.layers.length} layers, k=${config.k}, Temporal at ${address}${embedded ? ' (embedded dev server)' : ''}\n`,
  );
  const queues = taskQueues(options.queuePrefix);
  const abort = new AbortController();
  let workersDone: Promise<void> | undefined;
  let workerConnection: NativeConnection | undefined;
  const connection = await Connection.connect({ address });
  try {
    if (options.worker) {
      workerConnection = await NativeConnection.connect({ address });
      const workers = await createPureWorkers({
        connection: workerConnection,
        namespace: options.namespace,
        roles: ['inference', 'cpu'],
        taskQueues: queues,
        ...(options.threads ? { threads: options.threads } : {}),
      });
      workersDone = runWorkers(workers, abort.signal);
    }
    const client = new Client({ connection, namespace: options.namespace });
    const handle = await client.workflow.start(sweepWorkflow, {
      taskQueue: queues.cpu,
      workflowId: `pure-sweep-${config.runId}`,
      args: [{ config, taskQueues: queues }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const view = progressView();
    const refresh = () => sweepStages(client, handle).then((stages) => view.update(stages));
    const poll = setInterval(() => {
      // A query can race the workflow's first task, or a child that has not started; the next poll retries.
      refresh().catch(() => undefined);
    }, 500);
    try {
      const result = await handle.result();
      await refresh().catch(() => undefined);
      return result;
    } catch (error) {
      if (error instanceof WorkflowFailedError && error.cause)
        throw new Error(`sweep failed: ${error.cause.message}`);
      throw error;
    } finally {
      clearInterval(poll);
      view.stop();
    }
  } finally {
    abort.abort();
    await workersDone?.catch(() => undefined);
    await workerConnection?.close();
    await connection.close();
    await embedded?.stop();
  }
}
