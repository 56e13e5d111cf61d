/**
 * The tensor type shared by the interpreter and the attribution engine: a dtype, dims, and a flat
 * row-major typed array. Conversions to and from ONNX TensorProto live here too.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8';
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;

export interface Tensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

/** What image models produce: float32 activations. */
export interface Float32Tensor extends Tensor {
  readonly dtype: 'float32';
  readonly data: Float32Array;
}

/** The typed array that holds each dtype (bool is one byte per element, 0 or 1). */
interface DTypeInfo {
  readonly onnx: number;
  readonly bytes: number;
  readonly make: (n: number) => TensorData;
  readonly view: (buf: ArrayBuffer, byteOffset: number, length: number) => TensorData;
}

const DT = onnx.TensorProto.DataType;

const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  float32: {
    onnx: DT.FLOAT,
    bytes: 4,
    make: (n) => new Float32Array(n),
    view: (b, o, n) => new Float32Array(b, o, n),
  },
  float64: {
    onnx: DT.DOUBLE,
    bytes: 8,
    make: (n) => new Float64Array(n),
    view: (b, o, n) => new Float64Array(b, o, n),
  },
  int64: {
    onnx: DT.INT64,
    bytes: 8,
    make: (n) => new BigInt64Array(n),
    view: (b, o, n) => new BigInt64Array(b, o, n),
  },
  int32: {
    onnx: DT.INT32,
    bytes: 4,
    make: (n) => new Int32Array(n),
    view: (b, o, n) => new Int32Array(b, o, n),
  },
  bool: {
    onnx: DT.BOOL,
    bytes: 1,
    make: (n) => new Uint8Array(n),
    view: (b, o, n) => new Uint8Array(b, o, n),
  },
  uint8: {
    onnx: DT.UINT8,
    bytes: 1,
    make: (n) => new Uint8Array(n),
    view: (b, o, n) => new Uint8Array(b, o, n),
  },
  int8: { onnx: DT.INT8, bytes: 1, make: (n) => new Int8Array(n), view: (b, o, n) => new Int8Array(b, o, n) },
};

export const allDTypes: readonly DType[] = Object.keys(DTYPES) as DType[];

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** A zero-filled typed array of the dtype's kind. */
export function allocData(dtype: DType, n: number): TensorData {
  return DTYPES[dtype].make(n);
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

function dataMatches(dtype: DType, data: TensorData): boolean {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array;
    case 'float64':
      return data instanceof Float64Array;
    case 'int64':
      return data instanceof BigInt64Array;
    case 'int32':
      return data instanceof Int32Array;
    case 'bool':
    case 'uint8':
      return data instanceof Uint8Array;
    case 'int8':
      return data instanceof Int8Array;
    default: {
      const never: never = dtype;
      throw new Error(`unknown dtype ${String(never)}`);
    }
  }
}

/**
 * Make a tensor. `data` may be a typed array of the dtype's kind (kept, not copied) or plain numbers
 * (copied; for int64 they are converted to BigInt, for bool to 0/1). The length must equal numel(dims).
 */
export function tensor(dtype: DType, dims: readonly number[], data: TensorData | number[]): Tensor {
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`tensor: invalid dims [${dims.join(', ')}]`);
  }
  const n = numel(dims);
  let arr: TensorData;
  if (Array.isArray(data)) {
    arr = DTYPES[dtype].make(data.length);
    if (arr instanceof BigInt64Array) {
      for (let i = 0; i < data.length; i++) arr[i] = BigInt(Math.trunc(data[i]!));
    } else if (dtype === 'bool') {
      for (let i = 0; i < data.length; i++) arr[i] = data[i] ? 1 : 0;
    } else {
      arr.set(data);
    }
  } else {
    if (!dataMatches(dtype, data)) {
      throw new Error(`tensor: ${data.constructor.name} does not hold dtype ${dtype}`);
    }
    arr = data;
  }
  if (arr.length !== n) {
    throw new Error(`tensor: data has ${arr.length} elements but dims [${dims.join(', ')}] need ${n}`);
  }
  return { dtype, dims: [...dims], data: arr };
}

export function dtypeFromOnnx(elemType: number): DType {
  for (const d of allDTypes) if (DTYPES[d].onnx === elemType) return d;
  const name = DT[elemType] ?? 'unknown';
  throw new Error(`unsupported ONNX element type ${elemType} (${name}); supported: ${allDTypes.join(', ')}`);
}

export function onnxElemType(d: DType): number {
  return DTYPES[d].onnx;
}

/** A protobuf int64: a number or a Long-like object {low, high}. */
export type Int64Like = number | { low: number; high: number; toString(): string };

