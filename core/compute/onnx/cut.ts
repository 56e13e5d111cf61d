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
  checkCutEnds(index, lower, upper, imageDependent);
  const downstreamOfLower = index.downstream([lower]);
  if (!downstreamOfLower.has(upper)) {
    throw new Error(
      `tensor '${upper}' (upper) is not downstream of '${lower}' (lower): no path leads from the lower ` +
        'layer to the upper one; swap them or pick layers in forward order',
    );
  }
  return { lower, upper, ...walkBackFromUpper(index, lower, upper, downstreamOfLower, imageDependent) };
}

/** Both ends must be tensors of the model, and distinct; a missing name gets suggestions. */
function checkCutEnds(
  index: GraphIndex,
  lower: string,
  upper: string,
  imageDependent: ReadonlySet<string>,
): void {
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
}

/**
 * Walks the producers back from `upper`, stopping at `lower`, at initializers, and at image-dependent
 * tensors that do not come from `lower` (side inputs). Constants computed by nodes are walked through,
 * so the cut computes them itself.
 */
function walkBackFromUpper(
  index: GraphIndex,
  lower: string,
  upper: string,
  downstreamOfLower: ReadonlySet<string>,
  imageDependent: ReadonlySet<string>,
): Pick<Cut, 'nodes' | 'sideInputs' | 'initializers'> {
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
    if (!downstreamOfLower.has(name) && imageDependent.has(name)) {
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
