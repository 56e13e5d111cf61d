/**
 * Candidate layers for PURE: the block outputs the paper studies come first, then every other
 * image-dependent 4-D float activation, each in graph order. Block outputs, by structure alone (no
 * names, so any exporter's graph works):
 *
 * - the residual stream after each transformer block [N, T, D] and the token embedding before the
 *   first (kinds `token-block`, `embedding`);
 * - a Relu after an Add (ResNet blocks);
 * - a residual Add with no Relu after it: two different image-dependent inputs of the output's shape
 *   (MobileNetV3 and EfficientNet inverted residuals, whose last conv is linear; ConvNeXt blocks, NCHW
 *   after the permute back). Blocks without a skip connection (the first of a stage that changes
 *   width or resolution) are not recognised; they are listed as activations;
 * - a channel Concat of Relu outputs (SqueezeNet Fire modules, kind `fire`);
 * - the channel Concat that ends a DenseNet dense block: each dense layer reads the Concat of everything
 *   before it, so the block is a chain of Concats, each extending the inputs of the one before; its end
 *   extends another Concat and no Concat extends it (a lone Concat, as a U-Net's skip, is no block);
 *   and a dense block's input, its Concats' first input, when it is computed from an earlier dense
 *   block's end (a transition output; the first block's input is the stem's, not a block output).
 */

import { ancestorsOf } from '../onnx/cut.js';
import type { GraphIndex, NodeProto } from '../onnx/model.js';
import type { Dim } from '../onnx/tensor-info.js';
import { isFloatType } from './backward.js';
import type { PreparedModel } from './prepared.js';

/**
 * `token-block`: a pre-LN transformer block's output [N, T, D], the residual Add after its MLP (the
 * residual Add whose branch has no Softmax; the one after attention has). `embedding`: the tokens the
 * first block reads (patch embedding + class token + position), the lower layer of block 0.
 */
export type LayerKind = 'block' | 'fire' | 'token-block' | 'embedding' | 'activation';

export interface LayerInfo {
  /** The tensor name (what `lower` / `upper` take). */
  readonly name: string;
  readonly kind: LayerKind;
  /** Op type of the node that writes it. */
  readonly producer: string;
  readonly channels: number;
  /** [N, C, H, W] (or [N, T, D] for token layers) with the batch as 'N'. */
  readonly dims: readonly Dim[];
}

export function layersOf(prepared: PreparedModel): LayerInfo[] {
  const { index, info } = prepared;
  const producerOp = (name: string) => index.producerOf(name)?.opType ?? '';
  const consumerOps = (name: string) => (index.consumers.get(name) ?? []).map((i) => index.nodes[i]?.opType);
  const imageInputs = (node: NodeProto) =>
    (node.input ?? []).filter((i) => i !== '' && prepared.dependent.has(i));
  const dimsOf = (name: string) => info.get(name)?.dims.join('x');
  const sameDims = (a: string, b: string) => dimsOf(a) !== undefined && dimsOf(a) === dimsOf(b);
  const channelConcats = index.nodes.filter((n) => n.opType === 'Concat' && isChannelAxis(n));
  const isResidualAdd = (node: NodeProto, output: string) => {
    const inputs = imageInputs(node);
    return (
      inputs.length === 2 &&
      inputs[0] !== inputs[1] &&
      sameDims(inputs[0]!, inputs[1]!) &&
      sameDims(inputs[0]!, output) &&
      !consumerOps(output).every((op) => op === 'Relu')
    );
  };
  /** Whether `outer`'s inputs strictly include `inner`'s. */
  const extendsInputs = (outer: NodeProto, inner: NodeProto) => {
    const included = new Set(outer.input ?? []);
    const innerInputs = inner.input ?? [];
    return outer !== inner && included.size > innerInputs.length && innerInputs.every((i) => included.has(i));
  };
  const endsDenseBlock = (node: NodeProto) => {
    const inputs = imageInputs(node);
    if (inputs.length < 2 || inputs.length !== (node.input ?? []).length) return false;
    return (
      channelConcats.some((inner) => extendsInputs(node, inner)) &&
      !channelConcats.some((outer) => extendsInputs(outer, node))
    );
  };
  const isFireConcat = (node: NodeProto) => {
    const inputs = (node.input ?? []).filter((i) => i !== '');
    return inputs.length > 1 && inputs.every((i) => producerOp(i) === 'Relu');
  };
  const denseEnds = channelConcats.filter((n) => !isFireConcat(n) && endsDenseBlock(n));
  const denseEndOutputs = new Set(denseEnds.map((n) => n.output?.[0] ?? ''));
  /** Whether one of `targets` is among the tensors `name` is computed from (itself excluded). */
  const computedFrom = (name: string, targets: ReadonlySet<string>) => {
    const seen = new Set<string>();
    const stack = [name];
    while (stack.length > 0) {
      const producer = index.producerOf(stack.pop()!);
      for (const input of producer ? imageInputs(producer) : []) {
        if (targets.has(input)) return true;
        if (!seen.has(input)) {
          seen.add(input);
          stack.push(input);
        }
      }
    }
    return false;
  };
  const transitions = new Set(
    denseEnds.map((n) => n.input?.[0] ?? '').filter((first) => computedFrom(first, denseEndOutputs)),
  );
  const blocks: LayerInfo[] = tokenLayers(prepared);
  const others: LayerInfo[] = [];
  for (const node of index.nodes) {
    for (const name of node.output ?? []) {
      const tensorInfo = info.get(name);
      if (!name || !tensorInfo || !prepared.dependent.has(name)) continue;
      if (!isFloatType(tensorInfo.elemType) || tensorInfo.dims.length !== 4) continue;
      const channels = tensorInfo.dims[1];
      if (typeof channels !== 'number') continue;
      const inputs = (node.input ?? []).filter((i) => i !== '');
      let kind: LayerKind = 'activation';
      if (node.opType === 'Relu' && producerOp(inputs[0] ?? '') === 'Add') kind = 'block';
      else if (node.opType === 'Add' && isResidualAdd(node, name)) kind = 'block';
      else if (node.opType === 'Concat' && isFireConcat(node)) kind = 'fire';
      else if (denseEndOutputs.has(name) || transitions.has(name)) kind = 'block';
      const layer = { name, kind, producer: node.opType ?? '', channels, dims: tensorInfo.dims };
      (kind === 'activation' ? others : blocks).push(layer);
    }
  }
  return [...blocks, ...others];
}

