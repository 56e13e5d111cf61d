/**
 * Constant folding: every tensor whose value does not depend on the graph inputs (the exporter's
 * shape arithmetic: Constant, ConstantOfShape, Concat, Reshape, Transpose, Cast on small int64
 * tensors feeding Slice/Pad in the CIFAR ResNets' option-A shortcut) becomes an initializer, and the
 * nodes that computed it disappear.
 *
 * The batch axis. `Shape(x)` of an image-dependent `x` is folded when the shape probe found every
 * dimension of `x` fixed (i.e. none follows the batch): its value is then the same for every input.
 * A shape that contains the batch axis is not constant; such a chain (Shape -> Gather -> Concat ->
 * Reshape, as exporters emit for `x.view(x.size(0), -1)`) stays in the graph and is recomputed at
 * run time, as integer tensors without gradient, so one folded model serves every batch size.
 * Values are computed by onnxruntime itself (one run with the constants as outputs), so every op
 * onnxruntime can run can be folded.
 */
import { GraphIndex, graphOf, type ModelProto, type NodeProto, onnx } from '../../compute/onnx/model.js';
import { tensorToProto } from '../../compute/onnx/tensor.js';
import { type Probe, type ProbeOptions, probeModel } from './shapes.js';

export interface FoldedModel {
  readonly model: ModelProto;
  /** Shapes and types of every tensor of the folded model. */
  readonly probe: Probe;
  /** How many nodes folding removed. */
  readonly removedNodes: number;
}

/** Tensors whose value depends on the graph inputs, given the probed shapes. */
export function inputDependentTensors(index: GraphIndex, probe: Probe): Set<string> {
  const roots = index.inputs.map((i) => i.name ?? '');
  return index.downstream(roots, (node) => !(node.opType === 'Shape' && shapeIsStatic(node, probe)));
}

function shapeIsStatic(node: NodeProto, probe: Probe): boolean {
  const input = node.input?.[0];
  const info = input ? probe.info.get(input) : undefined;
  return info?.dims.every((d) => d !== 'N') ?? false;
}

export async function foldConstants(model: ModelProto, options: ProbeOptions = {}): Promise<FoldedModel> {
  const graph = graphOf(model);
  const index = new GraphIndex(graph);
  const shapes = await probeModel(model, options);
  const dependent = inputDependentTensors(index, shapes);
  const keptNodes = index.nodes.filter((n) => (n.output ?? []).some((o) => dependent.has(o)));
  const removedNodes = index.nodes.length - keptNodes.length;

  // Constants that the remaining nodes (or the graph outputs) read, and that some node computes.
  const needed = new Set<string>();
  const wants = (name: string) => {
    if (name && !dependent.has(name) && index.producer.has(name)) needed.add(name);
  };
  for (const node of keptNodes) for (const name of node.input ?? []) wants(name);
  for (const out of graph.output ?? []) wants(out.name ?? '');

  const values =
    needed.size === 0 ? new Map() : (await probeModel(model, { ...options, keepValues: needed })).values;
  const folded = [...needed].map((name) => {
    const value = values.get(name);
    if (!value) throw new Error(`constant folding: onnxruntime returned no value for '${name}'`);
    return tensorToProto(name, value);
  });
  const read = new Set<string>();
  for (const node of keptNodes) for (const name of node.input ?? []) read.add(name);
  for (const out of graph.output ?? []) read.add(out.name ?? '');
  const initializers = [...(graph.initializer ?? []).filter((t) => read.has(t.name ?? '')), ...folded];
  const initializerNames = new Set(initializers.map((t) => t.name ?? ''));

  const foldedModel = onnx.ModelProto.create({
    ...model,
    graph: {
      ...graph,
      node: keptNodes,
      initializer: initializers,
      // Inputs that were only defaults for initializers we dropped go too.
      input: (graph.input ?? []).filter(
        (i) => !index.initializers.has(i.name ?? '') || initializerNames.has(i.name ?? ''),
      ),
      valueInfo: (graph.valueInfo ?? []).filter((v) => dependent.has(v.name ?? '')),
    },
  });
  const probe: Probe = {
    info: new Map([...shapes.info].filter(([name]) => dependent.has(name) || initializerNames.has(name))),
    values: new Map(),
  };
  return { model: foldedModel, probe, removedNodes };
}
