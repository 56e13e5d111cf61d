import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  evaluateNeuron,
  type SummarizedRow,
  significantShare,
  summarizeEvaluations,
} from '../../../core/compute/evaluation/index.js';
import { gaussianBlobs } from '../clustering/data.js';

const row = (
  method: SummarizedRow['method'],
  nClusters: number,
  inner: number,
  pValue: number | null,
  coherenceGain = 0.1,
): SummarizedRow => ({ method, nClusters, inner, inter: 2 * inner, coherenceGain, pValue });

describe('summarizeEvaluations', () => {
  test('mean and standard error per method and count, share of significant neurons', () => {
    const summary = summarizeEvaluations([
      row('random', 2, 5, null),
      row('pure', 3, 4, 0.5),
      row('pure', 2, 1, 0.01),
      row('pure', 2, 2, 0.2),
      row('pure', 2, 3, 0.04, Number.NaN),
      row('random', 2, 7, null),
    ]);
    assert.deepEqual(
      summary.map((s) => `${s.method}${s.nClusters}:${s.neurons}`),
      ['pure2:3', 'pure3:1', 'random2:2'],
    );
    const pure = summary[0]!;
    assert.equal(pure.innerMean, 2);
    assert.ok(Math.abs(pure.innerStandardError - 1 / Math.sqrt(3)) < 1e-15);
    assert.equal(pure.interMean, 4);
    assert.ok(Math.abs(pure.interStandardError - 2 / Math.sqrt(3)) < 1e-15);
    // The NaN gain (coincident references) is left out.
    assert.equal(pure.coherenceGainMean, 0.1);
    assert.equal(pure.significantShare, 2 / 3);
    assert.ok(Number.isNaN(summary[1]!.innerStandardError));
    assert.equal(summary[1]!.significantShare, 0);
    assert.equal(summary[2]!.significantShare, null);
    assert.equal(summary[2]!.innerMean, 6);
  });

  test('alpha', () => {
    const rows = [row('pure', 2, 1, 0.01), row('pure', 2, 1, 0.04)];
    assert.equal(significantShare(rows), 1);
    assert.equal(significantShare(rows, 0.02), 0.5);
    assert.equal(summarizeEvaluations(rows, { alpha: 0.02 })[0]!.significantShare, 0.5);
    assert.throws(() => summarizeEvaluations(rows, { alpha: 1 }), /alpha/);
  });

  test('over neurons evaluated by evaluateNeuron', () => {
    const rows = [0, 1, 2, 3].flatMap((neuron) => {
      const { rows: embeddings, truth } = gaussianBlobs(neuron, 2, 20, 4, 6);
      return evaluateNeuron(
        {
          embeddings,
          clusterings: [{ method: 'pure', nClusters: 2, labels: truth }],
          neuron: { layer: 'l', neuron },
        },
        { randomSamples: 50 },
      ).evaluations;
    });
    const summary = summarizeEvaluations(rows);
    assert.deepEqual(
      summary.map((s) => s.method),
      ['pure', 'embedding', 'random'],
    );
    assert.equal(summary[0]!.significantShare, 1);
    assert.ok(summary[0]!.innerMean < summary[2]!.innerMean);
  });
});
