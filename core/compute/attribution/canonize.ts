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
import { tensorFromProto, tensorToProto } from '../onnx/tensor.js';
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

  const replaced = new Map<NodeProto, NodeProto>();
  const dropped = new Set<NodeProto>();
  const created: TensorProto[] = [];
  const info = new Map<string, TensorInfo>();
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

    const [m] = weights.dims as [number];
    const perOut = weights.data.length / m;
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const w = new Float32Array(weights.data.length);
    const b = new Float32Array(m);
    for (let o = 0; o < m; o++) {
      const s = Number(gamma.data[o]) / Math.sqrt(Number(variance.data[o]) + eps);
      for (let i = o * perOut; i < (o + 1) * perOut; i++) w[i] = Number(weights.data[i]) * s;
      b[o] = ((bias ? Number(bias.data[o]) : 0) - Number(mean.data[o])) * s + Number(beta.data[o]);
    }
    const out = bn.output![0]!;
    const wName = `canonized/${out}/weight`;
    const bName = `canonized/${out}/bias`;
    created.push(
      tensorToProto(wName, { dtype: 'float32', dims: weights.dims, data: w }),
      tensorToProto(bName, { dtype: 'float32', dims: [m], data: b }),
    );
    info.set(wName, { elemType: FLOAT, dims: weights.dims });
    info.set(bName, { elemType: FLOAT, dims: [m] });
    const attributes = (conv.attribute ?? []).filter((a) => a.name !== 'kernel_shape');
    replaced.set(
      conv,
      onnx.NodeProto.create({
        opType: 'Conv',
        name: `${conv.name || GraphIndex.describe(conv)}+${bn.name || 'BatchNormalization'}`,
        input: [conv.input![0]!, wName, bName],
        output: [out],
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
      }),
    );
    dropped.add(bn);
  }
  return {
    nodes: nodes.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n),
    initializers: created,
    info,
    merged: dropped.size,
  };
}