export function int64ToBigInt(v: Int64Like): bigint {
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  return BigInt.asIntN(64, (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0));
}

export function int64ToNumber(v: Int64Like): number {
  return typeof v === 'number' ? v : Number(int64ToBigInt(v));
}

/** Decode an ONNX TensorProto (raw_data little endian, or the typed repeated fields). */
export function tensorFromProto(t: onnxProto.onnx.ITensorProto): Tensor {
  const name = t.name ?? '';
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData?.length ?? 0) > 0) {
    throw new Error(
      `tensor '${name}' uses external data, which is not supported; save the model with data inline`,
    );
  }
  let dtype: DType;
  try {
    dtype = dtypeFromOnnx(t.dataType ?? 0);
  } catch (e) {
    throw new Error(`tensor '${name}': ${(e as Error).message}`);
  }
  const dims = (t.dims ?? []).map((d) => int64ToNumber(d));
  const raw = t.rawData;
  if (raw && raw.length > 0) return tensorFromRawData(name, dtype, dims, raw);
  return tensor(dtype, dims, typedFieldData(t, name, dtype, dims));
}

function tensorFromRawData(name: string, dtype: DType, dims: number[], raw: Uint8Array): Tensor {
  const n = numel(dims);
  const info = DTYPES[dtype];
  if (raw.length !== n * info.bytes) {
    throw new Error(
      `tensor '${name}': raw_data has ${raw.length} bytes, dims [${dims}] of ${dtype} need ${n * info.bytes}`,
    );
  }
  // A buffer of its own: the bytes may sit at any offset of the decoded message, a typed view may not.
  const buf = new ArrayBuffer(raw.length);
  new Uint8Array(buf).set(raw);
  return tensor(dtype, dims, info.view(buf, 0, n));
}

/** The values of the repeated field that holds the dtype (int32_data also holds the 1-byte types). */
function typedFieldData(
  t: onnxProto.onnx.ITensorProto,
  name: string,
  dtype: DType,
  dims: number[],
): TensorData {
  const n = numel(dims);
  const out = DTYPES[dtype].make(n);
  const fail = (got: number): never => {
    throw new Error(`tensor '${name}': typed data has ${got} elements, dims [${dims}] need ${n}`);
  };
  switch (dtype) {
    case 'float32': {
      const src = t.floatData ?? [];
      if (src.length !== n) fail(src.length);
      (out as Float32Array).set(src);
      break;
    }
    case 'float64': {
      const src = t.doubleData ?? [];
      if (src.length !== n) fail(src.length);
      (out as Float64Array).set(src);
      break;
    }
    case 'int64': {
      const src = t.int64Data ?? [];
      if (src.length !== n) fail(src.length);
      const o = out as BigInt64Array;
      for (let i = 0; i < n; i++) o[i] = int64ToBigInt(src[i] as Int64Like);
      break;
    }
    case 'int32':
    case 'bool':
    case 'uint8':
    case 'int8': {
      const src = t.int32Data ?? [];
      if (src.length !== n) fail(src.length);
      (out as Int32Array | Uint8Array | Int8Array).set(src);
      break;
    }
    default: {
      const never: never = dtype;
      throw new Error(`unknown dtype ${String(never)}`);
    }
  }
  return out;
}

/** Encode a tensor as an ONNX TensorProto with raw_data (little endian). */
export function tensorToProto(name: string, t: Tensor): onnxProto.onnx.TensorProto {
  const src = t.data;
  const rawData = new Uint8Array(src.byteLength);
  rawData.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
  return new onnx.TensorProto({ name, dataType: onnxElemType(t.dtype), dims: [...t.dims], rawData });
}

function convert(t: Tensor, dtype: 'float32' | 'float64'): Tensor {
  if (t.dtype === dtype) return t;
  const n = t.data.length;
  const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  const src = t.data;
  if (src instanceof BigInt64Array) {
    for (let i = 0; i < n; i++) out[i] = Number(src[i]!);
  } else {
    out.set(src);
  }
  return tensor(dtype, t.dims, out);
}

/** Convert any tensor to float64 (returned as is when already float64). */
export function toFloat64(t: Tensor): Tensor {
  return convert(t, 'float64');
}

/** Convert any tensor to float32 (returned as is when already float32). */
export function toFloat32(t: Tensor): Tensor {
  return convert(t, 'float32');
}

/** The elements as plain numbers (int64 via Number), for shapes, axes and small tensors. */
export function toNumbers(t: Tensor): number[] {
  const src = t.data;
  if (src instanceof BigInt64Array) return Array.from(src, (v) => Number(v));
  return Array.from(src);
}
