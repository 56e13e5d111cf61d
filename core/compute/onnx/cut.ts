/**
 * The sub-graph between two tensors: everything needed to compute `upper` from `lower`. Any other
 * image-dependent tensor it reads (a skip connection from below `lower`, say) becomes a side input,
 * fed from the forward pass and carrying no gradient. Constants stay constants.
 */
import { type GraphIndex, type NodeProto, suggestNames } from './model.js';

export interface Cut {
  readonly lower: string;
  readonly upper: string;
  /** The nodes of the sub-graph, in graph (topological) order. */
  readonly nodes: readonly NodeProto[];
  /** Image-dependent tensors the sub-graph reads that do not depend on `lower`. */
  readonly sideInputs: readonly string[];
  /** Initializers the sub-graph reads. */
  readonly initializers: readonly string[];
}

/**
 * @param dependent tensors whose value depends on the graph inputs (default: everything downstream
 *   of them); anything else a node computes is a constant and is computed inside the cut.
 */
export function cutGraph(
  index: GraphIndex,
  lower: string,
  upper: string,
  dependent?: ReadonlySet<string>,
): Cut {
  const imageDependent = dependent ?? index.downstream(index.inputs.map((i) => i.name ?? ''));
  for (const [role, name] of [
    ['lower', lower],
    ['upper', upper],
  ] as const) {
    if (!index.has(name)) {
      const candidates = [...imageDependent].filter((t) => index.producer.has(t));
      throw new Error(
        `${role} tensor '${name}' is not in the model; candidates: ${suggestNames(name, candidates)}`,
      );
    }
  }
  if (lower === upper)
    throw new Error(`lower and upper tensor are the same ('${lower}'); a cut needs two layers`);
  const belowLower = index.downstream([lower]);
  if (!belowLower.has(upper)) {
    throw new Error(
      `tensor '${upper}' (upper) is not downstream of '${lower}' (lower): no path leads from the lower ` +
        'layer to the upper one; swap them or pick layers in forward order',
    );
  }

  const nodeIndices = new Set<number>();
  const sideInputs = new Set<string>();
  const initializers = new Set<string>();
  const stack = [upper];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name) || name === lower || name === '') continue;
    seen.add(name);
    if (index.initializers.has(name)) {
      initializers.add(name);
      continue;
    }
    const fromLower = belowLower.has(name);
    if (!fromLower && imageDependent.has(name)) {
      sideInputs.add(name);
      continue;
    }
    const producer = index.producer.get(name);
    if (producer === undefined) {
      throw new Error(
        `tensor '${name}' needed between '${lower}' and '${upper}' has no producer and no value`,
      );
    }
    nodeIndices.add(producer);
    for (const input of index.nodes[producer]!.input ?? []) stack.push(input);
  }
  return {
    lower,
    upper,
    nodes: [...nodeIndices].sort((a, b) => a - b).map((i) => index.nodes[i]!),
    sideInputs: [...sideInputs],
    initializers: [...initializers],
  };
}

/** The nodes needed to compute `outputs` from the graph inputs (for the truncated forward model). */
export function ancestorsOf(index: GraphIndex, outputs: readonly string[]): NodeProto[] {
  const nodeIndices = new Set<number>();
  const stack = [...outputs];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name) || name === '') continue;
    seen.add(name);
    const producer = index.producer.get(name);
    if (producer === undefined) {
      if (!index.has(name)) throw new Error(`tensor '${name}' is not in the model`);
      continue;
    }
    nodeIndices.add(producer);
    for (const input of index.nodes[producer]!.input ?? []) stack.push(input);
  }
  return [...nodeIndices].sort((a, b) => a - b).map((i) => index.nodes[i]!);
}
