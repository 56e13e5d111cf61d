/**
 * Candidate layers for PURE: the block outputs the paper studies come first (a Relu that follows an
 * Add: ResNet blocks; a channel Concat of Relu outputs: SqueezeNet Fire modules), then every other
 * image-dependent 4-D float activation, each in graph order.
 */

import type { Dim } from '../onnx/tensor-info.js';
import { isFloatType } from './backward.js';
import type { PreparedModel } from './prepared.js';

export type LayerKind = 'block' | 'fire' | 'activation';

export interface LayerInfo {
  /** The tensor name (what `lower` / `upper` take). */
  readonly name: string;
  readonly kind: LayerKind;
  /** Op type of the node that writes it. */
  readonly producer: string;
  readonly channels: number;
  /** [N, C, H, W] with the batch as 'N'. */
  readonly dims: readonly Dim[];
}

export function layersOf(prepared: PreparedModel): LayerInfo[] {
  const { index, info } = prepared;
  const producerOp = (name: string) => index.producerOf(name)?.opType ?? '';
  const blocks: LayerInfo[] = [];
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
      else if (
        node.opType === 'Concat' &&
        inputs.length > 1 &&
        inputs.every((i) => producerOp(i) === 'Relu')
      ) {
        kind = 'fire';
      }
      const layer = { name, kind, producer: node.opType ?? '', channels, dims: tensorInfo.dims };
      (kind === 'activation' ? others : blocks).push(layer);
    }
  }
  return [...blocks, ...others];
}
