/**
 * The graph walker: given forward nodes, a seed gradient for one tensor and the tensors whose
 * gradients are wanted, it emits the backward graph. It owns the work every rule would otherwise
 * repeat: pruning to the nodes on differentiable paths between the two, visiting them in reverse
 * topological order, summing gradients where a tensor fans out, and reducing broadcast gradients
 * back to input shapes.
 */

import type { Dim, TensorInfo } from '../../adapters/onnxruntime/shapes.js';
import { GraphIndex, type NodeProto, type TensorProto } from '../onnx/model.js';
import { type Tensor, tensorFromProto } from '../onnx/tensor.js';
import { Emitter, FLOAT } from './emitter.js';
import {
  type AdjointContext,
  BACKWARD_RULES,
  type BackwardRule,
  type Formula,
  isGradientSlot,
  type LocalDerivative,
  ruleFor,
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

export function buildBackward(request: BackwardRequest): BackwardGraph {
  const ruleOf = request.ruleOf ?? ((node: NodeProto) => ruleFor(node, BACKWARD_RULES));
  const emit = new Emitter(request.prefix ?? 'grad/');
  const { nodes, info } = request;
  const floatTensor = (name: string) => isFloatType(info.get(name)?.elemType);

  // Edges a gradient may cross: into a float input the rule does not mark as non-differentiable.
  // Ops without a rule count as differentiable so that, if they lie on a path, we fail loudly.
  const knownRule = (node: NodeProto): BackwardRule | undefined => {
    try {
      return ruleOf(node);
    } catch {
      return undefined;
    }
  };
  const differentiable = (node: NodeProto, k: number): boolean => {
    const name = node.input?.[k] ?? '';
    if (name === '' || !floatTensor(name)) return false;
    const rule = knownRule(node);
    if (!rule) return true;
    const slot = slotsOf(rule, node)[k];
    return slot === undefined || typeof slot === 'function' || slot.gradient === 'unsupported';
  };

  // Forward reach from the wanted tensors, then backward reach from `from`, both along
  // differentiable edges: what remains are the tensors on paths between them.
  const forward = new Set<string>(request.wrt);
  for (const node of nodes) {
    const hit = (node.input ?? []).some((name, k) => forward.has(name) && differentiable(node, k));
    if (hit) for (const out of node.output ?? []) if (out && floatTensor(out)) forward.add(out);
  }
  const onPath = new Set<string>();
  for (const seed of request.seeds) if (forward.has(seed.tensor)) onPath.add(seed.tensor);
  const pathNodes: NodeProto[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (!(node.output ?? []).some((o) => onPath.has(o))) continue;
    let used = false;
    (node.input ?? []).forEach((name, k) => {
      if (forward.has(name) && differentiable(node, k)) {
        onPath.add(name);
        used = true;
      }
    });
    if (used) pathNodes.push(node);
  }

  const contributions = new Map<string, string[]>();
  const add = (tensor: string, grad: string) => {
    const list = contributions.get(tensor);
    if (list) list.push(grad);
    else contributions.set(tensor, [grad]);
  };
  // Gradient tensors known to be zero outside one channel per row: name -> the int64 [B] channel.
  const oneChannel = new Map<string, string>();
  const total = (tensor: string): string | undefined => {
    const list = contributions.get(tensor);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0]!;
    const sum = emit.op('Sum', list);
    const channels = new Set(list.map((g) => oneChannel.get(g)));
    const [channel] = channels;
    if (channels.size === 1 && channel !== undefined) oneChannel.set(sum, channel);
    contributions.set(tensor, [sum]);
    return sum;
  };
  for (const seed of request.seeds) {
    add(seed.tensor, seed.gradient);
    if (seed.channel) oneChannel.set(seed.gradient, seed.channel);
  }
  /** Whether input k's gradient keeps the output gradient's one-channel-per-row zeros. */
  const keepsChannels = (node: NodeProto, rule: BackwardRule, k: number): boolean => {
    if (rule.channelwise) return k === 0;
    if (rule.kind !== 'elementwise' || (node.output ?? []).length !== 1) return false;
    // Elementwise: the same rank and channel count as the output means no channel is summed in.
    const input = dims(node.input![k]!);
    const output = dims(node.output![0]!);
    return input.length === output.length && input.length >= 2 && input[1] === output[1];
  };

  const constants = new Map<string, Tensor>();
  const constant = (name: string): Tensor | undefined => {
    const proto = request.initializers.get(name);
    if (!proto) return undefined;
    let value = constants.get(name);
    if (!value) {
      value = tensorFromProto(proto);
      constants.set(name, value);
    }
    return value;
  };
  const dims = (name: string): readonly Dim[] => {
    const found = info.get(name);
    if (!found) throw new Error(`backward: no shape known for tensor '${name}'`);
    return found.dims;
  };

  // pathNodes is in reverse topological order already.
  for (const node of pathNodes) {
    const rule = ruleOf(node);
    const slots = slotsOf(rule, node);
    const describe = GraphIndex.describe(node);
    const outputs = node.output ?? [];
    const ctx: AdjointContext = {
      node,
      emit,
      opset: request.opset,
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
      gradOutput: (k = 0) => {
        const name = outputs[k] ?? '';
        return total(name) ?? emit.zerosLike(ctx.output(k));
      },
      gradChannel: () => {
        const grad = total(outputs[0] ?? '');
        return grad === undefined || outputs.length !== 1 ? undefined : oneChannel.get(grad);
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
      constant,
      sumToInput: (grad, gradDims, k) => sumToShape(emit, grad, gradDims, dims(ctx.input(k))),
      fail: (message) => new Error(`node ${describe}: ${message}`),
    };
    (node.input ?? []).forEach((name, k) => {
      if (!onPath.has(name) || !differentiable(node, k)) return;
      const slot = slots[k];
      if (slot === undefined) {
        throw new Error(`backward rule for ${describe} declares no gradient for input ${k} ('${name}')`);
      }
      if (!isGradientSlot(slot)) {
        throw new Error(
          `node ${describe}: input ${k} ('${name}') lies on the path being differentiated, ` +
            `but its gradient is not implemented (${slot.why})`,
        );
      }
      const grad = applySlot(rule, slot, ctx, k);
      const channel = ctx.gradChannel();
      if (channel && keepsChannels(node, rule, k)) oneChannel.set(grad, channel);
      add(name, grad);
    });
  }

  const gradients = new Map<string, string>();
  const unreached: string[] = [];
  for (const name of request.wrt) {
    const sum = total(name);
    if (sum === undefined) unreached.push(name);
    gradients.set(name, sum ?? emit.zerosLike(name));
  }
  return { nodes: emit.nodes, initializers: emit.initializers, gradients, unreached };
}

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
