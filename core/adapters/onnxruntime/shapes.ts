/**
 * Shapes and element types of every tensor of a model, measured rather than inferred: onnxruntime
 * runs the model once on a zero input at batch 1 and once at batch 2 with every tensor added as a
 * graph output. A dimension that differs between the two runs follows the batch (`'N'`); all others
 * are fixed for the given input size. Measuring covers every op onnxruntime can run, including the
 * exporter's shape arithmetic, without a shape-inference table of our own.
 */
import { declaredShape, GraphIndex, graphOf, type ModelProto, onnx } from '../../compute/onnx/model.js';
import { type Int64Like, int64ToNumber, type Tensor } from '../../compute/onnx/tensor.js';
import { batchAxisOf, type Dim, type TensorInfo } from '../../compute/onnx/tensor-info.js';
import { createSession, fromOrt, ORT_ELEM_TYPE, type OrtSession, ort, runWithTimeout } from './session.js';

export type { Dim, TensorInfo } from '../../compute/onnx/tensor-info.js';

export interface ProbeOptions {
  /**
   * Sizes of the non-batch dimensions of each graph input, for inputs whose declared shape leaves
   * them symbolic (e.g. a model exported with dynamic height and width).
   */
  readonly inputDims?: Readonly<Record<string, readonly number[]>>;
  /** Tensors whose values (at batch 1, zero input) should be kept, e.g. constants to fold. */
  readonly keepValues?: ReadonlySet<string>;
  readonly timeoutMs?: number;
}

export interface Probe {
  readonly info: ReadonlyMap<string, TensorInfo>;
  /** Values of the `keepValues` tensors at batch 1 with zero inputs. */
  readonly values: ReadonlyMap<string, Tensor>;
}

/** The concrete shape of every graph input at the given batch size. */
export function inputShapes(
  model: ModelProto,
  batch: number,
  options: ProbeOptions = {},
): Map<string, number[]> {
  const index = new GraphIndex(graphOf(model));
  const shapes = new Map<string, number[]>();
  for (const input of index.inputs) {
    const name = input.name ?? '';
    const declared = declaredShape(input);
    if (!declared) throw new Error(`graph input '${name}' declares no shape; cannot probe shapes`);
    const given = options.inputDims?.[name];
    if (given && given.length !== declared.length - 1) {
      throw new Error(
        `inputDims for '${name}' has ${given.length} sizes; the input has rank ${declared.length} (give all but the batch)`,
      );
    }
    shapes.set(
      name,
      declared.map((d, axis) => {
        // A symbolic first dimension is the batch; a fixed one stays fixed.
        if (axis === 0) return typeof d === 'number' ? d : batch;
        const override = given?.[axis - 1];
        if (override !== undefined) return override;
        if (typeof d === 'number') return d;
        throw new Error(
          `graph input '${name}' has symbolic dimension ${axis} ('${d ?? '?'}'); pass inputDims { '${name}': [...] }`,
        );
      }),
    );
  }
  return shapes;
}

export async function probeModel(model: ModelProto, options: ProbeOptions = {}): Promise<Probe> {
  const index = new GraphIndex(graphOf(model));
  const names = index.tensorNames().filter((n) => !index.initializers.has(n));
  const session = await createSession(withEveryTensorAsOutput(model, names), { intraOpNumThreads: 1 });
  try {
    const one = await runOnZeros(session, model, index, names, 1, options);
    const two = await runOnZeros(session, model, index, names, 2, options);
    const { info, values } = infoFromRuns(names, one, two, options.keepValues);
    for (const [name, declared] of declaredInfo(model, index, options)) info.set(name, declared);
    return { info, values };
  } finally {
    await session.release();
  }
}

/** The model with every named tensor also a graph output, so one run reports them all. */
function withEveryTensorAsOutput(model: ModelProto, names: readonly string[]): ModelProto {
  const graph = graphOf(model);
  const declaredOutputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  return onnx.ModelProto.create({
    ...model,
    graph: {
      ...graph,
      output: [
        ...(graph.output ?? []),
        // onnxruntime accepts outputs without a declared type and reports the type it computed.
        ...names.filter((n) => !declaredOutputs.has(n)).map((name) => onnx.ValueInfoProto.create({ name })),
      ],
    },
  });
}

