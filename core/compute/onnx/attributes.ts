/** Typed access to an ONNX node's attributes; a missing attribute without a fallback is an error. */
import type onnxProto from 'onnx-proto';
import { type Int64Like, int64ToNumber, type Tensor, tensorFromProto } from './tensor.js';

type NodeProto = onnxProto.onnx.INodeProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

function find(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

function missing(node: NodeProto, name: string): Error {
  return new Error(`node '${node.name ?? ''}' (${node.opType ?? '?'}) has no attribute '${name}'`);
}

export function hasAttr(node: NodeProto, name: string): boolean {
  return find(node, name) !== undefined;
}

export function attrInt(node: NodeProto, name: string, fallback?: number): number {
  const a = find(node, name);
  if (a === undefined) {
    if (fallback === undefined) throw missing(node, name);
    return fallback;
  }
  return a.i == null ? 0 : int64ToNumber(a.i as Int64Like);
}

export function attrInts(node: NodeProto, name: string, fallback?: number[]): number[] {
  const a = find(node, name);
  if (a === undefined) {
    if (fallback === undefined) throw missing(node, name);
    return [...fallback];
  }
  return (a.ints ?? []).map((v) => int64ToNumber(v as Int64Like));
}

export function attrFloat(node: NodeProto, name: string, fallback?: number): number {
  const a = find(node, name);
  if (a === undefined) {
    if (fallback === undefined) throw missing(node, name);
    return fallback;
  }
  return a.f ?? 0;
}

export function attrFloats(node: NodeProto, name: string, fallback?: number[]): number[] {
  const a = find(node, name);
  if (a === undefined) {
    if (fallback === undefined) throw missing(node, name);
    return [...fallback];
  }
  return [...(a.floats ?? [])];
}

export function attrString(node: NodeProto, name: string, fallback?: string): string {
  const a = find(node, name);
  if (a === undefined) {
    if (fallback === undefined) throw missing(node, name);
    return fallback;
  }
  return a.s ? new TextDecoder().decode(a.s) : '';
}

export function attrTensor(node: NodeProto, name: string): Tensor | undefined {
  const t = find(node, name)?.t;
  return t ? tensorFromProto(t) : undefined;
}
