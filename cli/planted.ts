import { join, resolve } from 'node:path';
import { generatePlanted } from '../core/adapters/planted/index.js';
import { CONFIG_DEFAULTS } from '../core/compute/run/config.js';
import type { RunOptions } from './run.js';

export interface PlantedCommandOptions {
  out: string;
  seed: number;
  imagesPerFeature: number;
  overwrite?: boolean;
}

/**
 * `pure planted`: writes a model and images with known polysemantic neurons (docs/planted.md), then prints
 * the `pure run` that analyses them. A demo and an acceptance test that need nothing outside this repository.
 */
export async function plantedCommand(options: PlantedCommandOptions): Promise<void> {
  const outDir = resolve(options.out);
  const truth = await generatePlanted({
    outDir,
    seed: options.seed,
    imagesPerFeature: options.imagesPerFeature,
    ...(options.overwrite ? { overwrite: true } : {}),
  });
  const polysemantic = truth.upperNeurons.filter((n) => n.kind === 'polysemantic');
  const run = plantedRunOptions(outDir, truth.layers, truth.preprocess);
  process.stdout.write(
    [
      `Wrote ${truth.images.length} images, the model and the truth to ${outDir}/`,
      `Planted: ${polysemantic.length} polysemantic neurons in ${truth.layers.upper}:`,
      ...polysemantic.map((n) => `  neuron ${n.channel}: ${n.name} (${n.expectedClusters} virtual neurons)`),
      'Analyse it with:',
      `  npx pure run --model ${run.model} --data ${run.data} --layers ${run.layers} \\`,
      `    --preprocess '${run.preprocess}' --k ${run.k} --out ${join(outDir, 'out')}`,
      '',
    ].join('\n'),
  );
}

export function plantedRunOptions(
  outDir: string,
  layers: { lower: string; upper: string },
  preprocess: unknown,
): Pick<RunOptions, 'model' | 'data' | 'layers' | 'k'> & { preprocess: string } {
  return {
    model: join(outDir, 'model.onnx'),
    data: join(outDir, 'images'),
    layers: `${layers.lower},${layers.upper}`,
    preprocess: JSON.stringify(preprocess),
    k: Math.min(CONFIG_DEFAULTS.k, 100),
  };
}
