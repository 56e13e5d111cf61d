import { loadModel } from '../../core/adapters/models/model-file.js';
import { featureView, type TokenPositions } from '../../core/compute/onnx/feature-layout.js';
import { graphOf } from '../../core/compute/onnx/model.js';
import { type Tensor, tensor } from '../../core/compute/onnx/tensor.js';
import { evaluate } from './interpreter/index.js';

/**
 * A neuron's circuit on one image computed without onnxruntime and without backward graphs: the whole
 * model in the float64 reference interpreter, image -> a_L' -> a_L, and for every lower channel j the
 * central difference of g . a_L(a_L' + t a_L' e_j) at t = 0, with g = ReLU(a_L) on channel `neuron`
 * held fixed. That is R_j before normalisation; the result is normalised by sum |R_j| + 1e-10 like
 * docs/design.md step 2. Channels are a layer's neurons as feature-layout.ts places them (axis 1 of
 * [N, C, ...], the last axis of a token layer [N, T, D]). With tokens 'patches' g is also zero at a
 * token layer's leading non-patch tokens (T - floor(sqrt(T))^2 of them, counted here on their own).
 * Also returns a_L (float64) for further checks.
 */
export async function circuitByFiniteDifferences(
  modelPath: string,
  inputName: string,
  lower: string,
  upper: string,
  image: Float32Array,
  imageDims: readonly number[],
  neuron: number,
  tokens: TokenPositions = 'all',
): Promise<{ relevance: Float64Array; upper: Tensor }> {
  const graph = graphOf(await loadModel(modelPath));
  const input = tensor('float64', [1, ...imageDims], Float64Array.from(image));
  const forward = evaluate(graph, { [inputName]: input }, [lower, upper], { float64: true });
  const a = forward[lower]!;
  const upperData = forward[upper]!.data as Float64Array;
  const up = featureView(forward[upper]!.dims);
  const positionsOf = (view: typeof up, c: number) =>
    Array.from({ length: view.positions }, (_, p) => view.base(0, c) + p * view.stride);
  const grid = Math.floor(Math.sqrt(up.positions));
  const skipped = tokens === 'patches' && up.layout.kind === 'tokens' ? up.positions - grid * grid : 0;
  const neuronAt = positionsOf(up, neuron).slice(skipped);
  const objective = (x: Tensor) => {
    const y = evaluate(graph, { [lower]: x }, [upper], { float64: true })[upper]!.data as Float64Array;
    let s = 0;
    for (const i of neuronAt) s += Math.max(0, upperData[i]!) * y[i]!;
    return s;
  };
  const low = featureView(a.dims);
  const h = 1e-6;
  const raw = Float64Array.from({ length: low.features }, (_, j) => {
    const ofJ = positionsOf(low, j);
    const shifted = (sign: number) => {
      const data = Float64Array.from(a.data as Float64Array);
      for (const i of ofJ) data[i] = data[i]! * (1 + sign * h);
      return tensor('float64', a.dims, data);
    };
    return (objective(shifted(1)) - objective(shifted(-1))) / (2 * h);
  });
  const norm = raw.reduce((s, v) => s + Math.abs(v), 0) + 1e-10;
  return { relevance: raw.map((v) => v / norm), upper: forward[upper]! };
}
