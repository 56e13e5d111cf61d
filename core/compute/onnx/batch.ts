import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** The symbolic name given to a batch axis that a model fixed at export. */
export const BATCH_DIM = 'N';

/**
 * A canonizer: models exported with a fixed batch size (`torch.onnx.export` without dynamic_axes gives
 * batch 1) declare it on the graph's inputs, outputs and value_info, and onnxruntime then rejects or warns
 * about any other batch, while every stage of pure batches images and (image, neuron) rows. Returns a copy
 * whose batch axis is symbolic wherever it was the fixed value; a model with a symbolic batch comes back
 * unchanged (same object). Shape constants inside the graph (a Reshape to [1, -1]) are not rewritten: the
 * activation model only runs the nodes its layers need (usually before such a Reshape), and the attribution
 * engine falls back to the model as exported when its shape probe at batch 2 fails (prepare.ts).
 */
export function withSymbolicBatch(model: onnxProto.onnx.ModelProto): onnxProto.onnx.ModelProto {
  const graph = model.graph;
  const initializers = new Set((graph?.initializer ?? []).map((t) => t.name));
  const inputs = (graph?.input ?? []).filter((i) => !initializers.has(i.name));
  const batch = inputs[0]?.type?.tensorType?.shape?.dim?.[0];
  if (
    inputs.length !== 1 ||
    !batch ||
    batch.dimParam ||
    batch.dimValue === undefined ||
    batch.dimValue === null
  ) {
    return model;
  }
  const fixed = Number(batch.dimValue);
  if (!(fixed > 0)) return model;
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const g = copy.graph!;
  for (const value of [
    ...(g.input ?? []).filter((i) => !initializers.has(i.name)),
    ...(g.output ?? []),
    ...(g.valueInfo ?? []),
  ]) {
    const dim = value.type?.tensorType?.shape?.dim?.[0];
    if (dim && !dim.dimParam && Number(dim.dimValue) === fixed) {
      dim.dimValue = null;
      dim.dimParam = BATCH_DIM;
    }
  }
  return copy;
}
