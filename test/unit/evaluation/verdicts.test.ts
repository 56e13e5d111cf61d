import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CLEAR_GAIN,
  checkVerdicts,
  coherenceVerdict,
  isCoherent,
  VERDICT_ALPHA,
} from '../../../core/compute/evaluation/verdicts.js';
import type { EvaluationRow, NeuronRow } from '../../../core/compute/tables/schemas.js';
import { monosemanticVerdict } from '../../support/rows.js';

const LAYER = '/layer3/layer3.2/Relu_1_output_0';

/** A neurons row: split into `nClusters` (1: kept whole), with its best candidate count. */
function neuron(index: number, nClusters: number, bestCount: number): NeuronRow {
  return {
    layer: LAYER,
    lowerLayer: '/layer3/layer3.1/Relu_1_output_0',
    neuron: index,
    nClusters,
    polysemanticity: nClusters > 1 ? 0.6 : 0.1,
    silhouettes: Float32Array.of(0.2, 0.1),
    activationSilhouettes: Float32Array.of(0.2, 0.1),
    references: 10,
    ...monosemanticVerdict(),
    bestCount,
  };
}

/** An evaluation row of `method` at `nClusters` with the test's result. */
function evaluation(
  index: number,
  method: EvaluationRow['method'],
  nClusters: number,
  pValue: number | null,
  coherenceGain: number | null,
): EvaluationRow {
  return {
    layer: LAYER,
    neuron: index,
    method,
    nClusters,
    inner: 1,
    inter: 2,
    overall: 1.5,
    labelPurity: null,
    nullInnerMean: 1.1,
    nullInnerSd: 0.1,
    coherenceGain,
    pValue,
  };
}

describe('checkVerdicts: the split verdicts against the evaluation', () => {
  test('the constants of docs/clustering.md', () => {
    assert.equal(VERDICT_ALPHA, 0.05);
    assert.equal(CLEAR_GAIN, 0.03);
  });

  test('split neurons confirmed at their count, kept-whole ones with a clear gain at their best count', () => {
    const neurons = [
      neuron(0, 2, 2), // split, significant at 2: confirmed
      neuron(1, 3, 3), // split, not significant at 3 (though significant at 2)
      neuron(2, 2, 2), // split, no evaluation row (e.g. no embeddings): counted, not confirmed, no gain
      neuron(3, 1, 2), // whole, clear gain at its best count 2
      neuron(4, 1, 3), // whole, significant but small gain at 3 (a clear one at 2 does not count)
      neuron(5, 1, 0), // whole, no candidate count
      neuron(6, 1, 2), // whole, large gain but p = alpha: not significant
      neuron(7, 1, 2), // whole, gain exactly CLEAR_GAIN and p just below alpha: clear
    ];
    const rows = [
      evaluation(0, 'pure', 2, 0.01, 0.1),
      evaluation(1, 'pure', 3, 0.2, 0.02),
      evaluation(1, 'pure', 2, 0.001, 0.3),
      // Other methods never count, however good.
      evaluation(1, 'activation', 3, 0.001, 0.4),
      evaluation(2, 'embedding', 2, 0.001, 0.4),
      evaluation(3, 'pure', 2, 0.01, 0.06),
      evaluation(4, 'pure', 3, 0.01, 0.02),
      evaluation(4, 'pure', 2, 0.001, 0.5),
      evaluation(5, 'random', 2, null, 0.5),
      evaluation(6, 'pure', 2, 0.05, 0.2),
      evaluation(7, 'pure', 2, 0.049, CLEAR_GAIN),
    ];
    const check = checkVerdicts(neurons, rows);
    assert.deepEqual(
      {
        split: check.split,
        splitConfirmed: check.splitConfirmed,
        monosemantic: check.monosemantic,
        monosemanticWithClearGain: check.monosemanticWithClearGain,
      },
      { split: 3, splitConfirmed: 1, monosemantic: 5, monosemanticWithClearGain: 2 },
    );
    // Gains of neurons 0 and 1 at their counts: 0.1 and 0.02, mean 0.06, s.e. sd / sqrt(2) = 0.04.
    assert.ok(Math.abs(check.splitGainMean - 0.06) < 1e-12, `${check.splitGainMean}`);
    assert.ok(Math.abs(check.splitGainStandardError - 0.04) < 1e-12, `${check.splitGainStandardError}`);
  });

  test('no or one split neuron: the gain statistics are NaN, not an error', () => {
    const none = checkVerdicts([neuron(0, 1, 2)], [evaluation(0, 'pure', 2, 0.5, 0)]);
    assert.deepEqual([none.split, none.monosemantic, none.monosemanticWithClearGain], [0, 1, 0]);
    assert.ok(Number.isNaN(none.splitGainMean) && Number.isNaN(none.splitGainStandardError));
    const one = checkVerdicts([neuron(0, 2, 2)], [evaluation(0, 'pure', 2, 0.01, 0.2)]);
    assert.deepEqual([one.split, one.splitConfirmed, one.splitGainMean], [1, 1, 0.2]);
    assert.ok(Number.isNaN(one.splitGainStandardError));
    // Non-finite gains (references that all coincide) are left out of the mean.
    const flat = checkVerdicts(
      [neuron(0, 2, 2), neuron(1, 2, 2)],
      [evaluation(0, 'pure', 2, 0.01, Number.NaN), evaluation(1, 'pure', 2, 0.5, null)],
    );
    assert.ok(Number.isNaN(flat.splitGainMean));
    assert.deepEqual(checkVerdicts([], []), {
      split: 0,
      splitConfirmed: 0,
      splitGainMean: Number.NaN,
      splitGainStandardError: Number.NaN,
      monosemantic: 0,
      monosemanticWithClearGain: 0,
      splitPurityGain: { mean: Number.NaN, standardError: Number.NaN },
      wholePurityGain: { mean: Number.NaN, standardError: Number.NaN },
    });
  });

  test('isCoherent: significant and at least CLEAR_GAIN', () => {
    assert.equal(isCoherent({ pValue: 0.01, coherenceGain: 0.03 }), true);
    assert.equal(isCoherent({ pValue: 0.01, coherenceGain: 0.029 }), false);
    assert.equal(isCoherent({ pValue: 0.05, coherenceGain: 0.5 }), false);
    assert.equal(isCoherent({ pValue: null, coherenceGain: 0.5 }), false);
    assert.equal(isCoherent({ pValue: 0.01, coherenceGain: null }), false);
    assert.equal(isCoherent(undefined), false);
  });

  test('label purity above chance, over split and over whole neurons (the check the encoder takes no part in)', () => {
    const withPurity = (row: EvaluationRow, labelPurity: number) => ({ ...row, labelPurity });
    const neurons = [neuron(0, 2, 2), neuron(1, 2, 2), neuron(2, 1, 2), neuron(3, 1, 0)];
    const rows = [
      withPurity(evaluation(0, 'pure', 2, 0.01, 0.1), 0.9),
      withPurity(evaluation(0, 'random', 2, null, 0), 0.5),
      withPurity(evaluation(1, 'pure', 2, 0.01, 0.1), 0.8),
      withPurity(evaluation(1, 'random', 2, null, 0), 0.6),
      withPurity(evaluation(2, 'pure', 2, 0.4, 0.0), 0.55),
      withPurity(evaluation(2, 'random', 2, null, 0), 0.5),
    ];
    const check = checkVerdicts(neurons, rows);
    // Split: 0.4 and 0.2 above chance, mean 0.3, s.e. 0.1; whole (with a best count): 0.05 alone.
    assert.ok(Math.abs(check.splitPurityGain.mean - 0.3) < 1e-12);
    assert.ok(Math.abs(check.splitPurityGain.standardError - 0.1) < 1e-12);
    assert.ok(Math.abs(check.wholePurityGain.mean - 0.05) < 1e-12);
    assert.ok(Number.isNaN(check.wholePurityGain.standardError));
  });
});

