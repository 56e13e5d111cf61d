import { join } from 'node:path';
import type { PlantedTruth } from '../../core/adapters/planted/index.js';
import { CONFIG_DEFAULTS, type SweepConfig } from '../../core/compute/run/config.js';

/** A complete sweep configuration for tests: the defaults, plus what a test sets. */
export function testConfig(
  fields: Pick<SweepConfig, 'runId' | 'modelUri' | 'dataUri' | 'outUri' | 'layers' | 'preprocess'> &
    Partial<SweepConfig>,
): SweepConfig {
  return { ...CONFIG_DEFAULTS, clusterCounts: [...CONFIG_DEFAULTS.clusterCounts], ...fields };
}

/**
 * The sweep the integration tests run on a planted model written to `<dir>/planted` (generatePlanted):
 * both layers, k 30, shards of 160 images, 4 neurons a batch, output under `<dir>/out`.
 */
export function plantedSweepConfig(
  dir: string,
  truth: PlantedTruth,
  fields: Partial<SweepConfig> = {},
): SweepConfig {
  return testConfig({
    runId: 'planted',
    modelUri: join(dir, 'planted', truth.files.model),
    dataUri: join(dir, 'planted', truth.files.images),
    outUri: join(dir, 'out'),
    layers: [truth.layers.lower, truth.layers.upper],
    k: 30,
    preprocess: truth.preprocess,
    shardSize: 160,
    neuronBatch: 4,
    ...fields,
  });
}
