/** core/compute/onnx/tensor.ts and core/compute/onnx/attributes.ts: construction, proto decoding and encoding, attributes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import {
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  attrTensor,
  hasAttr,
} from '../../../core/compute/onnx/attributes.js';
import {
  dtypeFromOnnx,
  numel,
  onnxElemType,
  tensor,
  tensorFromProto,
  tensorToProto,
  toFloat32,
  toFloat64,
  toNumbers,
} from '../../../core/compute/onnx/tensor.js';
import { nodeProto } from '../../support/onnx-builders.js';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;

/** Encode and decode, so int64 fields come back as protobufjs Long values, as in a loaded model. */
function roundTrip(t: onnxProto.onnx.ITensorProto): onnxProto.onnx.TensorProto {
  return onnx.TensorProto.decode(onnx.TensorProto.encode(t).finish());
}

test('tensor validates its length and dims and converts plain numbers', () => {
  assert.equal(numel([]), 1);
  assert.equal(numel([2, 0, 3]), 0);
  const t = tensor('int64', [2], [3, -4]);
  assert.ok(t.data instanceof BigInt64Array);
  assert.deepEqual(toNumbers(t), [3, -4]);
  assert.deepEqual(toNumbers(tensor('bool', [3], [2, 0, -1])), [1, 0, 1]);
  assert.throws(() => tensor('float32', [2, 2], [1, 2, 3]), /3 elements .* need 4/);
  assert.throws(
    () => tensor('float32', [2], new Float64Array(2)),
    /Float64Array does not hold dtype float32/,
  );
  assert.throws(() => tensor('float32', [-1], []), /invalid dims/);
  assert.equal(tensor('float32', [], [5]).data.length, 1);
});

test('dtype codes map both ways; unknown codes name the number', () => {
  for (const d of ['float32', 'float64', 'int64', 'int32', 'bool', 'uint8', 'int8'] as const) {
    assert.equal(dtypeFromOnnx(onnxElemType(d)), d);
  }
  assert.equal(onnxElemType('float32'), DT.FLOAT);
  assert.throws(() => dtypeFromOnnx(10), /element type 10 \(FLOAT16\)/);
  assert.throws(() => dtypeFromOnnx(99), /element type 99/);
});

test('tensorFromProto reads the typed fields', () => {
  const fl = tensorFromProto(
    roundTrip({ name: 'f', dataType: DT.FLOAT, dims: [2, 2], floatData: [1, 2.5, -3, 4] }),
  );
  assert.equal(fl.dtype, 'float32');
  assert.deepEqual([...fl.dims], [2, 2]);
  assert.deepEqual(toNumbers(fl), [1, 2.5, -3, 4]);
  const big = 2 ** 40 + 5;
  const i = tensorFromProto(roundTrip({ name: 'i', dataType: DT.INT64, dims: [3], int64Data: [-3, big, 7] }));
  assert.deepEqual([...(i.data as BigInt64Array)], [-3n, BigInt(big), 7n]);
  const d = tensorFromProto(roundTrip({ name: 'd', dataType: DT.DOUBLE, dims: [2], doubleData: [0.1, -2] }));
  assert.deepEqual(toNumbers(d), [0.1, -2]);
  const b = tensorFromProto(roundTrip({ name: 'b', dataType: DT.BOOL, dims: [3], int32Data: [1, 0, 1] }));
  assert.equal(b.dtype, 'bool');
  assert.deepEqual(toNumbers(b), [1, 0, 1]);
  const s8 = tensorFromProto(roundTrip({ name: 's', dataType: DT.INT8, dims: [2], int32Data: [-5, 100] }));
  assert.deepEqual(toNumbers(s8), [-5, 100]);
  const scalar = tensorFromProto(roundTrip({ name: 'k', dataType: DT.INT32, int32Data: [9] }));
  assert.deepEqual([...scalar.dims], []);
  assert.throws(
    () => tensorFromProto({ name: 'short', dataType: DT.FLOAT, dims: [3], floatData: [1] }),
    /'short'.*1 elements/,
  );
});

