/**
 * A float64-capable reference interpreter for ONNX graphs: the independent computation the attribution
 * engine is checked against, and the evaluator for constant folding. Ops live in a table keyed by op
 * type; evaluation computes only what the requested outputs need.
 */
import type onnxProto from 'onnx-proto';
import { type Tensor, tensorFromProto, toFloat64 } from '../../../core/compute/onnx/tensor.js';
import { convOps } from './conv.js';
import { binaryOps, otherElementwiseOps, unaryOps } from './elementwise.js';
import { generatorOps } from './generators.js';
import { indexingOps } from './indexing.js';
import { linalgOps } from './linalg.js';
import { normalizeOps } from './normalize.js';
import { poolOps } from './pool.js';
import { reduceOps } from './reduce.js';
import { resizeOps } from './resize.js';
import { shapeOps } from './shape.js';
import { describe, type OpContext, type OpImpl } from './util.js';

export { castTensor } from './elementwise.js';
export { broadcastMap, broadcastShapes, broadcastTo, reduceToShape } from './util.js';
export type { OpContext, OpImpl };

export interface EvaluateOptions {
  /** Promote every float32 initializer, feed and constant to float64 and do all float math in float64. */
  float64?: boolean;
}

const ops: Readonly<Record<string, OpImpl>> = {
  ...unaryOps,
  ...binaryOps,
  ...otherElementwiseOps,
  ...convOps,
  ...poolOps,
  ...linalgOps,
  ...shapeOps,
  ...indexingOps,
  ...reduceOps,
  ...generatorOps,
  ...normalizeOps,
  ...resizeOps,
};

export const supportedOps: readonly string[] = Object.keys(ops).sort();

function promote(t: Tensor, ctx: OpContext): Tensor {
  return ctx.float64 && t.dtype === 'float32' ? toFloat64(t) : t;
}

/**
 * Run one node. `inputs` follow node.input (undefined for '' inputs); the result follows node.output
 * (optional outputs the op does not produce are left out at the end).
 */
export function evaluateNode(
  node: onnxProto.onnx.INodeProto,
  inputs: readonly (Tensor | undefined)[],
  options: EvaluateOptions = {},
): Tensor[] {
  const ctx: OpContext = { float64: options.float64 ?? false };
  const domain = node.domain ?? '';
  const impl = domain === '' || domain === 'ai.onnx' ? ops[node.opType ?? ''] : undefined;
  if (!impl) {
    throw new Error(
      `${describe(node)}: unsupported op${domain ? ` in domain '${domain}'` : ''}; supported: ${supportedOps.join(', ')}`,
    );
  }
  const outs = impl(
    node,
    inputs.map((t) => (t ? promote(t, ctx) : t)),
    ctx,
  );
  return outs.map((t) => promote(t, ctx));
}

/**
 * Evaluate `outputs` of the graph. Feeds take precedence over initializers and over the nodes that
 * produce a tensor, so feeding an intermediate tensor evaluates the sub-graph after it.
 */
export function evaluate(
  graph: onnxProto.onnx.IGraphProto,
  feeds: Record<string, Tensor>,
  outputs: readonly string[],
  options: EvaluateOptions = {},
): Record<string, Tensor> {
  const ctx: OpContext = { float64: options.float64 ?? false };
  const values = new Map<string, Tensor>();
  for (const [name, t] of Object.entries(feeds)) values.set(name, promote(t, ctx));
  const initializers = new Map<string, onnxProto.onnx.ITensorProto>();
  for (const t of graph.initializer ?? []) initializers.set(t.name ?? '', t);
  const producers = new Map<string, onnxProto.onnx.INodeProto>();
  for (const node of graph.node ?? []) for (const o of node.output ?? []) if (o) producers.set(o, node);

  const done = new Set<onnxProto.onnx.INodeProto>();
  const onStack = new Set<onnxProto.onnx.INodeProto>();
  /** Make `name` available, evaluating its producer (and, iteratively, their inputs) as needed. */
  const need = (root: string): void => {
    const stack: onnxProto.onnx.INodeProto[] = [];
    const resolveName = (name: string): onnxProto.onnx.INodeProto | undefined => {
      if (values.has(name)) return undefined;
      const init = initializers.get(name);
      if (init) {
        values.set(name, promote(tensorFromProto(init), ctx));
        return undefined;
      }
      const node = producers.get(name);
      if (!node) throw new Error(`tensor '${name}' is not fed, not an initializer, and no node produces it`);
      return node;
    };
    const first = resolveName(root);
    if (first) stack.push(first);
    while (stack.length > 0) {
      const node = stack[stack.length - 1]!;
      if (done.has(node)) {
        stack.pop();
        continue;
      }
      onStack.add(node);
      let ready = true;
      for (const input of node.input ?? []) {
        if (!input) continue;
        const dep = resolveName(input);
        if (!dep || done.has(dep)) continue;
        if (onStack.has(dep)) throw new Error(`${describe(node)}: the graph has a cycle through '${input}'`);
        stack.push(dep);
        ready = false;
      }
      if (!ready) continue;
      const ins = (node.input ?? []).map((i) => (i ? values.get(i) : undefined));
      const outs = evaluateNode(node, ins, options);
      (node.output ?? []).forEach((name, i) => {
        const t = outs[i];
        if (name && t && !values.has(name)) values.set(name, t);
      });
      done.add(node);
      onStack.delete(node);
      stack.pop();
    }
  };

  const result: Record<string, Tensor> = {};
  for (const name of outputs) {
    need(name);
    const t = values.get(name);
    if (!t)
      throw new Error(`tensor '${name}' was not produced (an optional output the op does not compute?)`);
    result[name] = t;
  }
  return result;
}
