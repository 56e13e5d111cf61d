import { continueAsNew, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { CpuActivities, InferenceActivities } from '../activities/index.js';
import type { LayerSummary } from '../activities/inputs.js';
import type { LayerShape, NeuronRange, SweepConfig } from '../core/compute/run/config.js';
import { neuronRanges } from '../core/compute/run/ranges.js';
import { runsStage } from '../core/compute/run/stages.js';
import type { TaskQueues } from '../core/compute/run/temporal-names.js';
import { activityOptions } from './activity-options.js';
import { mapWindowed } from './window.js';

export interface LayerWorkflowInput {
  config: SweepConfig;
  /** L': the layer whose channels explain this layer's neurons. */
  lowerLayer: string;
  layer: LayerShape;
  taskQueues: TaskQueues;
  /** Index of the first neuron batch this run handles (continue-as-new carries it over). */
  nextBatch?: number;
  /** Neurons finished by earlier runs of this workflow (continue-as-new), for progress. */
  doneBefore?: { circuits: number; clustered: number; cropped: number; evaluated: number };
  /** Batches per workflow run before continuing as new (default BATCHES_PER_RUN). */
  batchesPerRun?: number;
}

export interface LayerProgress {
  layer: string;
  lowerLayer: string;
  neurons: number;
  circuits: number;
  clustered: number;
  /** Whether this sweep runs the crops (step 4) and the evaluation (step 5). */
  crops: boolean;
  evaluation: boolean;
  /** Neurons whose references have crops. */
  cropped: number;
  /** Neurons embedded and evaluated (0 without an evaluator). */
  evaluated: number;
  done: boolean;
}

export const layerProgressQuery = defineQuery<LayerProgress>('layerProgress');

/** Neuron batches per workflow run: bounds the history (~6 events per activity, up to 5 activities a batch) below the server's 4,096 suggestion. */
export const BATCHES_PER_RUN = 100;

export { neuronRanges };

/**
 * Steps 2-5 of PURE for one layer (a child of the sweep): per batch of neurons, circuits on the inference
 * queue, k-means on the CPU queue, then the crops (inference) and, with an evaluator, their embeddings
 * (inference) and the evaluation (CPU); at most `window` batches in flight. Long layers continue as new
 * before the history grows past the server's suggestion.
 */
export async function layerWorkflow(input: LayerWorkflowInput): Promise<LayerSummary> {
  const { config, lowerLayer, layer, taskQueues } = input;
  const cpu = proxyActivities<CpuActivities>(
    activityOptions(taskQueues.cpu, '1 hour', config.retryWindowMinutes),
  );
  const batches = neuronRanges(layer.channels, config.neuronBatch);
  const start = input.nextBatch ?? 0;
  const progress = startProgress(input);
  setHandler(layerProgressQuery, () => progress);

  const explain = batchSteps(input, progress);
  const thisRun = batches.slice(start, start + (input.batchesPerRun ?? BATCHES_PER_RUN));
  const { started } = await mapWindowed(thisRun, config.window, explain, undefined, {
    stopWhen: () => workflowInfo().continueAsNewSuggested,
  });
  if (start + started < batches.length) {
    const { circuits, clustered, cropped, evaluated } = progress;
    return continueAsNew<typeof layerWorkflow>({
      ...input,
      nextBatch: start + started,
      doneBefore: { circuits, clustered, cropped, evaluated },
    });
  }
  const summary = await cpu.finishLayer({ config, lowerLayer, layer, batches });
  progress.done = true;
  return summary;
}

/** The layer's progress at the start of this workflow run (counts carried over by continue-as-new). */
function startProgress(input: LayerWorkflowInput): LayerProgress {
  const { config, lowerLayer, layer, doneBefore } = input;
  return {
    layer: layer.name,
    lowerLayer,
    neurons: layer.channels,
    circuits: doneBefore?.circuits ?? 0,
    clustered: doneBefore?.clustered ?? 0,
    crops: runsStage(config, 'crops'),
    evaluation: runsStage(config, 'evaluation'),
    cropped: doneBefore?.cropped ?? 0,
    evaluated: doneBefore?.evaluated ?? 0,
    done: false,
  };
}

/** Every step of one neuron batch in order, each on its queue, counted in `progress` as it ends. */
function batchSteps(input: LayerWorkflowInput, progress: LayerProgress) {
  const { config, lowerLayer, layer, taskQueues } = input;
  const inference = proxyActivities<InferenceActivities>(
    activityOptions(taskQueues.inference, '1 hour', config.retryWindowMinutes),
  );
  const cpu = proxyActivities<CpuActivities>(
    activityOptions(taskQueues.cpu, '1 hour', config.retryWindowMinutes),
  );
  return async (neurons: NeuronRange): Promise<void> => {
    const count = neurons.end - neurons.first;
    await inference.circuits({ config, lowerLayer, upperLayer: layer, neurons });
    progress.circuits += count;
    await cpu.virtualNeurons({ config, lowerLayer, layer, neurons });
    progress.clustered += count;
    if (progress.crops) {
      await inference.crops({ config, layer, neurons });
      progress.cropped += count;
    }
    if (progress.evaluation) {
      await inference.embeddings({ config, layer, neurons });
      await cpu.evaluate({ config, layer, neurons });
      progress.evaluated += count;
    }
  };
}