/** A Concat along axis 1 of an NCHW tensor (ONNX Concat requires the axis; -3 is the same axis in 4-D). */
function isChannelAxis(node: NodeProto): boolean {
  const axis = (node.attribute ?? []).find((a) => a.name === 'axis')?.i;
  return Number(axis) === 1 || Number(axis) === -3;
}

/** A token tensor [N, T, D]: the batch first, tokens and features fixed. */
function isTokenTensor(prepared: PreparedModel, name: string): boolean {
  const tensorInfo = prepared.info.get(name);
  if (!tensorInfo || !isFloatType(tensorInfo.elemType) || !prepared.dependent.has(name)) return false;
  const [batch, tokens, features] = tensorInfo.dims;
  return (
    tensorInfo.dims.length === 3 &&
    batch === 'N' &&
    typeof tokens === 'number' &&
    typeof features === 'number'
  );
}

interface Residual {
  readonly node: NodeProto;
  /** The input carried past the branch (the residual stream before the sub-block). */
  readonly skip: string;
  readonly attention: boolean;
}

/**
 * The residual Adds of token tensors: Add(branch, skip) where skip is an ancestor of branch. A branch
 * (the nodes that compute it and not the skip) with a Softmax is attention, else the MLP.
 */
function tokenResiduals(prepared: PreparedModel): Residual[] {
  const { index } = prepared;
  const residuals: Residual[] = [];
  for (const node of index.nodes) {
    const output = node.output?.[0];
    const inputs = node.input ?? [];
    if (node.opType !== 'Add' || inputs.length !== 2 || !output || !isTokenTensor(prepared, output)) continue;
    if (!inputs.every((i) => isTokenTensor(prepared, i))) continue;
    for (const [branch, skip] of [inputs, [...inputs].reverse()] as [string, string][]) {
      const branchNodes = ancestorsOf(index, [branch]);
      if (!readBy(index, branchNodes, skip)) continue;
      const before = new Set(ancestorsOf(index, [skip]));
      const attention = branchNodes.some((n) => !before.has(n) && n.opType === 'Softmax');
      residuals.push({ node, skip, attention });
      break;
    }
  }
  return residuals;
}

/** True when `tensor` is read by one of `nodes` (an input of the sub-graph that computes a branch). */
function readBy(index: GraphIndex, nodes: readonly NodeProto[], tensor: string): boolean {
  const set = new Set(nodes);
  return (index.consumers.get(tensor) ?? []).some((i) => set.has(index.nodes[i]!));
}

/** The token embedding and each transformer block's output, in graph order (LayerKind). */
function tokenLayers(prepared: PreparedModel): LayerInfo[] {
  const residuals = tokenResiduals(prepared);
  const layer = (name: string, kind: LayerKind): LayerInfo => {
    const dims = prepared.info.get(name)!.dims;
    const producer = prepared.index.producerOf(name)?.opType ?? '';
    return { name, kind, producer, channels: dims[2] as number, dims };
  };
  const blocks = residuals.filter((r) => !r.attention).map((r) => layer(r.node.output![0]!, 'token-block'));
  if (blocks.length === 0) return [];
  const first = residuals[0]!.skip;
  return prepared.dependent.has(first) && prepared.index.producerOf(first)
    ? [layer(first, 'embedding'), ...blocks]
    : blocks;
}
