import { readFile } from 'node:fs/promises';
import { type Dataset, openDataset } from '../core/adapters/datasets/dataset.js';
import { localModelFile } from '../core/adapters/models/model-file.js';
import { type ActivationModel, openActivationModel } from '../core/adapters/onnxruntime/activations.js';
import { AttributionEngine } from '../core/adapters/onnxruntime/attribution.js';
import { type ImageEncoder, openImageEncoder } from '../core/adapters/onnxruntime/encoder.js';
import type { SessionSettings } from '../core/adapters/onnxruntime/session.js';
import { runStore } from '../core/adapters/storage/index.js';
import { readTable } from '../core/adapters/tables/io.js';
import type { SweepConfig } from '../core/compute/run/config.js';
import { runKeys, runUri } from '../core/compute/run/layout.js';
import {
  type ReferenceRow,
  referencesSchema,
  type SampleRow,
  samplesSchema,
} from '../core/compute/tables/schemas.js';
import { promiseCache } from './io.js';

/**
 * A layer's references table, read once per worker and run: every neuron batch of the layer needs it
 * (the circuits and crops for the images, the evaluation for their classes).
 */
export function layerReferences(): (config: SweepConfig, layer: string) => Promise<ReferenceRow[]> {
  const cache = promiseCache<ReferenceRow[]>();
  return (config, layer) => {
    const key = runKeys.referencesLayer(layer);
    return cache(`${runUri(config.outUri, config.runId)}\n${key}`, () =>
      readTable(runStore(config), key, referencesSchema),
    );
  };
}

/**
 * What an inference worker keeps between activities: model files (fetched and verified once per
 * (URI, digest)), onnxruntime sessions, datasets and the tables read by many activities. Bounded caches
 * (see promiseCache): a long-lived worker serves run after run, checkpoint after checkpoint.
 */
export function inferenceResources(session: SessionSettings) {
  const modelFiles = promiseCache<string>();
  // More models than four are not in use at once by one worker (inference runs one activity at a time).
  const activationModels = promiseCache<ActivationModel>(4, (m) => m.release());
  const engines = promiseCache<AttributionEngine>(4, (e) => e.release());
  // Encoders are large (CLIP ViT-B/32: 350 MB): keep few.
  const encoders = promiseCache<ImageEncoder>(2, (e) => e.release());
  const samples = promiseCache<SampleRow[]>();
  const references = layerReferences();
  const datasets = new Map<string, Dataset>();

  function datasetAt(uri: string): Dataset {
    const dataset = datasets.get(uri) ?? openDataset(uri);
    datasets.set(uri, dataset);
    return dataset;
  }

  /** The local, verified file of the run's model: every stage opens the model through this. */
  function modelFile(config: SweepConfig): Promise<string> {
    return modelFiles(`${config.modelUri}\n${config.modelDigest}`, () =>
      localModelFile(config.modelUri, config.modelDigest),
    );
  }

  return {
    modelFile,
    async activationModel(config: SweepConfig): Promise<ActivationModel> {
      const path = await modelFile(config);
      return activationModels(`${path}\n${config.layers.join('\n')}`, async () =>
        openActivationModel(await readFile(path), config.layers, session),
      );
    },
    async engine(config: SweepConfig): Promise<AttributionEngine> {
      return engines(await modelFile(config), async () => new AttributionEngine(session));
    },
    /** The run's evaluator (step 5), fetched and verified like the model. */
    async encoder(config: SweepConfig): Promise<ImageEncoder> {
      const spec = config.evaluator;
      if (!spec) throw new Error(`run ${config.runId} has no evaluator (--evaluator)`);
      const path = await modelFiles(`${spec.uri}\n${spec.digest}`, () =>
        localModelFile(spec.uri, spec.digest),
      );
      return encoders(`${path}\n${spec.output ?? ''}`, async () =>
        openImageEncoder(await readFile(path), spec.output, session),
      );
    },
    dataset(config: SweepConfig): Dataset {
      return datasetAt(config.dataUri);
    },
    /** Any image folder or prefix (`pure assign`'s new images), opened once per worker. */
    datasetAt,
    samples(config: SweepConfig): Promise<SampleRow[]> {
      return samples(runUri(config.outUri, config.runId), () =>
        readTable(runStore(config), runKeys.samples, samplesSchema),
      );
    },
    references,
  };
}
