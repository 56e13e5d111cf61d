import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PREPROCESS_PRESETS } from '../../../core/compute/images/preprocess.js';
import { CONFIG_DEFAULTS, type EvaluatorSpec } from '../../../core/compute/run/config.js';
import { layerTablesOf, runKeys, STAGE_TABLES } from '../../../core/compute/run/layout.js';
import { runsStage, SWEEP_STAGES, type SweepStage } from '../../../core/compute/run/stages.js';

const evaluator: EvaluatorSpec = { uri: 'encoder.onnx', preprocess: PREPROCESS_PRESETS.clip };

/** The stages a sweep runs, in order. */
const stagesOf = (until: SweepStage, withEvaluator: boolean) =>
  SWEEP_STAGES.filter((stage) => runsStage(withEvaluator ? { until, evaluator } : { until }, stage));

describe('which stages a sweep runs', () => {
  test('the steps in order, the whole method by default', () => {
    assert.deepEqual(SWEEP_STAGES, ['references', 'virtual-neurons', 'crops', 'evaluation']);
    assert.equal(CONFIG_DEFAULTS.until, 'evaluation');
  });

  test('every stage up to --until; crops and evaluation with an evaluator (crops also when asked for)', () => {
    const table = SWEEP_STAGES.flatMap((until) =>
      [false, true].map((withEvaluator) => [until, withEvaluator, stagesOf(until, withEvaluator)] as const),
    );
    assert.deepEqual(table, [
      ['references', false, ['references']],
      ['references', true, ['references']],
      ['virtual-neurons', false, ['references', 'virtual-neurons']],
      ['virtual-neurons', true, ['references', 'virtual-neurons']],
      ['crops', false, ['references', 'virtual-neurons', 'crops']],
      ['crops', true, ['references', 'virtual-neurons', 'crops']],
      // Without an evaluator the default sweep ends after the virtual neurons (step 3).
      ['evaluation', false, ['references', 'virtual-neurons']],
      ['evaluation', true, ['references', 'virtual-neurons', 'crops', 'evaluation']],
    ]);
  });
});

describe('the per-layer tables a sweep writes (and the manifests finishLayer writes for them)', () => {
  test('by stage, in stage order', () => {
    assert.deepEqual(layerTablesOf({ until: 'references' }), []);
    assert.deepEqual(layerTablesOf({ until: 'virtual-neurons', evaluator }), [
      'relevance',
      'activations',
      'clusters',
      'neurons',
    ]);
    assert.deepEqual(layerTablesOf({ until: 'crops', evaluator }), [
      'relevance',
      'activations',
      'clusters',
      'neurons',
      'crops',
    ]);
    assert.deepEqual(layerTablesOf({ until: 'evaluation' }), layerTablesOf({ until: 'virtual-neurons' }));
    assert.deepEqual(layerTablesOf({ until: 'evaluation', evaluator }), [
      'relevance',
      'activations',
      'clusters',
      'neurons',
      'crops',
      'embeddings',
      'virtual_neurons',
      'evaluation',
    ]);
  });

  test('every table of every stage is written by exactly one stage', () => {
    const all = Object.values(STAGE_TABLES).flat();
    assert.equal(new Set(all).size, all.length);
    assert.deepEqual([...layerTablesOf({ until: 'evaluation', evaluator })].sort(), [...all].sort());
  });

  test('their parts, manifests and crop images live where docs/outputs.md says', () => {
    const layer = '/layer3/layer3.2/Relu_1_output_0';
    const escaped = 'layer=%2Flayer3%2Flayer3.2%2FRelu_1_output_0';
    assert.equal(
      runKeys.layerPart('crops', layer, { first: 8, end: 16 }),
      `crops/${escaped}/part-0000008-0000015.parquet`,
    );
    assert.equal(
      runKeys.layerManifest('virtual_neurons', layer),
      `_manifests/virtual_neurons/${escaped}.json`,
    );
    assert.equal(runKeys.cropImage(layer, 12, 3), `crop-images/${escaped}/neuron-0000012/rank-0003.png`);
  });
});
