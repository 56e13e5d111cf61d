import { localModelFile } from '../core/adapters/models/model-file.js';
import { listLayers } from '../core/adapters/onnxruntime/attribution.js';
import { stageOutputs } from '../core/compute/run/layers.js';

export interface LayersOptions {
  all?: boolean;
}

/** Prints candidate layers: stage outputs (what `--layers auto` picks), block outputs, then the rest. */
export async function layersCommand(modelUri: string, options: LayersOptions): Promise<void> {
  const layers = await listLayers(await localModelFile(modelUri));
  const auto = new Set(stageOutputs(layers));
  const shown = options.all ? layers : layers.filter((l) => l.kind !== 'activation' || auto.has(l.name));
  const width = Math.max(...shown.map((l) => l.name.length), 5);
  process.stdout.write(`${'layer'.padEnd(width)}  kind         shape            auto\n`);
  for (const l of shown) {
    const shape = l.dims.map(String).join('x');
    process.stdout.write(
      `${l.name.padEnd(width)}  ${l.kind.padEnd(11)}  ${shape.padEnd(15)}  ${auto.has(l.name) ? 'yes' : ''}\n`,
    );
  }
  if (!options.all && shown.length < layers.length) {
    process.stdout.write(`(${layers.length - shown.length} more 4-D activations: pure layers --all)\n`);
  }
  process.stdout.write(`\n--layers auto = ${[...auto].join(',')}\n`);
}
