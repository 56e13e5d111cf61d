/**
 * Child process of checkDevice('cuda') (device.ts): creates and runs a one-node session on the CUDA
 * execution provider alone and exits 0 when that works. onnxruntime's own log lines (the reason a provider
 * failed to load) go to stderr, where the parent reads them.
 */

import { singleNodeModel } from '../../compute/onnx/builders.js';
import { ort } from './session.js';

const model = singleNodeModel({
  op: 'Relu',
  inputs: [{ name: 'x', dtype: 'float32', dims: [2] }],
  outputs: [{ name: 'y', dtype: 'float32', dims: [2] }],
});
try {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cuda'] });
  const { y } = await session.run({ x: new ort.Tensor('float32', Float32Array.from([-1, 2]), [2]) });
  const out = y?.data as Float32Array | undefined;
  if (out?.[0] !== 0 || out[1] !== 2) throw new Error(`Relu([-1, 2]) on CUDA gave [${out?.join(', ')}]`);
  await session.release();
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
}
