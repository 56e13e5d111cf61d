import { modelInput, producedTensors } from '../core/inference/activations.js';
import { decodeModel } from '../core/onnx/model.js';
import { readUri } from '../core/run/blob.js';

export async function layersCommand(modelUri: string): Promise<void> {
  const model = decodeModel(await readUri(modelUri));
  const input = modelInput(model);
  process.stdout.write(`input ${input.name}: ${input.channels}x${input.height}x${input.width}\n`);
  for (const name of producedTensors(model)) process.stdout.write(`${name}\n`);
}
