/**
 * ONNX models as protobuf objects: decode, encode (files: core/adapters/models/model-file.ts), and an index of one graph (who produces and who
 * consumes each tensor, which tensors are initializers, what shapes the model itself declares).
 * The index is built once and read many times; graph passes build new graphs rather than editing.
 */
import onnxProto from 'onnx-proto';
import { type Int64Like, int64ToNumber } from './tensor.js';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

/** The default ONNX domain: '' and 'ai.onnx' name the same operator set. */
const DEFAULT_DOMAINS = new Set(['', 'ai.onnx']);

export function decodeModel(bytes: Uint8Array): ModelProto {
  const model = onnx.ModelProto.decode(bytes);
  if (!model.graph) throw new Error('ONNX model has no graph');
  return model;
}

export function encodeModel(model: onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** The version of the default (ai.onnx) operator set the model imports. */
export function opsetVersion(model: onnxProto.onnx.IModelProto): number {
  for (const entry of model.opsetImport ?? []) {
    if (DEFAULT_DOMAINS.has(entry.domain ?? '')) return int64ToNumber((entry.version ?? 0) as Int64Like);
  }
  throw new Error('ONNX model imports no default-domain operator set');
}

export function graphOf(model: onnxProto.onnx.IModelProto): GraphProto {
  if (!model.graph) throw new Error('ONNX model has no graph');
  return model.graph;
}

/** A dimension: a fixed size, or a named symbol (the batch axis `N` of the shared models). */
export type DeclaredDim = number | string | undefined;

/** The declared shape of a value_info / graph input / output, or undefined when it declares none. */
export function declaredShape(info: ValueInfoProto): DeclaredDim[] | undefined {
  const shape = info.type?.tensorType?.shape;
  if (!shape) return undefined;
  return (shape.dim ?? []).map((d) => {
    if (d.dimValue != null && int64ToNumber(d.dimValue as Int64Like) > 0) {
      return int64ToNumber(d.dimValue as Int64Like);
    }
    return d.dimParam ? d.dimParam : undefined;
  });
}

export function declaredElemType(info: ValueInfoProto): number | undefined {
  const t = info.type?.tensorType?.elemType;
  return t ? t : undefined;
}

/**
 * A read-only index of one graph. Graph inputs that also have an initializer (allowed before IR 4
 * as overridable defaults) count as initializers: their value is fixed for our purposes.
 */
export class GraphIndex {
  readonly nodes: readonly NodeProto[];
  /** Tensor name -> index into `nodes` of the node that writes it. */
  readonly producer: ReadonlyMap<string, number>;
  /** Tensor name -> indices of the nodes that read it, in graph order. */
  readonly consumers: ReadonlyMap<string, readonly number[]>;
  readonly initializers: ReadonlyMap<string, TensorProto>;
  /** Graph inputs fed at run time (initializer-backed inputs excluded). */
  readonly inputs: readonly ValueInfoProto[];
  readonly outputs: readonly ValueInfoProto[];
  /** Declared value infos (value_info, inputs and outputs) by tensor name. */
  readonly valueInfo: ReadonlyMap<string, ValueInfoProto>;

  constructor(readonly graph: GraphProto) {
    this.nodes = graph.node ?? [];
    const producer = new Map<string, number>();
    const consumers = new Map<string, number[]>();
    this.nodes.forEach((node, i) => {
      for (const out of node.output ?? []) if (out) producer.set(out, i);
      for (const inp of node.input ?? []) {
        if (!inp) continue;
        const list = consumers.get(inp);
        if (list) {
          if (list[list.length - 1] !== i) list.push(i);
        } else {
          consumers.set(inp, [i]);
        }
      }
    });
    this.producer = producer;
    this.consumers = consumers;
    this.initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
    this.inputs = (graph.input ?? []).filter((i) => !this.initializers.has(i.name ?? ''));
    this.outputs = graph.output ?? [];
    const infos = new Map<string, ValueInfoProto>();
    for (const list of [graph.valueInfo ?? [], graph.input ?? [], graph.output ?? []]) {
      for (const info of list) infos.set(info.name ?? '', info);
    }
    this.valueInfo = infos;
  }

  /** Every tensor name the graph mentions: inputs, initializers, node outputs. */
  tensorNames(): string[] {
    const names = new Set<string>();
    for (const i of this.inputs) names.add(i.name ?? '');
    for (const name of this.initializers.keys()) names.add(name);
    for (const node of this.nodes) for (const out of node.output ?? []) if (out) names.add(out);
    return [...names];
  }

  has(name: string): boolean {
    return this.producer.has(name) || this.initializers.has(name) || this.inputs.some((i) => i.name === name);
  }

  producerOf(name: string): NodeProto | undefined {
    const i = this.producer.get(name);
    return i === undefined ? undefined : this.nodes[i];
  }

  consumersOf(name: string): NodeProto[] {
    return (this.consumers.get(name) ?? []).map((i) => this.nodes[i]!);
  }

  /**
   * Indices of all nodes downstream of `roots` (nodes that read them, transitively), in graph order.
   * `through(node, inputIndex)` can refuse an edge (e.g. an integer-valued input).
   */
  downstream(
    roots: Iterable<string>,
    through?: (node: NodeProto, inputIndex: number) => boolean,
  ): Set<string> {
    const reached = new Set<string>(roots);
    // Graph order is topological (ONNX requires it), so one sweep suffices.
    for (const node of this.nodes) {
      const inputs = node.input ?? [];
      const hit = inputs.some((name, k) => name !== '' && reached.has(name) && (through?.(node, k) ?? true));
      if (hit) for (const out of node.output ?? []) if (out) reached.add(out);
    }
    return reached;
  }

  /** Node names for messages: the node's name or, failing that, its op type and first output. */
  static describe(node: NodeProto): string {
    return node.name ? `'${node.name}' (${node.opType})` : `${node.opType} -> '${node.output?.[0] ?? '?'}'`;
  }
}

/** A tensor name suggestion list for errors: the names closest to `wanted`, then a count. */
export function suggestNames(wanted: string, candidates: readonly string[], limit = 8): string {
  const scored = candidates
    .map((c) => ({ c, score: similarity(wanted, c) }))
    .sort((a, b) => b.score - a.score || a.c.localeCompare(b.c))
    .slice(0, limit)
    .map((s) => `'${s.c}'`);
  return `${scored.join(', ')}${candidates.length > limit ? ` (and ${candidates.length - limit} more)` : ''}`;
}

/** Length of the longest common substring, normalised: cheap and good enough for typo hints. */
function similarity(a: string, b: string): number {
  let best = 0;
  const prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const keep = prev[j]!;
      prev[j] = a[i - 1] === b[j - 1] ? diag + 1 : 0;
      if (prev[j]! > best) best = prev[j]!;
      diag = keep;
    }
  }
  return best / Math.max(a.length, b.length, 1);
}