test('raw_data round-trips through tensorToProto for every dtype, little endian', () => {
  const cases = [
    tensor('float32', [2, 2], [1.5, -2, 0, 3.25]),
    tensor('float64', [3], [0.1, -1e300, 7]),
    tensor('int64', [2], new BigInt64Array([-9223372036854775808n, 42n])),
    tensor('int32', [2], [-7, 2147483647]),
    tensor('bool', [3], [1, 0, 1]),
    tensor('uint8', [2], [0, 255]),
    tensor('int8', [2], [-128, 127]),
  ];
  for (const t of cases) {
    const back = tensorFromProto(roundTrip(tensorToProto('t', t)));
    assert.equal(back.dtype, t.dtype);
    assert.deepEqual([...back.dims], [...t.dims]);
    assert.deepEqual([...back.data], [...t.data], t.dtype);
  }
  const p = tensorToProto('le', tensor('int32', [1], [1]));
  assert.deepEqual([...p.rawData], [1, 0, 0, 0]);
  // raw_data that does not start on an aligned offset still decodes.
  const bytes = new Uint8Array(9);
  bytes.set(new Uint8Array(new Float64Array([2.5]).buffer), 1);
  const unaligned = tensorFromProto({
    name: 'u',
    dataType: DT.DOUBLE,
    dims: [1],
    rawData: bytes.subarray(1),
  });
  assert.deepEqual(toNumbers(unaligned), [2.5]);
});

test('tensorFromProto rejects external data and unknown types, naming the tensor', () => {
  assert.throws(
    () =>
      tensorFromProto({
        name: 'conv.weight',
        dataType: DT.FLOAT,
        dims: [2],
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [{ key: 'location', value: 'w.bin' }],
      }),
    /'conv.weight' uses external data/,
  );
  assert.throws(
    () => tensorFromProto({ name: 'half', dataType: DT.FLOAT16, dims: [1], int32Data: [0] }),
    /'half'.*element type 10/,
  );
  assert.throws(
    () => tensorFromProto({ name: 'raw', dataType: DT.FLOAT, dims: [2], rawData: new Uint8Array(4) }),
    /'raw'.*4 bytes/,
  );
});

test('toFloat64, toFloat32 and toNumbers convert', () => {
  const t = tensor('float32', [2], [0.1, 2]);
  const d = toFloat64(t);
  assert.equal(d.dtype, 'float64');
  assert.equal(d.data[0], Math.fround(0.1));
  assert.equal(toFloat64(d), d);
  assert.equal(toFloat32(t), t);
  assert.deepEqual(toNumbers(toFloat32(tensor('int64', [2], [5, -6]))), [5, -6]);
  assert.equal(toFloat32(tensor('float64', [1], [0.1])).data[0], Math.fround(0.1));
});

test('attribute helpers read decoded nodes and name node and attribute when one is missing', () => {
  const built = nodeProto({
    op: 'Conv',
    name: 'conv1',
    inputs: ['x'],
    outputs: ['y'],
    attributes: {
      group: -2,
      pads: [1, 2, 3, 4],
      alpha: 1,
      auto_pad: 'SAME_UPPER',
      value: tensor('int64', [2], [5, 6]),
    },
  });
  const node = onnx.NodeProto.decode(onnx.NodeProto.encode(built).finish());
  assert.equal(attrInt(node, 'group'), -2);
  assert.deepEqual(attrInts(node, 'pads'), [1, 2, 3, 4]);
  assert.equal(attrFloat(node, 'alpha'), 1);
  assert.equal(attrString(node, 'auto_pad'), 'SAME_UPPER');
  assert.deepEqual(toNumbers(attrTensor(node, 'value')!), [5, 6]);
  assert.equal(attrTensor(node, 'nothing'), undefined);
  assert.ok(hasAttr(node, 'pads'));
  assert.ok(!hasAttr(node, 'strides'));
  assert.equal(attrInt(node, 'strides', 3), 3);
  assert.deepEqual(attrInts(node, 'strides', [1, 1]), [1, 1]);
  assert.equal(attrFloat(node, 'beta', 0.5), 0.5);
  assert.equal(attrString(node, 'mode', 'constant'), 'constant');
  assert.throws(() => attrInt(node, 'strides'), /node 'conv1' \(Conv\) has no attribute 'strides'/);
  assert.throws(() => attrInts(node, 'kernel_shape'), /'conv1'.*'kernel_shape'/);
  assert.throws(() => attrFloat(node, 'epsilon'), /'conv1'.*'epsilon'/);
  assert.throws(() => attrString(node, 'mode'), /'conv1'.*'mode'/);
});
