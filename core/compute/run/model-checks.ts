/**
 * What a sweep's options must agree on with its model, checked from the graph alone before any work
 * (docs/design.md, "Preflight"): the preprocessing makes the input the model takes, the layers exist and
 * each one depends on the one before it, and the weights are finite. Each failure is an InputError whose
 * message names the option, its value and what to do.
 */
import { InputError } from '../errors.js';
import { defaultPreprocess, PREPROCESS_PRESETS, type PreprocessSpec } from '../images/preprocess.js';
import { assertKnownTensors, type ModelInput } from '../onnx/image-model.js';
import { GraphIndex, graphOf, type ModelProto } from '../onnx/model.js';
import { tensorFromProto } from '../onnx/tensor.js';

/** The preprocessing makes 3-channel squares of the model's input side; otherwise every image is skipped. */
export function checkPreprocessFits(
  input: ModelInput,
  preprocess: PreprocessSpec,
  given: string | undefined,
): void {
  if (input.channels !== 3) {
    throw new InputError(
      'InvalidModel',
      `--model: its input '${input.name}' has ${input.channels} channel(s); pure feeds RGB images (3 channels). ` +
        'Export the model with a 3-channel input',
    );
  }
  if (input.height === preprocess.cropSize && input.width === preprocess.cropSize) return;
  const fits = Object.entries(PREPROCESS_PRESETS).find(
    ([, spec]) => spec.cropSize === input.height && spec.cropSize === input.width,
  );
  const fix =
    input.height !== input.width
      ? 'pure crops square images; export the model with a square input'
      : `use ${fits ? `--preprocess ${fits[0]}` : `a JSON spec with "cropSize":${input.height}`}, or leave --preprocess out ` +
        `(the default for a ${input.height}x${input.width} input is ${JSON.stringify(defaultPreprocess(input.height))})`;
  throw new InputError(
    'PreprocessMismatch',
    `--preprocess ${given ?? '(default)'}: makes ${preprocess.cropSize}x${preprocess.cropSize} images, ` +
      `but the model takes ${input.height}x${input.width}; ${fix}`,
  );
}

/** Every tensor a tensor is computed from (its producers' inputs, transitively). */
function ancestorsOf(index: GraphIndex, tensor: string): Set<string> {
  const seen = new Set<string>();
  const stack = [tensor];
  while (stack.length > 0) {
    const producer = index.producer.get(stack.pop()!);
    if (producer === undefined) continue;
    for (const input of index.nodes[producer]!.input ?? []) {
      if (input && !seen.has(input)) {
        seen.add(input);
        stack.push(input);
      }
    }
  }
  return seen;
}

/**
 * Layers are listed lower first and each one is computed from the one before it: a circuit runs from
 * the lower layer to the upper one, so a wrong order or two parallel branches cannot be explained.
 */
export function checkLayerOrder(model: ModelProto, layers: readonly string[]): void {
  try {
    assertKnownTensors(model, layers);
  } catch (error) {
    throw new InputError('UnknownLayer', `--layers: ${(error as Error).message}`);
  }
  const index = new GraphIndex(graphOf(model));
  for (let i = 1; i < layers.length; i++) {
    const lower = layers[i - 1]!;
    const upper = layers[i]!;
    if (ancestorsOf(index, upper).has(lower)) continue;
    const position = (name: string) => index.producer.get(name) ?? -1;
    const sorted = [...layers].sort((a, b) => position(a) - position(b));
    throw new InputError(
      'LayerOrder',
      ancestorsOf(index, lower).has(upper)
        ? `--layers: ${JSON.stringify(upper)} comes before ${JSON.stringify(lower)} in the model; ` +
            `list lower layers first: --layers ${sorted.join(',')}`
        : `--layers: ${JSON.stringify(upper)} is not computed from ${JSON.stringify(lower)} (parallel branches), ` +
            'so no circuit joins them; pick layers on one path, e.g. the block outputs `pure layers <model>` lists',
    );
  }
}

/** Float weights that are NaN or infinite make every relevance NaN; name the first few. */
export function checkFiniteWeights(model: ModelProto): void {
  const bad: string[] = [];
  for (const initializer of graphOf(model).initializer ?? []) {
    const { dtype, data } = tensorFromProto(initializer);
    if (dtype !== 'float32' && dtype !== 'float64') continue;
    const values = data as Float32Array | Float64Array;
    if (!values.every(Number.isFinite)) bad.push(initializer.name ?? '?');
  }
  if (bad.length > 0) {
    throw new InputError(
      'InvalidModel',
      `--model: ${bad.length} weight tensor(s) contain NaN or infinite values (${bad.slice(0, 5).join(', ')}` +
        `${bad.length > 5 ? ', ...' : ''}); the checkpoint is broken, export it again`,
    );
  }
}
