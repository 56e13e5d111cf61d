/**
 * The graph walker: given forward nodes, a seed gradient for one tensor and the tensors whose
 * gradients are wanted, it emits the backward graph. It owns the work every rule would otherwise
 * repeat: pruning to the nodes on differentiable paths between the two, visiting them in reverse
 * topological order, summing gradients where a tensor fans out, and reducing broadcast gradients
 * back to input shapes.
 */

import { GraphIndex, type NodeProto, type TensorProto } from '../onnx/model.js';
import { type Tensor, tensorFromProto } from '../onnx/tensor.js';
import type { Dim, TensorInfo } from '../onnx/tensor-info.js';
import { Emitter, FLOAT } from './emitter.js';
import {
  type AdjointContext,
  BACKWARD_RULES,
  type BackwardRule,
  type Formula,
  isGradientSlot,
  type LocalDerivative,
  ruleFor,
  type Slot,
  slotsOf,
} from './rules.js';

export interface BackwardRequest {
  /** Forward nodes in topological order (a cut, or a whole graph). */
  readonly nodes: readonly NodeProto[];
  /** Initializers the forward nodes read (for constant inputs such as Slice starts). */
  readonly initializers: ReadonlyMap<string, TensorProto>;
  /** Shapes and element types of the forward tensors. */
  readonly info: ReadonlyMap<string, TensorInfo>;
  /**
   * Where the backward pass starts: forward tensors and the names of their seed gradients (same
   * shape, computed by the caller's nodes or fed as inputs).
   */
  readonly seeds: readonly {
    readonly tensor: string;
    readonly gradient: string;
    /** An int64 [B] tensor when the seed is zero outside that channel (axis 1) of each row. */
    readonly channel?: string;
  }[];
  /** Tensors whose gradients are wanted. */
  readonly wrt: readonly string[];
  readonly opset: number;
  /** Per-node rule choice (LRP composites); default: the gradient table. */
  readonly ruleOf?: (node: NodeProto) => BackwardRule;
  /** Prefix of emitted tensor names. */
  readonly prefix?: string;
}

export interface BackwardGraph {
  readonly nodes: NodeProto[];
  readonly initializers: TensorProto[];
  /** Gradient tensor name per `wrt` tensor (zeros when no differentiable path reaches it). */
  readonly gradients: ReadonlyMap<string, string>;
  /** `wrt` tensors no differentiable path connects to a seed. */
  readonly unreached: readonly string[];
}

export function isFloatType(elemType: number | undefined): boolean {
  return elemType === 1 || elemType === 10 || elemType === 11 || elemType === 16;
}

/**
 * Prune to the differentiable paths, seed the gradient sums, visit the path's nodes in reverse
 * topological order applying each node's rule, then read off the wanted tensors' gradients.
 */
export function buildBackward(request: BackwardRequest): BackwardGraph {
  const ruleOf = request.ruleOf ?? ((node: NodeProto) => ruleFor(node, BACKWARD_RULES));
  const emit = new Emitter(request.prefix ?? 'grad/');
  const tensors = new ForwardTensors(request.info, request.initializers);
  const crosses: EdgeTest = (node, k) => isDifferentiableEdge(node, k, ruleOf, tensors);
  const path = differentiablePaths(request, crosses, tensors);
  const sums = new GradientSums(emit);
  for (const seed of request.seeds) sums.add(seed.tensor, seed.gradient, seed.channel);
  const walk: Walk = { emit, opset: request.opset, tensors, sums, onPath: path.onPath, crosses };
  for (const node of path.nodes) propagateThroughNode(node, ruleOf(node), walk);
  const { gradients, unreached } = collectGradients(request.wrt, sums, emit);
  return { nodes: emit.nodes, initializers: emit.initializers, gradients, unreached };
}

/** Whether a gradient may cross from a node's outputs into its input k. */
type EdgeTest = (node: NodeProto, k: number) => boolean;

/**
 * What the walker knows about forward tensors: shapes and element types (probed), and the values of
 * initializers, decoded once each because several rules of one graph may read the same constant.
 */
class ForwardTensors {
  private readonly decoded = new Map<string, Tensor>();

  constructor(
    private readonly info: ReadonlyMap<string, TensorInfo>,
    private readonly initializers: ReadonlyMap<string, TensorProto>,
  ) {}

  isFloat(name: string): boolean {
    return isFloatType(this.info.get(name)?.elemType);
  }

  dims(name: string): readonly Dim[] {
    const found = this.info.get(name);
    if (!found) throw new Error(`backward: no shape known for tensor '${name}'`);
    return found.dims;
  }

  constant(name: string): Tensor | undefined {
    const proto = this.initializers.get(name);
    if (!proto) return undefined;
    let value = this.decoded.get(name);
    if (!value) {
      value = tensorFromProto(proto);
      this.decoded.set(name, value);
    }
    return value;
  }
}

/**
 * Edges a gradient may cross: into a float input the rule does not mark as non-differentiable.
 * Ops without a rule count as differentiable so that, if they lie on a path, we fail loudly.
 */
