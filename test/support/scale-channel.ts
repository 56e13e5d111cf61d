import { decodeModel, encodeModel, graphOf } from '../../core/compute/onnx/model.js';
import { tensorFromProto, tensorToProto } from '../../core/compute/onnx/tensor.js';

/**
 * A copy of an ONNX model in which one output channel of one convolution is multiplied by `factor`
 * (its weights and its bias): a controlled "new checkpoint" whose change starts at that channel, so
 * everything computed before it stays bit-identical and only what reads it can change.
 */
export function scaleConvChannel(bytes: Uint8Array, convNode: string, channel: number, factor: number) {
  const model = decodeModel(bytes);
  const graph = graphOf(model);
  const conv = graph.node?.find((n) => n.opType === 'Conv' && n.name === convNode);
  if (!conv) throw new Error(`no Conv node named ${convNode}`);
  const inits = graph.initializer ?? [];
  for (const name of conv.input!.slice(1).filter(Boolean)) {
    const at = inits.findIndex((t) => t.name === name);
    if (at < 0) throw new Error(`${convNode}: ${name} is not an initializer`);
    const weights = tensorFromProto(inits[at]!);
    const perChannel = weights.data.length / weights.dims[0]!;
    if (channel >= weights.dims[0]!) throw new Error(`${convNode} has ${weights.dims[0]} output channels`);
    const data = Float32Array.from(weights.data as Float32Array);
    for (let i = channel * perChannel; i < (channel + 1) * perChannel; i++) data[i]! *= factor;
    inits[at] = tensorToProto(name, { ...weights, data });
  }
  return encodeModel(model);
}
