import { readFile } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { type InferenceSettings, sessionSettingsFor } from '../core/adapters/onnxruntime/session.js';
import { runStore } from '../core/adapters/storage/index.js';
import { decodeModel } from '../core/compute/onnx/model.js';
import type { SweepConfig } from '../core/compute/run/config.js';
import { circuitsPart } from '../core/stages/circuits.js';
import { type PreparedSweep, prepareSweep, referencesShard } from '../core/stages/references.js';
import type { CircuitsInput, CircuitsResult, ReferencesShardInput, ReferencesShardResult } from './inputs.js';
import { inferenceResources } from './resources.js';

/**
 * The activities of the inference task queue: everything that runs the model (onnxruntime, on CPU or
 * GPU). Each is a thin wrapper: it picks the worker's cached resources and calls the stage in core/stages.
 */
export function createInferenceActivities(settings: InferenceSettings = {}) {
  const resources = inferenceResources(sessionSettingsFor(settings));

  return {
    prepareSweep(config: SweepConfig): Promise<PreparedSweep> {
      return prepareSweep(config, runStore(config), {
        dataset: () => resources.dataset(config),
        model: (validated) => resources.activationModel(validated),
        graph: async (validated) => decodeModel(await readFile(await resources.modelFile(validated))),
      });
    },

    referencesShard({ config, shard }: ReferencesShardInput): Promise<ReferencesShardResult> {
      const context = Context.current();
      return referencesShard(config, shard, runStore(config), async () => {
        const samples = (await resources.samples(config)).slice(shard.first, shard.end);
        return {
          model: await resources.activationModel(config),
          dataset: resources.dataset(config),
          samples,
          onProgress: (done: number) => context.heartbeat({ done, total: samples.length }),
        };
      });
    },

    circuits({ config, lowerLayer, upperLayer, neurons }: CircuitsInput): Promise<CircuitsResult> {
      const context = Context.current();
      return circuitsPart(upperLayer.name, neurons, runStore(config), async () => {
        const layerReferences = await resources.references(config, upperLayer.name);
        context.heartbeat({ neurons, phase: 'references read' });
        return {
          engine: await resources.engine(config),
          modelPath: await resources.modelFile(config),
          lowerLayer,
          upperLayer: upperLayer.name,
          references: layerReferences.filter((r) => r.neuron >= neurons.first && r.neuron < neurons.end),
          dataset: resources.dataset(config),
          preprocess: config.preprocess,
          onProgress: (rowsDone, rowsTotal) => context.heartbeat({ neurons, rowsDone, rowsTotal }),
        };
      });
    },
  };
}

export type InferenceActivities = ReturnType<typeof createInferenceActivities>;
