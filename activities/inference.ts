import { readFile } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { type InferenceSettings, sessionSettingsFor } from '../core/adapters/onnxruntime/session.js';
import { openStore, runStore } from '../core/adapters/storage/index.js';
import { readTable } from '../core/adapters/tables/io.js';
import type { AssignConfig } from '../core/compute/assign/config.js';
import { type VirtualNeuronSet, virtualNeuronSets } from '../core/compute/assign/nearest.js';
import { tokensOption } from '../core/compute/onnx/feature-layout.js';
import { decodeModel } from '../core/compute/onnx/model.js';
import type { SweepConfig } from '../core/compute/run/config.js';
import { assignKeys } from '../core/compute/run/layout.js';
import { centroidsSchema, type SampleRow, samplesSchema } from '../core/compute/tables/schemas.js';
import { assignShard } from '../core/stages/assign.js';
import { circuitsPart } from '../core/stages/circuits.js';
import { writeCropImage } from '../core/stages/crop-images.js';
import { cropsPart } from '../core/stages/crops.js';
import { embeddingsPart } from '../core/stages/embeddings.js';
import { type PreparedSweep, prepareSweep, referencesShard } from '../core/stages/references.js';
import type {
  AssignShardInput,
  AssignShardResult,
  CircuitsInput,
  CircuitsResult,
  CropsInput,
  CropsResult,
  EmbeddingsResult,
  ReferencesShardInput,
  ReferencesShardResult,
} from './inputs.js';
import { promiseCache } from './io.js';
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
          ...tokensOption(config.tokens),
          onProgress: (rowsDone, rowsTotal) => context.heartbeat({ neurons, rowsDone, rowsTotal }),
        };
      });
    },

    ...evaluationActivities(resources),
    ...assignActivities(resources),
  };
}

/**
 * `pure assign` on the inference queue: a shard of new images through the run's model. Its image
 * manifest and each layer's virtual neurons are read once per worker, not once per shard.
 */
function assignActivities(resources: ReturnType<typeof inferenceResources>) {
  const samples = promiseCache<SampleRow[]>();
  const virtualNeurons = promiseCache<VirtualNeuronSet[]>();
  const store = (config: AssignConfig) => openStore(config.assignUri);
  return {
    assignShard({ config, layers, shard }: AssignShardInput): Promise<AssignShardResult> {
      const context = Context.current();
      return assignShard(config, shard, store(config), async () => ({
        engine: await resources.engine(config.run),
        modelPath: await resources.modelFile(config.run),
        dataset: resources.datasetAt(config.dataUri),
        preprocess: config.run.preprocess,
        ...tokensOption(config.run.tokens),
        samples: (
          await samples(config.assignUri, () => readTable(store(config), assignKeys.samples, samplesSchema))
        ).slice(shard.first, shard.end),
        layers: await Promise.all(
          layers.map(async (layer) => ({
            layer,
            virtualNeurons: await virtualNeurons(`${config.assignUri}\n${layer.layer}`, async () =>
              virtualNeuronSets(
                await readTable(store(config), assignKeys.centroids(layer.layer), centroidsSchema),
              ),
            ),
          })),
        ),
        minActivation: config.minActivation,
        batchSize: config.batchSize,
        onProgress: (done, total) => context.heartbeat({ shard, done, total }),
      }));
    },
  };
}

/** Steps 4-5 on the inference queue: the crops, and their embeddings by the run's evaluator. */
function evaluationActivities(resources: ReturnType<typeof inferenceResources>) {
  return {
    crops({ config, layer, neurons }: CropsInput): Promise<CropsResult> {
      const context = Context.current();
      const store = runStore(config);
      return cropsPart(layer.name, neurons, store, async () => ({
        engine: await resources.engine(config),
        modelPath: await resources.modelFile(config),
        layer: layer.name,
        references: (await resources.references(config, layer.name)).filter(
          (r) => r.neuron >= neurons.first && r.neuron < neurons.end,
        ),
        dataset: resources.dataset(config),
        preprocess: config.preprocess,
        ...tokensOption(config.tokens),
        ...(config.cropImages ? { writeImage: writeCropImage(store) } : {}),
        onProgress: (rowsDone, rowsTotal) => context.heartbeat({ neurons, rowsDone, rowsTotal }),
      }));
    },

    embeddings({ config, layer, neurons }: CropsInput): Promise<EmbeddingsResult> {
      const context = Context.current();
      return embeddingsPart(layer.name, neurons, runStore(config), async () => ({
        encoder: await resources.encoder(config),
        dataset: resources.dataset(config),
        preprocess: config.preprocess,
        encoderPreprocess: config.evaluator!.preprocess,
        batchSize: config.batchSize,
        onProgress: (done, total) => context.heartbeat({ neurons, done, total }),
      }));
    },
  };
}

export type InferenceActivities = ReturnType<typeof createInferenceActivities>;
