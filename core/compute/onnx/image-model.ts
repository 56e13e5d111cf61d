/**
 * What an image model exposes to the pipeline, read from its graph alone: its one NCHW input, the
 * tensors its nodes compute (the names `--layers` may use), and a copy that also outputs some of them.
 */
import type onnxProto from 'onnx-proto';
import { type ModelProto, onnx } from './model.js';

type IModelProto = onnxProto.onnx.IModelProto;

/** Input geometry of an image model: NCHW with a dynamic (or fixed) batch axis. */
export interface ModelInput {
  name: string;
  channels: number;
  height: number;
  width: number;
  /** Fixed batch size if the model has one, otherwise null (dynamic `N`). */
  fixedBatch: number | null;
}

const ELEM_FLOAT = 1;

function dimValue(dim: onnxProto.onnx.TensorShapeProto.IDimension | undefined): number | null {
  if (!dim || dim.dimValue === undefined || dim.dimValue === null) return null;
  const v = Number(dim.dimValue);
  return v > 0 ? v : null;
}

export function modelInput(model: IModelProto): ModelInput {
  const graph = model.graph;
  if (!graph) throw new Error('ONNX model has no graph');
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name));
  if (inputs.length !== 1) {
    throw new Error(
      `expected an image model with one input, found ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`,
    );
  }
  const input = inputs[0]!;
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const [n, c, h, w] = dims.map(dimValue);
  if (dims.length !== 4 || !c || !h || !w) {
    throw new Error(
      `model input ${input.name} must be NCHW with known C, H, W; got [${dims
        .map((d) => dimValue(d) ?? d.dimParam ?? '?')
        .join(', ')}]`,
    );
  }
  return { name: input.name ?? 'input', channels: c, height: h, width: w, fixedBatch: n ?? null };
}

/** Every tensor a node produces: the names `--layers` may use. */
export function producedTensors(model: IModelProto): string[] {
  return (model.graph?.node ?? []).flatMap((node) => node.output ?? []).filter((name) => name.length > 0);
}

/** Fails, listing valid names, if a requested layer is not a tensor the model computes. */
export function assertKnownTensors(model: IModelProto, tensors: readonly string[]): void {
  const produced = new Set(producedTensors(model));
  const unknown = tensors.filter((t) => !produced.has(t));
  if (unknown.length > 0) {
    throw new Error(
      `unknown layer ${unknown.map((u) => JSON.stringify(u)).join(', ')}; run \`pure layers <model>\` for candidates. ` +
        `Valid tensor names include: ${[...produced].slice(0, 40).join(', ')}${produced.size > 40 ? ', ...' : ''}`,
    );
  }
}

/**
 * A copy of the model whose graph also outputs the given intermediate tensors. Unknown names fail with
 * the list of valid ones, so a typo never costs a sweep.
 */
export function withExtraOutputs(model: IModelProto, tensors: readonly string[]): ModelProto {
  assertKnownTensors(model, tensors);
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const graph = copy.graph!;
  graph.output ??= [];
  const existing = new Set(graph.output.map((o) => o.name));
  for (const name of tensors) {
    if (existing.has(name)) continue;
    graph.output.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: ELEM_FLOAT } } }));
  }
  return copy;
}