function isDifferentiableEdge(
  node: NodeProto,
  k: number,
  ruleOf: (node: NodeProto) => BackwardRule,
  tensors: ForwardTensors,
): boolean {
  const name = node.input?.[k] ?? '';
  if (name === '' || !tensors.isFloat(name)) return false;
  let rule: BackwardRule;
  try {
    rule = ruleOf(node);
  } catch {
    return true;
  }
  const slot = slotsOf(rule, node)[k];
  return slot === undefined || typeof slot === 'function' || slot.gradient === 'unsupported';
}

/**
 * The tensors and nodes on differentiable paths from the wanted tensors to the seeds: forward reach
 * from `wrt`, then backward reach from the seeds within it. Only these nodes get adjoints, so the
 * backward graph holds no work whose result nothing reads. Nodes come in reverse topological order,
 * the order the walker visits them.
 */
function differentiablePaths(
  request: BackwardRequest,
  crosses: EdgeTest,
  tensors: ForwardTensors,
): { onPath: Set<string>; nodes: NodeProto[] } {
  const { nodes } = request;
  const forward = new Set<string>(request.wrt);
  for (const node of nodes) {
    const hit = (node.input ?? []).some((name, k) => forward.has(name) && crosses(node, k));
    if (hit) for (const out of node.output ?? []) if (out && tensors.isFloat(out)) forward.add(out);
  }
  const onPath = new Set<string>();
  for (const seed of request.seeds) if (forward.has(seed.tensor)) onPath.add(seed.tensor);
  const pathNodes: NodeProto[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (!(node.output ?? []).some((o) => onPath.has(o))) continue;
    let used = false;
    (node.input ?? []).forEach((name, k) => {
      if (forward.has(name) && crosses(node, k)) {
        onPath.add(name);
        used = true;
      }
    });
    if (used) pathNodes.push(node);
  }
  return { onPath, nodes: pathNodes };
}

/**
 * The gradient contributions each forward tensor has received, summed when first read (a tensor
 * that fans out gets one contribution per consumer), and which gradient tensors are known to be
 * zero outside one channel per row (name -> the int64 [B] channel), for `gradChannel`.
 */
class GradientSums {
  private readonly contributions = new Map<string, string[]>();
  private readonly oneChannel = new Map<string, string>();

  constructor(private readonly emit: Emitter) {}

  add(tensor: string, grad: string, channel?: string): void {
    const list = this.contributions.get(tensor);
    if (list) list.push(grad);
    else this.contributions.set(tensor, [grad]);
    if (channel) this.oneChannel.set(grad, channel);
  }

  /** The summed gradient of `tensor` (one Sum node, emitted once), undefined when none arrived. */
  total(tensor: string): string | undefined {
    const list = this.contributions.get(tensor);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0]!;
    const sum = this.emit.op('Sum', list);
    // The sum keeps the one-channel zeros only when every summand has them, on the same channel.
    const channels = new Set(list.map((g) => this.oneChannel.get(g)));
    const [channel] = channels;
    if (channels.size === 1 && channel !== undefined) this.oneChannel.set(sum, channel);
    this.contributions.set(tensor, [sum]);
    return sum;
  }

  /** The channel tensor when `grad` is zero outside one channel per row. */
  channelOf(grad: string): string | undefined {
    return this.oneChannel.get(grad);
  }
}

/** What visiting one node reads and writes: shared by every node of one backward pass. */
interface Walk {
  readonly emit: Emitter;
  readonly opset: number;
  readonly tensors: ForwardTensors;
  readonly sums: GradientSums;
  /** Tensors on a differentiable path (`differentiablePaths`). */
  readonly onPath: ReadonlySet<string>;
  readonly crosses: EdgeTest;
}

/** Apply a node's rule to each of its inputs on the path, adding each result to that input's sum. */
function propagateThroughNode(node: NodeProto, rule: BackwardRule, walk: Walk): void {
  const slots = slotsOf(rule, node);
  const ctx = adjointContext(node, walk);
  (node.input ?? []).forEach((name, k) => {
    if (!walk.onPath.has(name) || !walk.crosses(node, k)) return;
    const grad = applySlot(rule, gradientSlot(node, slots, k), ctx, k);
    const channel = ctx.gradChannel();
    walk.sums.add(name, grad, channel && keepsChannels(node, rule, k, walk.tensors) ? channel : undefined);
  });
}

/** The formula for input k, or an error saying why the rule has none for an input on the path. */
function gradientSlot(
  node: NodeProto,
  slots: readonly Slot<Formula | LocalDerivative>[],
  k: number,
): Formula | LocalDerivative {
  const name = node.input![k]!;
  const slot = slots[k];
  if (slot === undefined) {
    throw new Error(
      `backward rule for ${GraphIndex.describe(node)} declares no gradient for input ${k} ('${name}')`,
    );
  }
  if (!isGradientSlot(slot)) {
    throw new Error(
      `node ${GraphIndex.describe(node)}: input ${k} ('${name}') lies on the path being differentiated, ` +
        `but its gradient is not implemented (${slot.why})`,
    );
  }
  return slot;
}

