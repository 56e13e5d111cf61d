import { loadModel } from '../../core/adapters/models/model-file.js';
import { graphOf } from '../../core/compute/onnx/model.js';
import { type Tensor, tensor } from '../../core/compute/onnx/tensor.js';
import { evaluate } from './interpreter/index.js';

/**
 * A neuron's circuit on one image computed without onnxruntime and without backward graphs: the whole
 * model in the float64 reference interpreter, image -> a_L' -> a_L, and for every lower channel j the
 * central difference of g . a_L(a_L' + t a_L' e_j) at t = 0, with g = ReLU(a_L) on channel `neuron`
 * held fixed. That is R_j before normalisation; the result is normalised by sum |R_j| + 1e-10 like
 * docs/design.md step 2. Also returns a_L (float64) for further checks.
 */
export async function circuitByFiniteDifferences(
  modelPath: string,
  inputName: string,
  lower: string,
  upper: string,
  image: Float32Array,
  imageDims: readonly number[],
  neuron: number,
): Promise<{ relevance: Float64Array; upper: Tensor }> {
  const graph = graphOf(await loadModel(modelPath));
  const input = tensor('float64', [1, ...imageDims], Float64Array.from(image));
  const forward = evaluate(graph, { [inputName]: input }, [lower, upper], { float64: true });
  const a = forward[lower]!;
  const upperData = forward[upper]!.data as Float64Array;
  const upperChannels = forward[upper]!.dims[1]!;
  const plane = upperData.length / upperChannels;
  const objective = (x: Tensor) => {
    const y = evaluate(graph, { [lower]: x }, [upper], { float64: true })[upper]!.data as Float64Array;
    let s = 0;
    for (let i = neuron * plane; i < (neuron + 1) * plane; i++) s += Math.max(0, upperData[i]!) * y[i]!;
    return s;
  };
  const lowerChannels = a.dims[1]!;
  const lowerPlane = a.data.length / lowerChannels;
  const h = 1e-6;
  const raw = Float64Array.from({ length: lowerChannels }, (_, j) => {
    const shifted = (sign: number) =>
      tensor(
        'float64',
        a.dims,
        Float64Array.from(a.data as Float64Array, (v, i) =>
          Math.floor(i / lowerPlane) === j ? v * (1 + sign * h) : v,
        ),
      );
    return (objective(shifted(1)) - objective(shifted(-1))) / (2 * h);
  });
  const norm = raw.reduce((s, v) => s + Math.abs(v), 0) + 1e-10;
  return { relevance: raw.map((v) => v / norm), upper: forward[upper]! };
}
