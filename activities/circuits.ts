import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { type Dataset, openDataset } from '../core/adapters/datasets/dataset.js';
import { localModelFile, ModelChangedError } from '../core/adapters/models/model-file.js';
import { AttributionEngine } from '../core/adapters/onnxruntime/attribution.js';
import { type InferenceSettings, sessionSettingsFor } from '../core/adapters/onnxruntime/session.js';
import { openStore } from '../core/adapters/storage/index.js';
import type { LayerShape, NeuronRange, SweepConfig } from '../core/compute/run/config.js';
import { runKeys, runUri } from '../core/compute/run/layout.js';
import {
  activationFeaturesSchema,
  type ReferenceRow,
  referencesSchema,
  relevanceSchema,
  skippedSchema,
} from '../core/compute/tables/schemas.js';
import { computeCircuits } from '../core/stages/circuits.js';
import { promiseCache, readTable, writeTable } from './io.js';

export interface CircuitsInput {
  config: SweepConfig;
  lowerLayer: string;
  upperLayer: LayerShape;
  neurons: NeuronRange;
}

export interface CircuitsResult {
  relevanceKey: string;
  rows: number;
  skipped: number;
  reused: boolean;
}

/**
 * Step 2 of PURE as an activity: the circuits of a range of neurons of one layer, and the Activation
 * baseline's features of their reference images. Writes `activations/` then `relevance/` (the latter last:
 * its presence means the part is complete) and skips the work when it is already there.
 */
export function createCircuitActivities(settings: InferenceSettings = {}) {
  // One engine (prepared graphs, sessions) per model file, the least recently used released beyond four:
  // more models than that are not in use at once by one worker (inference runs one activity at a time).
  const engines = promiseCache<AttributionEngine>(4, (e) => e.release());
  const references = promiseCache<ReferenceRow[]>();
  const modelFiles = promiseCache<string>();
  const datasets = new Map<string, Dataset>();

  async function modelFile(config: SweepConfig): Promise<string> {
    try {
      return await modelFiles(`${config.modelUri}\n${config.modelDigest}`, () =>
        localModelFile(config.modelUri, config.modelDigest),
      );
    } catch (error) {
      if (error instanceof ModelChangedError)
        throw ApplicationFailure.nonRetryable(error.message, 'ModelChanged');
      throw error;
    }
  }

  async function circuits({
    config,
    lowerLayer,
    upperLayer,
    neurons,
  }: CircuitsInput): Promise<CircuitsResult> {
    const root = runUri(config.outUri, config.runId);
    const store = openStore(root);
    const relevanceKey = runKeys.layerPart('relevance', upperLayer.name, neurons);
    if (await store.exists(relevanceKey)) return { relevanceKey, rows: -1, skipped: -1, reused: true };

    const referencesKey = runKeys.referencesLayer(upperLayer.name);
    const layerReferences = await references(`${root}\n${referencesKey}`, () =>
      readTable(store, referencesKey, referencesSchema),
    );
    const dataset = datasets.get(config.dataUri) ?? openDataset(config.dataUri);
    datasets.set(config.dataUri, dataset);
    Context.current().heartbeat({ neurons, phase: 'references read' });
    const modelPath = await modelFile(config);
    const result = await computeCircuits({
      engine: await engines(modelPath, async () => new AttributionEngine(sessionSettingsFor(settings))),
      modelPath,
      lowerLayer,
      upperLayer: upperLayer.name,
      references: layerReferences.filter((r) => r.neuron >= neurons.first && r.neuron < neurons.end),
      dataset,
      preprocess: config.preprocess,
      onProgress: (rowsDone, rowsTotal) => Context.current().heartbeat({ neurons, rowsDone, rowsTotal }),
    });
    Context.current().heartbeat({ neurons, phase: 'circuits computed' });
    await writeTable(store, runKeys.circuitsSkipped(upperLayer.name, neurons), skippedSchema, result.skipped);
    await writeTable(
      store,
      runKeys.layerPart('activations', upperLayer.name, neurons),
      activationFeaturesSchema,
      result.features,
    );
    await writeTable(store, relevanceKey, relevanceSchema, result.relevance);
    return { relevanceKey, rows: result.relevance.length, skipped: result.skipped.length, reused: false };
  }

  return { circuits };
}

export type CircuitActivities = ReturnType<typeof createCircuitActivities>;
