import { CONFIG_DEFAULTS, type SweepConfig } from '../../core/compute/run/config.js';

/** A complete sweep configuration for tests: the defaults, plus what a test sets. */
export function testConfig(
  fields: Pick<SweepConfig, 'runId' | 'modelUri' | 'dataUri' | 'outUri' | 'layers' | 'preprocess'> &
    Partial<SweepConfig>,
): SweepConfig {
  return { ...CONFIG_DEFAULTS, clusterCounts: [...CONFIG_DEFAULTS.clusterCounts], ...fields };
}