/** Whether input k's gradient keeps the output gradient's one-channel-per-row zeros. */
function keepsChannels(node: NodeProto, rule: BackwardRule, k: number, tensors: ForwardTensors): boolean {
  if (rule.channelwise) return k === 0;
  if (rule.kind !== 'elementwise' || (node.output ?? []).length !== 1) return false;
  // Elementwise: the same rank and channel count as the output means no channel is summed in.
  const input = tensors.dims(node.input![k]!);
  const output = tensors.dims(node.output![0]!);
  return input.length === output.length && input.length >= 2 && input[1] === output[1];
}

/**
 * The context a rule reads for one node. A plain object of closures, not a class: LRP rules derive
 * modified contexts from it by spreading (lrp.ts, `modified`), which would drop class methods.
 */
function adjointContext(node: NodeProto, walk: Walk): AdjointContext {
  const { emit, tensors, sums } = walk;
  const describe = GraphIndex.describe(node);
  const outputs = node.output ?? [];
  const dims = (name: string) => tensors.dims(name);
  const ctx: AdjointContext = {
    node,
    emit,
    opset: walk.opset,
    input: (k) => {
      const name = node.input?.[k];
      if (!name) throw new Error(`node ${describe}: input ${k} is absent`);
      return name;
    },
    output: (k) => {
      const name = outputs[k];
      if (!name) throw new Error(`node ${describe}: output ${k} is absent`);
      return name;
    },
    hasInput: (k) => (node.input?.[k] ?? '') !== '',
    gradOutput: (k = 0) => sums.total(outputs[k] ?? '') ?? emit.zerosLike(ctx.output(k)),
    reached: (k) => sums.total(outputs[k] ?? '') !== undefined,
    gradChannel: () => {
      const grad = sums.total(outputs[0] ?? '');
      return grad === undefined || outputs.length !== 1 ? undefined : sums.channelOf(grad);
    },
    dims,
    fixedDim: (name, axis) => {
      const d = dims(name)[axis];
      if (typeof d !== 'number') {
        throw new Error(
          `node ${describe}: dimension ${axis} of '${name}' follows the batch; this rule needs it fixed`,
        );
      }
      return d;
    },
    constant: (name) => tensors.constant(name),
    sumToInput: (grad, gradDims, k) => sumToShape(emit, grad, gradDims, dims(ctx.input(k))),
    fail: (message) => new Error(`node ${describe}: ${message}`),
  };
  return ctx;
}

/** Each wanted tensor's summed gradient, zeros (and listed as unreached) when none arrived. */
function collectGradients(
  wrt: readonly string[],
  sums: GradientSums,
  emit: Emitter,
): Pick<BackwardGraph, 'gradients' | 'unreached'> {
  const gradients = new Map<string, string>();
  const unreached: string[] = [];
  for (const name of wrt) {
    const sum = sums.total(name);
    if (sum === undefined) unreached.push(name);
    gradients.set(name, sum ?? emit.zerosLike(name));
  }
  return { gradients, unreached };
}

/** A formula's result, or for an elementwise rule the output gradient times the local derivative. */
function applySlot(
  rule: BackwardRule,
  slot: Formula | LocalDerivative,
  ctx: AdjointContext,
  k: number,
): string {
  switch (rule.kind) {
    case 'linear':
    case 'adjoint':
      return (slot as Formula)(ctx);
    case 'elementwise': {
      const derivative = (slot as LocalDerivative)(ctx);
      const grad = ctx.gradOutput();
      const local =
        derivative === 1
          ? grad
          : derivative === -1
            ? ctx.emit.op('Neg', [grad])
            : ctx.emit.op('Mul', [grad, derivative]);
      return ctx.sumToInput(local, ctx.dims(ctx.output(0)), k);
    }
    default: {
      const never: never = rule;
      throw new Error(`unknown rule kind ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Sum a gradient of shape `from` down to shape `to` under numpy broadcasting: leading axes `to`
 * lacks are summed away, axes where `to` has 1 and `from` does not are summed keeping the axis.
 */
export function sumToShape(emit: Emitter, grad: string, from: readonly Dim[], to: readonly Dim[]): string {
  const lead = from.length - to.length;
  if (lead < 0) throw new Error(`cannot reduce a rank-${from.length} gradient to rank ${to.length}`);
  const axes: number[] = [];
  for (let a = 0; a < from.length; a++) {
    if (a < lead) axes.push(a);
    else if (to[a - lead] === 1 && from[a] !== 1) axes.push(a);
  }
  if (axes.length === 0) return grad;
  let out = emit.op('ReduceSum', [grad, emit.int64(axes)], { keepdims: 1 });
  if (lead > 0) out = emit.op('Squeeze', [out, emit.int64(Array.from({ length: lead }, (_, a) => a))]);
  return out;
}

export { FLOAT };
