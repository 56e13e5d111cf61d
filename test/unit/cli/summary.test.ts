import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sweepSummary } from '../../../cli/summary.js';
import type { EvaluationSummaryRow } from '../../../core/compute/evaluation/index.js';
import type { LayerSummary } from '../../../core/stages/virtual-neurons.js';
import type { SweepResult } from '../../../workflows/sweep.js';

const LAYER = '/layer3/layer3.2/Relu_1_output_0';

function result(virtualNeurons: LayerSummary[]): SweepResult {
  return {
    runUri: '/out/run',
    numSamples: 200,
    layers: [
      { name: '/layer3/layer3.1/Relu_1_output_0', dims: [64, 8, 8], channels: 64 },
      { name: LAYER, dims: [64, 8, 8], channels: 64 },
    ],
    references: [],
    skipped: 0,
    shardsReused: 0,
    shardsComputed: 1,
    virtualNeurons,
  };
}

const layer: LayerSummary = {
  layer: LAYER,
  lowerLayer: '/layer3/layer3.1/Relu_1_output_0',
  neurons: 64,
  polysemantic: 2,
  meanPolysemanticity: 0.2361,
  skipped: 0,
};

const summaryRow = (
  method: EvaluationSummaryRow['method'],
  nClusters: number,
  innerMean: number,
  significantShare: number | null,
): EvaluationSummaryRow => ({
  method,
  nClusters,
  neurons: 64,
  innerMean,
  innerStandardError: 0.5,
  interMean: innerMean + 2,
  interStandardError: 0.5,
  coherenceGainMean: 0.02,
  coherenceGainStandardError: 0.004,
  significantShare,
});

/** The line under "Outputs under": the table folders. */
const outputs = (text: string) =>
  text.split('\n')[text.split('\n').findIndex((l) => l.startsWith('Outputs')) + 1];

describe('what pure run prints at the end', () => {
  test('references only: no virtual-neuron tables, no report', () => {
    const text = sweepSummary(result([]));
    assert.equal(outputs(text), '  samples/  references/  skipped/');
    assert.doesNotMatch(text, /Report:|Evaluation at/);
  });

  test('without an evaluator: the crops are listed, no evaluation', () => {
    const text = sweepSummary(result([layer]), true);
    assert.match(text, /Done: 200 images, 2 layers, 0 images skipped \(1 shards computed, 0 reused\)\./);
    assert.match(
      text,
      new RegExp(`  ${LAYER}: 2 of 64 neurons split into virtual neurons \\(mean polysemanticity 0\\.236\\)`),
    );
    assert.equal(
      outputs(text),
      '  samples/  references/  skipped/  relevance/  activations/  clusters/  neurons/  crops/',
    );
    assert.doesNotMatch(text, /Evaluation at/);
    // --until virtual-neurons: no crops.
    assert.doesNotMatch(outputs(sweepSummary(result([layer]), false))!, /crops/);
  });

  test('with an evaluator: the four methods at the smallest count, and the verdicts checked', () => {
    const evaluated: LayerSummary = {
      ...layer,
      evaluation: [
        summaryRow('pure', 3, 40, 0.1),
        summaryRow('pure', 2, 42.6, 0.22),
        summaryRow('activation', 2, 42.42, 0.17),
        summaryRow('embedding', 2, 39.69, 0.84),
        summaryRow('random', 2, 43.44, null),
      ],
      verdicts: {
        split: 2,
        splitConfirmed: 1,
        splitGainMean: 0.067,
        splitGainStandardError: 0.045,
        monosemantic: 62,
        monosemanticWithClearGain: 15,
        splitPurityGain: { mean: 0.165, standardError: 0.026 },
        wholePurityGain: { mean: 0.041, standardError: 0.009 },
      },
    };
    const lines = sweepSummary(result([evaluated]), true).split('\n');
    const at = lines.findIndex((l) => l.startsWith('Evaluation at 2 clusters per neuron'));
    assert.ok(at > 0, lines.join('\n'));
    const table = lines.slice(at + 2, at + 6);
    assert.deepEqual(
      table.map((l) => l.trim().split(/\s{2,}|\s(?=\d)/)[0]),
      ['.../layer3.2/Relu_1_output_0 pure', 'activation', 'embedding', 'random'],
    );
    assert.match(table[0]!, /pure {7}42\.60 ± 0\.50 {4}44\.60 ± 0\.50 {4}0\.020 ± 0\.004 {3}22 %$/);
    assert.match(table[3]!, /random {5}43\.44 ± 0\.50 {4}45\.44 ± 0\.50 +$/);
    assert.match(
      lines[at + 6]!,
      /\.\.\.\/layer3\.2\/Relu_1_output_0: split 2 \(each a significant, clear PURE gain\), kept 62 whole; class purity above chance: split \+0\.165 ± 0\.026, whole \+0\.041 ± 0\.009/,
    );
    assert.ok(lines.some((l) => l.endsWith('crops/  embeddings/  evaluation/  virtual_neurons/')));
  });
});