describe('coherenceVerdict: the split verdict with an evaluator', () => {
  const circuits = { ...neuron(9, 1, 3), evidence: 2.5, polysemanticity: 0.31 };

  test('a coherent PURE split at the best count splits the neuron there, whatever the circuit gates said', () => {
    const verdict = coherenceVerdict(circuits, { coherenceGain: 0.061, pValue: 0.0099 });
    assert.equal(verdict.nClusters, 3);
    assert.equal(verdict.verdictBy, 'evaluation');
    assert.deepEqual([verdict.coherenceGain, verdict.coherencePValue], [0.061, 0.0099]);
    assert.equal(
      verdict.decision,
      "split in 3: its PURE clusters are coherent in the encoder's space (gain 0.061 >= 0.03, p 0.010 < 0.05); circuits: evidence 2.5, P 0.31",
    );
  });

  test('a split no more coherent than chance, or too little, keeps the neuron whole', () => {
    const small = coherenceVerdict(circuits, { coherenceGain: 0.02, pValue: 0.0099 });
    assert.equal(small.nClusters, 1);
    assert.match(
      small.decision,
      /^monosemantic: its PURE 3-split is not clearly more coherent than chance \(gain 0\.020 < 0\.03, p 0\.010 < 0\.05\)/,
    );
    const chance = coherenceVerdict({ ...circuits, nClusters: 3 }, { coherenceGain: 0.2, pValue: 0.2 });
    assert.equal(chance.nClusters, 1, 'the circuit verdict does not survive an incoherent split');
  });

  test('no best count (identical circuits): monosemantic, nothing to judge', () => {
    const none = coherenceVerdict({ ...circuits, bestCount: 0 }, undefined);
    assert.equal(none.nClusters, 1);
    assert.deepEqual([none.coherenceGain, none.coherencePValue], [null, null]);
    assert.equal(none.decision, 'monosemantic: no candidate count gives two distinct clusters');
  });
});
