/**
 * Build small ONNX models with onnx-proto: one node (`singleNodeModel`) or a short list of nodes
 * (`modelFromNodes`). Used by the tests and by the planted-model generator (core/compute/planted). Models use
 * ir_version 8 and the default domain at opset 17 unless told.
 */
import onnxProto from 'onnx-proto';
import { type DType, onnxElemType, type Tensor, tensorToProto } from './tensor.js';

const { onnx } = onnxProto;
const AT = onnx.AttributeProto.AttributeType;

/** Forces a FLOAT / FLOATS attribute where a plain number would be encoded as INT (e.g. `alpha: 1`). */
export interface FloatAttr {
  readonly float: number;
}
export interface FloatsAttr {
  readonly floats: readonly number[];
}

/**
 * Attribute values: an integer number is INT and a non-integer FLOAT, except for the names in
 * `floatAttributeNames` (alpha, beta, epsilon, ...), which are always FLOAT(S); number[] is INTS
 * (FLOATS for those names or when any element is not an integer); string is STRING; Tensor is TENSOR.
 */
export type AttrValue = number | number[] | string | Tensor | FloatAttr | FloatsAttr;

export const floatAttributeNames: ReadonlySet<string> = new Set([
  'alpha',
  'beta',
  'gamma',
  'epsilon',
  'momentum',
  'ratio',
  'bias',
  'lambd',
  'min',
  'max',
  'value_float',
  'value_floats',
  'scales',
  'spatial_scale',
]);

export interface ValueSpec {
  name: string;
  dtype: DType;
  /** Omitted: the value has an element type but no shape. A string is a symbolic dimension. */
  dims?: (number | string)[];
}

export interface NodeSpec {
  op: string;
  /** Input names in the op's order; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttrValue>;
  name?: string;
  domain?: string;
}

export interface ModelSpec {
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: Record<string, Tensor>;
  opset?: number;
  /** The graph's name (default 'test'). */
  graphName?: string;
  /** ModelProto.producer_name (default 'pure-tests'). */
  producerName?: string;
}

function isTensor(v: AttrValue): v is Tensor {
  return typeof v === 'object' && !Array.isArray(v) && 'dtype' in v && 'data' in v;
}

export function attributeProto(name: string, v: AttrValue): onnxProto.onnx.AttributeProto {
  const forceFloat = floatAttributeNames.has(name);
  if (typeof v === 'string')
    return new onnx.AttributeProto({ name, type: AT.STRING, s: new TextEncoder().encode(v) });
  if (typeof v === 'number') {
    return forceFloat || !Number.isInteger(v)
      ? new onnx.AttributeProto({ name, type: AT.FLOAT, f: v })
      : new onnx.AttributeProto({ name, type: AT.INT, i: v });
  }
  if (Array.isArray(v)) {
    return forceFloat || v.some((x) => !Number.isInteger(x))
      ? new onnx.AttributeProto({ name, type: AT.FLOATS, floats: v })
      : new onnx.AttributeProto({ name, type: AT.INTS, ints: v });
  }
  if (isTensor(v)) return new onnx.AttributeProto({ name, type: AT.TENSOR, t: tensorToProto('', v) });
  if ('float' in v) return new onnx.AttributeProto({ name, type: AT.FLOAT, f: v.float });
  return new onnx.AttributeProto({ name, type: AT.FLOATS, floats: [...v.floats] });
}

export function valueInfo(v: ValueSpec): onnxProto.onnx.ValueInfoProto {
  const shape =
    v.dims === undefined
      ? undefined
      : { dim: v.dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) };
  return new onnx.ValueInfoProto({
    name: v.name,
    type: { tensorType: { elemType: onnxElemType(v.dtype), ...(shape ? { shape } : {}) } },
  });
}

export function nodeProto(n: NodeSpec, index = 0): onnxProto.onnx.NodeProto {
  return new onnx.NodeProto({
    name: n.name ?? `${n.op}_${index}`,
    opType: n.op,
    domain: n.domain ?? '',
    input: n.inputs,
    output: n.outputs,
    attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attributeProto(k, v)),
  });
}

/** The ModelProto (not encoded), for callers that want to inspect or change it. */
export function modelProto(spec: ModelSpec): onnxProto.onnx.ModelProto {
  const graph = new onnx.GraphProto({
    name: spec.graphName ?? 'test',
    node: spec.nodes.map((n, i) => nodeProto(n, i)),
    input: spec.inputs.map(valueInfo),
    output: spec.outputs.map(valueInfo),
    initializer: Object.entries(spec.initializers ?? {}).map(([name, t]) => tensorToProto(name, t)),
  });
  return new onnx.ModelProto({
    irVersion: 8,
    producerName: spec.producerName ?? 'pure-tests',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    graph,
  });
}

/** An encoded model of a few nodes. */
export function modelFromNodes(spec: ModelSpec): Uint8Array {
  return onnx.ModelProto.encode(modelProto(spec)).finish();
}

/**
 * An encoded one-node model. The node's inputs are `nodeInputs` when given (use '' to skip an optional
 * input), otherwise the graph inputs followed by the initializers in insertion order.
 */
export function singleNodeModel(opts: {
  op: string;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  attributes?: Record<string, AttrValue>;
  initializers?: Record<string, Tensor>;
  opset?: number;
  nodeInputs?: string[];
}): Uint8Array {
  const nodeInputs = opts.nodeInputs ?? [
    ...opts.inputs.map((i) => i.name),
    ...Object.keys(opts.initializers ?? {}),
  ];
  return modelFromNodes({
    nodes: [
      {
        op: opts.op,
        inputs: nodeInputs,
        outputs: opts.outputs.map((o) => o.name),
        ...(opts.attributes ? { attributes: opts.attributes } : {}),
      },
    ],
    inputs: opts.inputs,
    outputs: opts.outputs,
    ...(opts.initializers ? { initializers: opts.initializers } : {}),
    ...(opts.opset !== undefined ? { opset: opts.opset } : {}),
  });
}
