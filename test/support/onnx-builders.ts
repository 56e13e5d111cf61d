import type { NodeSpec } from '../../core/compute/onnx/builders.js';

export * from '../../core/compute/onnx/builders.js';

/** A one-output node, as graphs built in tests write them: `node('Relu', ['x'], 'y')`. */
export const node = (
  op: string,
  inputs: string[],
  output: string,
  attributes?: NodeSpec['attributes'],
): NodeSpec => ({
  op,
  inputs,
  outputs: [output],
  ...(attributes ? { attributes } : {}),
});
