/**
 * The evaluator of step 5 (docs/design.md, "Evaluation"): the options `--evaluator`, `--evaluator-output`
 * and `--evaluator-preprocess` turned into the EvaluatorSpec a run stores, with every mistake found before
 * the sweep starts (unreadable file, not an image model, unknown output, preprocessing of the wrong size).
 */
import { readUri } from '../adapters/storage/blob.js';
import { InputError } from '../compute/errors.js';
import {
  defaultPreprocess,
  type PreprocessSpec,
  parsePreprocessOption,
} from '../compute/images/preprocess.js';
import type { ModelProto } from '../compute/onnx/model.js';
import { type EvaluatorSpec, modelDigestOf } from '../compute/run/config.js';
import { decodeModelOption, EVALUATOR, modelInputOption } from './preflight.js';

export interface EvaluatorRequest {
  /** Path or s3:// URI of the encoder (ONNX). */
  evaluator: string;
  evaluatorOutput?: string;
  /** clip | imagenet | cifar10 | a JSON spec; default: `<evaluator>.json` beside it, else from its input size. */
  evaluatorPreprocess?: string;
}

/** Reads the encoder once: its digest, input, output and preprocessing, each checked. */
export async function configureEvaluator(request: EvaluatorRequest, uri: string): Promise<EvaluatorSpec> {
  let bytes: Uint8Array;
  try {
    bytes = await readUri(uri);
  } catch (error) {
    throw new InputError(
      EVALUATOR.kind,
      `--evaluator ${uri}: cannot read it (${(error as Error).message}); pass the path or s3:// URI of an ` +
        'image encoder exported to ONNX (tools/export_encoder.py)',
    );
  }
  const model = decodeModelOption(bytes, uri, EVALUATOR);
  const input = modelInputOption(model, uri, EVALUATOR);
  const output = checkOutput(model, uri, request.evaluatorOutput);
  const preprocess = await evaluatorPreprocess(request.evaluatorPreprocess, uri, input.height);
  if (input.channels !== 3 || preprocess.cropSize !== input.height || preprocess.cropSize !== input.width) {
    throw new InputError(
      'InvalidEvaluator',
      `--evaluator-preprocess ${request.evaluatorPreprocess ?? '(default)'}: makes 3x${preprocess.cropSize}x` +
        `${preprocess.cropSize} inputs, but the encoder takes ${input.channels}x${input.height}x${input.width}; ` +
        `pass a preset or JSON spec with "cropSize":${input.height}`,
    );
  }
  return { uri, digest: modelDigestOf(bytes), ...(output ? { output } : {}), preprocess };
}

/** The output asked for exists in the encoder's graph (an output or any intermediate tensor). */
function checkOutput(model: ModelProto, uri: string, output: string | undefined): string | undefined {
  if (output === undefined) return undefined;
  const graph = model.graph!;
  const names = new Set([
    ...(graph.output ?? []).map((o) => o.name),
    ...(graph.node ?? []).flatMap((n) => n.output ?? []),
  ]);
  if (names.has(output)) return output;
  const outputs = (graph.output ?? []).map((o) => o.name).join(', ');
  throw new InputError(
    'InvalidEvaluator',
    `--evaluator-output ${output}: no such tensor in ${uri}; its outputs are ${outputs} ` +
      '(any intermediate tensor name works too, e.g. a pooled feature map)',
  );
}

/** The preset or JSON spec given, else the `.json` written beside the encoder by tools/export_encoder.py. */
async function evaluatorPreprocess(
  value: string | undefined,
  uri: string,
  inputSize: number,
): Promise<PreprocessSpec> {
  if (value) return parseSpec(value, '--evaluator-preprocess');
  const beside = await readUri(`${uri}.json`).catch(() => undefined);
  if (beside) return parseSpec(new TextDecoder().decode(beside), `${uri}.json`);
  return defaultPreprocess(inputSize);
}

function parseSpec(value: string, where: string): PreprocessSpec {
  return parsePreprocessOption(value, where, 'InvalidEvaluator');
}