/** One run at the given batch size with every graph input zero. */
async function runOnZeros(
  session: OrtSession,
  model: ModelProto,
  index: GraphIndex,
  names: readonly string[],
  batch: number,
  options: ProbeOptions,
): Promise<Record<string, ort.Tensor>> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, dims] of inputShapes(model, batch, options)) {
    const elemType = index.valueInfo.get(name)?.type?.tensorType?.elemType ?? 1;
    feeds[name] = zeros(elemType, dims, name);
  }
  return runWithTimeout(session, feeds, names, 'the shape probe', options.timeoutMs ?? 120_000);
}

/** Element types from the batch-1 run; a dimension that differs between the two runs is `'N'`. */
function infoFromRuns(
  names: readonly string[],
  one: Record<string, ort.Tensor>,
  two: Record<string, ort.Tensor>,
  keepValues: ReadonlySet<string> | undefined,
): { info: Map<string, TensorInfo>; values: Map<string, Tensor> } {
  const info = new Map<string, TensorInfo>();
  const values = new Map<string, Tensor>();
  for (const name of names) {
    const a = one[name];
    const b = two[name];
    if (!a || !b) continue;
    const elemType = ORT_ELEM_TYPE[a.type];
    if (elemType === undefined) throw new Error(`tensor '${name}' has unsupported type ${a.type}`);
    const dims: Dim[] = a.dims.map((d, k) => (d === b.dims[k] && a.dims.length === b.dims.length ? d : 'N'));
    info.set(name, withBatchAxis({ elemType, dims }, a.dims, b.dims));
    if (keepValues?.has(name)) values.set(name, fromOrt(a));
  }
  return { info, values };
}

/**
 * Initializers and graph inputs need no measuring: initializers declare their shapes, and the input
 * shapes are the ones fed (from the declared shape and `inputDims`) at batch 1 and 2.
 */
function declaredInfo(model: ModelProto, index: GraphIndex, options: ProbeOptions): [string, TensorInfo][] {
  const declared: [string, TensorInfo][] = [];
  for (const [name, tensor] of index.initializers) {
    declared.push([
      name,
      { elemType: tensor.dataType ?? 1, dims: (tensor.dims ?? []).map((d) => int64ToNumber(d as Int64Like)) },
    ]);
  }
  const atOne = inputShapes(model, 1, options);
  const atTwo = inputShapes(model, 2, options);
  for (const input of index.inputs) {
    const name = input.name ?? '';
    const one = atOne.get(name)!;
    const two = atTwo.get(name)!;
    const info = {
      elemType: input.type?.tensorType?.elemType ?? 1,
      dims: one.map((d, k) => (d === two[k] ? d : 'N')),
    };
    declared.push([name, withBatchAxis(info, one, two)]);
  }
  return declared;
}

function withBatchAxis(info: TensorInfo, one: readonly number[], two: readonly number[]): TensorInfo {
  const batchAxis = batchAxisOf(one, two);
  return batchAxis === undefined ? info : { ...info, batchAxis };
}

function zeros(elemType: number, dims: readonly number[], name: string): ort.Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  switch (elemType) {
    case 1:
      return new ort.Tensor('float32', new Float32Array(n), [...dims]);
    case 11:
      return new ort.Tensor('float64', new Float64Array(n), [...dims]);
    case 7:
      return new ort.Tensor('int64', new BigInt64Array(n), [...dims]);
    case 6:
      return new ort.Tensor('int32', new Int32Array(n), [...dims]);
    case 2:
      return new ort.Tensor('uint8', new Uint8Array(n), [...dims]);
    default:
      throw new Error(`graph input '${name}' has element type ${elemType}; only float/int inputs are probed`);
  }
}