/** A tensor-typed ValueInfo; `dims` entries that are strings become symbolic dimensions. */
export function valueInfo(name: string, elemType: number, dims?: readonly DeclaredDim[]): ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        ...(dims
          ? {
              shape: {
                dim: dims.map((d) =>
                  typeof d === 'number' ? { dimValue: d } : d === undefined ? {} : { dimParam: d },
                ),
              },
            }
          : {}),
      },
    },
  });
}

/** An ONNX node; attributes given as plain values are typed by their JS type. */
export type AttrValue = number | string | readonly number[] | readonly string[] | TensorProto;

export function makeNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: Readonly<Record<string, AttrValue>> = {},
  name?: string,
): NodeProto {
  const A = onnx.AttributeProto.AttributeType;
  const attribute = Object.entries(attributes).map(([key, value]): AttributeProto => {
    if (typeof value === 'number') {
      return Number.isInteger(value) && !FLOAT_ATTRS.has(key)
        ? { name: key, type: A.INT, i: value }
        : { name: key, type: A.FLOAT, f: value };
    }
    if (typeof value === 'string') return { name: key, type: A.STRING, s: new TextEncoder().encode(value) };
    if (Array.isArray(value)) {
      if (value.every((v) => typeof v === 'number')) {
        return { name: key, type: A.INTS, ints: [...(value as readonly number[])] };
      }
      return {
        name: key,
        type: A.STRINGS,
        strings: (value as readonly string[]).map((s) => new TextEncoder().encode(s)),
      };
    }
    return { name: key, type: A.TENSOR, t: value as TensorProto };
  });
  return onnx.NodeProto.create({
    opType,
    input: [...inputs],
    output: [...outputs],
    attribute,
    ...(name ? { name } : {}),
  });
}

/** Attributes that are floats even when the value happens to be integral (alpha = 1, epsilon...). */
const FLOAT_ATTRS = new Set(['alpha', 'beta', 'epsilon', 'min', 'max', 'ratio', 'gamma', 'momentum', 'bias']);
