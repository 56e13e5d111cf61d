import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import { openActivationModel } from '../../../core/adapters/onnxruntime/activations.js';
import { withSymbolicBatch } from '../../../core/compute/onnx/batch.js';
import { sharedModel } from '../../support/paths.js';

const { onnx } = onnxProto;

function batchDim(
  value: onnxProto.onnx.IValueInfoProto | undefined,
): onnxProto.onnx.TensorShapeProto.IDimension {
  const dim = value?.type?.tensorType?.shape?.dim?.[0];
  assert.ok(dim, 'the value has a batch axis');
  return dim;
}

/** ResNet-20 as `torch.onnx.export` writes it without dynamic_axes: batch fixed to 1. */
async function fixedBatchResNet20(): Promise<Uint8Array> {
  const model = onnx.ModelProto.decode(await readFile(sharedModel('resnet20-cifar10.onnx')));
  for (const value of [...(model.graph!.input ?? []), ...(model.graph!.output ?? [])]) {
    const dim = batchDim(value);
    dim.dimParam = '';
    dim.dimValue = 1;
  }
  return onnx.ModelProto.encode(model).finish();
}

test('a model exported with a fixed batch of 1 runs batches after canonisation, with identical values', async () => {
  const bytes = await fixedBatchResNet20();
  const canonical = withSymbolicBatch(onnx.ModelProto.decode(bytes));
  assert.equal(batchDim(canonical.graph?.input?.[0]).dimParam, 'N');
  assert.equal(batchDim(canonical.graph?.output?.[0]).dimParam, 'N');
  const dynamic = onnx.ModelProto.decode(await readFile(sharedModel('resnet20-cifar10.onnx')));
  assert.equal(withSymbolicBatch(dynamic), dynamic, 'a symbolic batch is left alone');

  const images = Float32Array.from({ length: 5 * 3 * 32 * 32 }, (_, i) => Math.sin(i));
  const fixed = await openActivationModel(bytes, ['logits']);
  const reference = await openActivationModel(await readFile(sharedModel('resnet20-cifar10.onnx')), [
    'logits',
  ]);
  const a = (await fixed.run(images, 5)).get('logits')!;
  const b = (await reference.run(images, 5)).get('logits')!;
  assert.deepEqual(a.dims, [5, 10]);
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
  await fixed.release();
  await reference.release();
});
