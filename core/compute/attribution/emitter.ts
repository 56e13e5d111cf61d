/**
 * Appends nodes and constants to a graph under construction, with fresh tensor names. The backward
 * rules speak only through this, so every rule reads as a short list of ONNX ops.
 */
import { type AttrValue, makeNode, type NodeProto, type TensorProto } from '../onnx/model.js';
import { tensor, tensorToProto } from '../onnx/tensor.js';

export const FLOAT = 1;
export const INT64 = 7;
export const BOOL = 9;

export class Emitter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private counter = 0;

  constructor(private readonly prefix: string) {}

  fresh(hint: string): string {
    this.counter += 1;
    return `${this.prefix}${hint}_${this.counter}`;
  }

  /** Emit one node with one output; returns the output's name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttrValue>> = {},
  ): string {
    const out = this.fresh(opType);
    this.nodes.push(makeNode(opType, inputs, [out], attributes, out));
    return out;
  }

  /** Emit one node with several outputs. */
  opMulti(
    opType: string,
    inputs: readonly string[],
    outputs: number,
    attributes: Readonly<Record<string, AttrValue>> = {},
  ): string[] {
    const names = Array.from({ length: outputs }, (_, k) => this.fresh(`${opType}_out${k}`));
    this.nodes.push(makeNode(opType, inputs, names, attributes, names[0]));
    return names;
  }

  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.fresh('const_i64');
    this.initializers.push(tensorToProto(name, tensor('int64', dims, [...values])));
    return name;
  }

  float(values: readonly number[] | Float32Array, dims: readonly number[] = [values.length]): string {
    const name = this.fresh('const_f32');
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    this.initializers.push(tensorToProto(name, tensor('float32', dims, data)));
    return name;
  }

  /** A float32 scalar (rank 0), broadcastable against anything. */
  scalar(value: number): string {
    return this.float([value], []);
  }

  /** Zeros with the run-time shape of `like` (the batch size is only known at run time). */
  zerosLike(like: string): string {
    return this.op('ConstantOfShape', [this.op('Shape', [like])], {
      value: tensorToProto('', tensor('float32', [1], [0])),
    });
  }

  /** Boolean to float 0/1. */
  mask(condition: string): string {
    return this.op('Cast', [condition], { to: FLOAT });
  }
}

/** Copy a node's attributes under a new op (e.g. MaxPool re-emitted with its Indices output). */
export function emitWithAttributes(
  emit: Emitter,
  node: NodeProto,
  inputs: readonly string[],
  outputs: number,
): string[] {
  const names = Array.from({ length: outputs }, () => emit.fresh(`${node.opType ?? 'op'}_again`));
  emit.nodes.push({ ...node, name: names[0] ?? '', input: [...inputs], output: names });
  return names;
}
