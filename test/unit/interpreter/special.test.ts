/** Hand-computed cases, graph evaluation behaviour (walk back, feeds, errors), and the broadcast helpers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import { type Tensor, tensor, toNumbers } from '../../../core/compute/onnx/tensor.js';
import {
  broadcastShapes,
  evaluate,
  evaluateNode,
  reduceToShape,
  supportedOps,
} from '../../support/interpreter/index.js';
import { type ModelSpec, modelProto, nodeProto } from '../../support/onnx-builders.js';

const { onnx } = onnxProto;

const grid3 = (): Tensor => tensor('float32', [1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);

function run(op: string, inputs: (Tensor | undefined)[], attributes = {}, outputs = 1): Tensor[] {
  const node = nodeProto({
    op,
    name: `${op}_test`,
    inputs: inputs.map((t, i) => (t ? `x${i}` : '')),
    outputs: Array.from({ length: outputs }, (_, i) => `y${i}`),
    attributes,
  });
  return evaluateNode(node, inputs);
}

test('a tiny conv computed by hand', () => {
  const w = tensor('float32', [1, 1, 2, 2], [1, 2, 3, 4]);
  const [y] = run('Conv', [grid3(), w, tensor('float32', [1], [1])]);
  assert.deepEqual([...y!.dims], [1, 1, 2, 2]);
  assert.deepEqual(toNumbers(y!), [38, 48, 68, 78]);
  const [z] = run('Conv', [grid3(), w], { pads: [1, 1, 1, 1], strides: [2, 2] });
  assert.deepEqual(toNumbers(z!), [4, 18, 36, 77]);
});

test('a ConvTranspose computed by hand is the adjoint of the Conv', () => {
  // <Conv(x), y> = <x, ConvTranspose(y)> for the same weights, strides and pads.
  const w = tensor('float32', [1, 1, 2, 2], [1, 2, 3, 4]);
  const attrs = { pads: [1, 1, 1, 1], strides: [2, 2] };
  const [cx] = run('Conv', [grid3(), w], attrs);
  const y = tensor('float64', [1, 1, 2, 2], [0.5, -1, 2, 3]);
  const [ty] = run('ConvTranspose', [y, tensor('float64', [1, 1, 2, 2], [1, 2, 3, 4])], {
    ...attrs,
    output_padding: [1, 1],
  });
  assert.deepEqual([...ty!.dims], [1, 1, 3, 3]);
  const dot = (a: Tensor, b: Tensor) => toNumbers(a).reduce((s, v, i) => s + v * toNumbers(b)[i]!, 0);
  assert.equal(dot(cx!, y), dot(grid3(), ty!));
});

test('ceil_mode pooling computed by hand', () => {
  const attrs = { kernel_shape: [2, 2], strides: [2, 2] };
  assert.deepEqual(toNumbers(run('MaxPool', [grid3()], attrs)[0]!), [5]);
  const [m, idx] = run('MaxPool', [grid3()], { ...attrs, ceil_mode: 1 }, 2);
  assert.deepEqual([...m!.dims], [1, 1, 2, 2]);
  assert.deepEqual(toNumbers(m!), [5, 6, 8, 9]);
  assert.deepEqual(toNumbers(idx!), [4, 5, 7, 8]);
  assert.equal(idx!.dtype, 'int64');
  const [a] = run('AveragePool', [grid3()], { ...attrs, ceil_mode: 1 });
  assert.deepEqual(toNumbers(a!), [3, 4.5, 7.5, 9]);
});

test('negative-step Slice computed by hand, with clamping', () => {
  const x = tensor('float32', [10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const i64 = (v: number[]) => tensor('int64', [v.length], v);
  assert.deepEqual(toNumbers(run('Slice', [x, i64([-2]), i64([1]), i64([0]), i64([-3])])[0]!), [8, 5, 2]);
  assert.deepEqual(
    toNumbers(run('Slice', [x, i64([100]), i64([-100]), undefined, i64([-4])])[0]!),
    [9, 5, 1],
  );
  assert.deepEqual(toNumbers(run('Slice', [x, i64([3]), i64([3])])[0]!), []);
});

/** x -> Relu -> a -> Neg -> c, a -> FooBar -> b (unsupported), a + w (initializer) -> d, Constant -> k. */
function graph(): onnxProto.onnx.GraphProto {
  const spec: ModelSpec = {
    nodes: [
      { op: 'Relu', name: 'relu', inputs: ['x'], outputs: ['a'] },
      { op: 'Neg', name: 'neg', inputs: ['a'], outputs: ['c'] },
      { op: 'FooBar', name: 'mystery', inputs: ['a'], outputs: ['b'] },
      { op: 'Add', name: 'add', inputs: ['a', 'w'], outputs: ['d'] },
      { op: 'Constant', name: 'const', inputs: [], outputs: ['k'], attributes: { value_float: 0.1 } },
      { op: 'Mul', name: 'mul', inputs: ['d', 'k'], outputs: ['e'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [3] }],
    outputs: [{ name: 'c', dtype: 'float32' }],
    initializers: { w: tensor('float32', [3], [10, 20, 30]) },
  };
  const bytes = onnx.ModelProto.encode(modelProto(spec)).finish();
  return onnx.ModelProto.decode(bytes).graph as onnxProto.onnx.GraphProto;
}

test('evaluate computes only what the outputs need and reads initializers', () => {
  const g = graph();
  const x = tensor('float32', [3], [-1, 2, -3]);
  const r = evaluate(g, { x }, ['c', 'd']);
  assert.deepEqual(Object.keys(r).sort(), ['c', 'd']);
  assert.deepEqual(toNumbers(r.c!), [-0, -2, -0]);
  assert.deepEqual(toNumbers(r.d!), [10, 22, 30]);
});

test('an unsupported op names the node, the op type and the supported list', () => {
  assert.throws(
    () => evaluate(graph(), { x: tensor('float32', [3], [1, 2, 3]) }, ['b']),
    (e: Error) =>
      /node 'mystery' \(FooBar\)/.test(e.message) &&
      e.message.includes('supported:') &&
      e.message.includes('Conv'),
  );
  assert.ok(supportedOps.includes('ConvTranspose'));
  const custom = nodeProto({ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['y'], domain: 'com.example' });
  assert.throws(
    () => evaluateNode(custom, [tensor('float32', [1], [1])]),
    /'r' \(Relu\).*domain 'com.example'/,
  );
});

test('a feed overrides the node producing that tensor; missing inputs and cycles are errors', () => {
  const g = graph();
  const r = evaluate(g, { a: tensor('float32', [2], [5, -6]) }, ['c']);
  assert.deepEqual(toNumbers(r.c!), [-5, 6]);
  assert.throws(() => evaluate(g, {}, ['c']), /tensor 'x' is not fed, not an initializer/);
  const cyclic = new onnx.GraphProto({
    node: [
      nodeProto({ op: 'Relu', name: 'r1', inputs: ['p'], outputs: ['q'] }),
      nodeProto({ op: 'Relu', name: 'r2', inputs: ['q'], outputs: ['p'] }),
    ],
  });
  assert.throws(() => evaluate(cyclic, {}, ['q']), /cycle/);
});

test('float64 mode promotes feeds, initializers and constants and computes in float64', () => {
  const g = graph();
  const x = tensor('float32', [3], [0.3, 0.7, 1.1]);
  const r32 = evaluate(g, { x }, ['e']);
  const r64 = evaluate(g, { x }, ['e'], { float64: true });
  assert.equal(r32.e!.dtype, 'float32');
  assert.equal(r64.e!.dtype, 'float64');
  const f = Math.fround;
  const xs = [0.3, 0.7, 1.1];
  const ws = [10, 20, 30];
  assert.deepEqual(
    toNumbers(r64.e!),
    xs.map((v, i) => (f(v) + ws[i]!) * f(0.1)),
  );
  assert.deepEqual(
    toNumbers(r32.e!),
    xs.map((v, i) => f(f(f(v) + ws[i]!) * f(0.1))),
  );
  const cast = nodeProto({ op: 'Cast', inputs: ['x'], outputs: ['y'], attributes: { to: 1 } });
  assert.equal(evaluateNode(cast, [tensor('int64', [1], [3])], { float64: true })[0]!.dtype, 'float64');
});

test('broadcastShapes and reduceToShape', () => {
  assert.deepEqual(broadcastShapes([2, 1, 3], [4, 1]), [2, 4, 3]);
  assert.deepEqual(broadcastShapes([], [3]), [3]);
  assert.throws(() => broadcastShapes([2], [3]), /not broadcastable/);
  const g = tensor('float64', [2, 3], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(toNumbers(reduceToShape(g, [3])), [5, 7, 9]);
  assert.deepEqual(toNumbers(reduceToShape(g, [2, 1])), [6, 15]);
  assert.deepEqual(toNumbers(reduceToShape(g, [1, 3])), [5, 7, 9]);
  assert.deepEqual(toNumbers(reduceToShape(g, [])), [21]);
  assert.equal(reduceToShape(g, [2, 3]), g);
  assert.throws(() => reduceToShape(g, [2]), /broadcast/);
  assert.throws(() => reduceToShape(g, [4, 2, 3]), /does not broadcast/);
});

test('ops reject bad inputs with the node named', () => {
  const x = tensor('float32', [2, 3], [1, 2, 3, 4, 5, 6]);
  assert.throws(
    () => run('Reshape', [x, tensor('int64', [1], [5])]),
    /'Reshape_test' \(Reshape\): cannot reshape/,
  );
  assert.throws(() => run('Add', [x, tensor('float32', [2], [1, 2])]), /'Add_test'.*not broadcastable/);
  assert.throws(() => run('Conv', [x]), /'Conv_test'.*missing required input 1/);
  assert.throws(() => run('Gather', [x, tensor('int64', [1], [2])]), /index 2 out of range/);
});
