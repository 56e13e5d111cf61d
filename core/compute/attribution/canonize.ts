/**
 * The LRP canonizer for batch norm (zennit's MergeBatchNorm, which the authors' ResNet canonizers
 * apply): a Conv followed by an inference-mode BatchNormalization becomes one Conv with
 *   W'[o] = W[o] * s_o,   b'_o = (b_o - mean_o) * s_o + beta_o,   s_o = gamma_o / sqrt(var_o + eps).
 * The forward function is unchanged, but LRP rules see one layer: z+ then takes the positive part of
 * the merged weights, and no relevance is absorbed by a separate BN step. Exporters that fold BN
 * (torch.onnx.export in eval mode, as the shared models) need none of this; others leave BN in.
 */

import { attrFloat, attrInt, attrInts } from '../onnx/attributes.js';
import { GraphIndex, type NodeProto, onnx, type TensorProto } from '../onnx/model.js';
import { type Tensor, tensorFromProto, tensorToProto } from '../onnx/tensor.js';
import type { TensorInfo } from '../onnx/tensor-info.js';
import { FLOAT } from './emitter.js';

export interface CanonizedGraph {
  readonly nodes: NodeProto[];
  /** The merged weights and biases (new initializers). */
  readonly initializers: TensorProto[];
  /** Shapes of the new initializers, for rules that ask. */
  readonly info: ReadonlyMap<string, TensorInfo>;
  /** Conv + BN pairs merged. */
  readonly merged: number;
}

/**
 * Merges every Conv -> BatchNormalization pair of `nodes` (topological order) whose Conv output feeds
 * only the BN, is not in `keep` (a requested layer or graph output: it must stay observable), and
 * whose weights and BN parameters are constants. Everything else is returned as it was.
 */
export function mergeBatchNorms(
  nodes: readonly NodeProto[],
  initializers: ReadonlyMap<string, TensorProto>,
  keep: ReadonlySet<string>,
): CanonizedGraph {
  const replaced = new Map<NodeProto, NodeProto>();
  const dropped = new Set<NodeProto>();
  const created: TensorProto[] = [];
  const info = new Map<string, TensorInfo>();
  for (const pair of mergeablePairs(nodes, initializers, keep)) {
    const { w, b } = mergedWeights(pair);
    const out = pair.bn.output![0]!;
    const wName = `canonized/${out}/weight`;
    const bName = `canonized/${out}/bias`;
    const dims = pair.weights.dims;
    created.push(
      tensorToProto(wName, { dtype: 'float32', dims, data: w }),
      tensorToProto(bName, { dtype: 'float32', dims: [b.length], data: b }),
    );
    info.set(wName, { elemType: FLOAT, dims });
    info.set(bName, { elemType: FLOAT, dims: [b.length] });
    replaced.set(pair.conv, mergedConv(pair, wName, bName));
    dropped.add(pair.bn);
  }
  return {
    nodes: nodes.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n),
    initializers: created,
    info,
    merged: dropped.size,
  };
}

/** A Conv -> BN pair that may merge, with the constants the merge reads. */
interface MergeablePair {
  readonly conv: NodeProto;
  readonly bn: NodeProto;
  readonly weights: Tensor;
  readonly bias: Tensor | undefined;
  readonly gamma: Tensor;
  readonly beta: Tensor;
  readonly mean: Tensor;
  readonly variance: Tensor;
}

/** The pairs mergeBatchNorms merges (see there), in the order of their BN nodes. */
function mergeablePairs(
  nodes: readonly NodeProto[],
  initializers: ReadonlyMap<string, TensorProto>,
  keep: ReadonlySet<string>,
): MergeablePair[] {
  const consumers = new Map<string, number>();
  for (const node of nodes)
    for (const name of node.input ?? []) consumers.set(name, (consumers.get(name) ?? 0) + 1);
  const producer = new Map<string, NodeProto>();
  for (const node of nodes) for (const name of node.output ?? []) producer.set(name, node);
  const constant = (name: string | undefined) => {
    const proto = name ? initializers.get(name) : undefined;
    const value = proto ? tensorFromProto(proto) : undefined;
    return value?.dtype === 'float32' ? value : undefined;
  };

  const pairs: MergeablePair[] = [];
  for (const bn of nodes) {
    if (bn.opType !== 'BatchNormalization' || attrInt(bn, 'training_mode', 0) !== 0) continue;
    const x = bn.input?.[0] ?? '';
    const conv = producer.get(x);
    if (conv?.opType !== 'Conv' || consumers.get(x) !== 1 || keep.has(x) || (conv.output ?? []).length !== 1)
      continue;
    const weights = constant(conv.input?.[1]);
    const hasBias = (conv.input?.[2] ?? '') !== '';
    const bias = hasBias ? constant(conv.input?.[2]) : undefined;
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((k) => constant(bn.input?.[k]));
    if (!weights || (hasBias && !bias) || !gamma || !beta || !mean || !variance) continue;
    pairs.push({ conv, bn, weights, bias, gamma, beta, mean, variance });
  }
  return pairs;
}

/** W'[o] = W[o] * s_o and b'_o = (b_o - mean_o) * s_o + beta_o, with s_o = gamma_o / sqrt(var_o + eps). */
function mergedWeights(pair: MergeablePair): { w: Float32Array; b: Float32Array } {
  const { weights, bias, gamma, beta, mean, variance } = pair;
  const [m] = weights.dims as [number];
  const perOut = weights.data.length / m;
  const eps = attrFloat(pair.bn, 'epsilon', 1e-5);
  const w = new Float32Array(weights.data.length);
  const b = new Float32Array(m);
  for (let o = 0; o < m; o++) {
    const s = Number(gamma.data[o]) / Math.sqrt(Number(variance.data[o]) + eps);
    for (let i = o * perOut; i < (o + 1) * perOut; i++) w[i] = Number(weights.data[i]) * s;
    b[o] = ((bias ? Number(bias.data[o]) : 0) - Number(mean.data[o])) * s + Number(beta.data[o]);
  }
  return { w, b };
}

/** The Conv that replaces the pair: the Conv's input and attributes, the merged weights, the BN's output. */
function mergedConv(pair: MergeablePair, wName: string, bName: string): NodeProto {
  const { conv, bn, weights } = pair;
  const attributes = (conv.attribute ?? []).filter((a) => a.name !== 'kernel_shape');
  return onnx.NodeProto.create({
    opType: 'Conv',
    name: `${conv.name || GraphIndex.describe(conv)}+${bn.name || 'BatchNormalization'}`,
    input: [conv.input![0]!, wName, bName],
    output: [bn.output![0]!],
    // Explicit, so no rule needs the shape of the new weights from elsewhere.
    attribute: [
      ...attributes,
      onnx.AttributeProto.create({
        name: 'kernel_shape',
        type: onnx.AttributeProto.AttributeType.INTS,
        ints: attrInts(conv, 'kernel_shape', weights.dims.slice(2) as number[]),
      }),
    ],
    ...(conv.domain ? { domain: conv.domain } : {}),
  });
}
