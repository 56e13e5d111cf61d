/**
 * Whole models: the shared ResNet-20 and SqueezeNet 1.1 evaluated by the interpreter against
 * onnxruntime, for the logits and for the block outputs PURE studies, in float32 and float64 mode.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import type { Tensor } from '../../../core/compute/onnx/tensor.js';
import { evaluate } from '../../support/interpreter/index.js';
import { valueInfo } from '../../support/onnx-builders.js';
import { sharedModel } from '../../support/paths.js';
import { assertClose, randomFloats, rng, runOrt } from './helpers.js';

const { onnx } = onnxProto;

/** The model, and its bytes with `extra` tensors added as graph outputs so onnxruntime returns them. */
function load(
  file: string,
  extra: readonly string[],
): { graph: onnxProto.onnx.IGraphProto; bytes: Uint8Array } {
  const model = onnx.ModelProto.decode(readFileSync(sharedModel(file)));
  const graph = model.graph!;
  const withOutputs = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const g = withOutputs.graph!;
  g.output = [...(g.output ?? []), ...extra.map((name) => valueInfo({ name, dtype: 'float32' }))];
  return { graph, bytes: onnx.ModelProto.encode(withOutputs).finish() };
}

async function compare(
  file: string,
  size: number,
  blocks: readonly string[],
  seeds: readonly number[],
): Promise<void> {
  const { graph, bytes } = load(file, blocks);
  const names = ['logits', ...blocks];
  for (const seed of seeds) {
    const input: Tensor = randomFloats(rng(seed), [1, 3, size, size], -2, 2);
    const ref = await runOrt(bytes, { input }, names);
    const mine = evaluate(graph, { input }, names);
    const mine64 = evaluate(graph, { input }, names, { float64: true });
    for (const name of names) {
      assertClose(mine[name]!, ref[name]!, 1e-4, `${file} seed ${seed} ${name}`);
      assert.equal(mine64[name]!.dtype, 'float64');
      assertClose(mine64[name]!, ref[name]!, 1e-4, `${file} seed ${seed} ${name} (float64 mode)`);
    }
    const l = mine.logits!.data as Float32Array;
    assert.ok(
      l.some((v) => v !== l[0]),
      'logits are not all equal',
    );
  }
}

test('ResNet-20 logits and block outputs match onnxruntime on two random inputs', async () => {
  await compare(
    'resnet20-cifar10.onnx',
    32,
    [
      '/layer1/layer1.2/Relu_1_output_0',
      '/layer2/layer2.2/Relu_1_output_0',
      '/layer3/layer3.2/Relu_1_output_0',
    ],
    [1, 2],
  );
});

test('ResNet-20 evaluates one image in well under a second', () => {
  const { graph } = load('resnet20-cifar10.onnx', []);
  const input = randomFloats(rng(3), [1, 3, 32, 32], -2, 2);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    evaluate(graph, { input }, ['logits']);
    best = Math.min(best, performance.now() - t0);
  }
  assert.ok(best < 1000, `ResNet-20 took ${best.toFixed(0)} ms`);
});

test('ResNet-20 from an intermediate feed: layer2 output to logits', async () => {
  const block = '/layer2/layer2.2/Relu_1_output_0';
  const { graph, bytes } = load('resnet20-cifar10.onnx', [block]);
  const input = randomFloats(rng(4), [1, 3, 32, 32], -2, 2);
  const ref = await runOrt(bytes, { input }, ['logits', block]);
  const tail = evaluate(graph, { [block]: ref[block]! }, ['logits']);
  assertClose(tail.logits!, ref.logits!, 1e-4, 'logits from the fed block');
});

test('SqueezeNet 1.1 logits and the last two Fire outputs match onnxruntime', async () => {
  const { graph } = load('squeezenet1.1-imagenet.onnx', []);
  const fires = graph.node!.filter((n) => n.opType === 'Concat').map((n) => n.output![0]!);
  assert.ok(fires.length >= 2, 'SqueezeNet has Fire Concat outputs');
  await compare('squeezenet1.1-imagenet.onnx', 224, fires.slice(-2), [5]);
});
