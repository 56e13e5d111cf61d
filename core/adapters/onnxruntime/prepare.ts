/**
 * A model made ready for attribution, once per model: opset raised to the emitted one, constant
 * sub-graphs folded, every tensor's shape and type probed.
 */

import type { PreparedModel } from '../../compute/attribution/prepared.js';
import { withSymbolicBatch } from '../../compute/onnx/batch.js';
import { GraphIndex, graphOf, type ModelProto, opsetVersion } from '../../compute/onnx/model.js';
import { upgradeOpset } from '../../compute/onnx/opset.js';
import { foldConstants, inputDependentTensors } from './fold.js';
import type { ProbeOptions } from './shapes.js';

export async function prepareModel(model: ModelProto, options: ProbeOptions = {}): Promise<PreparedModel> {
  // A fixed-batch export gets a symbolic batch, so (image, neuron) rows can be batched; if its graph also
  // hard-codes the batch (a Reshape to [1, ...]), the probe at batch 2 fails and the model is taken as is.
  const symbolic = withSymbolicBatch(model);
  if (symbolic === model) return prepareAsIs(model, options);
  try {
    return await prepareAsIs(symbolic, options);
  } catch {
    return prepareAsIs(model, options);
  }
}

async function prepareAsIs(model: ModelProto, options: ProbeOptions): Promise<PreparedModel> {
  const upgraded = upgradeOpset(model);
  const folded = await foldConstants(upgraded, options);
  const index = new GraphIndex(graphOf(folded.model));
  if (index.inputs.length !== 1) {
    throw new Error(
      `attribution expects one image input; the model has ${index.inputs.length}: ${index.inputs.map((i) => i.name).join(', ')}`,
    );
  }
  return {
    model: folded.model,
    index,
    info: folded.probe.info,
    opset: opsetVersion(folded.model),
    dependent: inputDependentTensors(index, folded.probe),
    inputName: index.inputs[0]!.name ?? '',
    foldedNodes: folded.removedNodes,
  };
}

export type { PreparedModel } from '../../compute/attribution/prepared.js';
