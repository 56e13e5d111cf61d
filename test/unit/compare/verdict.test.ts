import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planComparison } from '../../../core/compute/compare/layers.js';
import { compareNeuron, type NeuronSide } from '../../../core/compute/compare/neuron.js';
import {
  COMPARE_THRESHOLDS,
  type NeuronMeasures,
  neuronVerdict,
} from '../../../core/compute/compare/verdict.js';

const unchanged: NeuronMeasures = {
  sameImages: true,
  referenceJaccard: 1,
  valueRatio: 1,
  nClustersA: 2,
  nClustersB: 2,
  meanCircuitCosine: 1,
  matchedSimilarity: 1,
};

describe('neuronVerdict', () => {
  test('identical measures: unchanged, severity 0', () => {
    assert.deepEqual(neuronVerdict(unchanged), { changed: false, reasons: [], severity: 0 });
  });

  test('each measure at its threshold is a change, just short of it is not', () => {
    const t = COMPARE_THRESHOLDS;
    const cases: [Partial<NeuronMeasures>, string][] = [
      [{ referenceJaccard: t.referenceJaccard }, 'references'],
      [{ valueRatio: t.valueRatio }, 'values'],
      [{ valueRatio: 1 / t.valueRatio }, 'values'],
      [{ nClustersB: 3 }, 'count'],
      [{ matchedSimilarity: t.circuitSimilarity }, 'circuits'],
      [{ sameImages: false, matchedSimilarity: t.circuitSimilarityOtherImages }, 'circuits'],
    ];
    for (const [change, reason] of cases) {
      const verdict = neuronVerdict({ ...unchanged, ...change });
      assert.deepEqual(verdict.reasons, [reason], JSON.stringify(change));
      assert.ok(verdict.changed && verdict.severity >= 1 - 1e-9);
    }
    const close = neuronVerdict({
      ...unchanged,
      referenceJaccard: t.referenceJaccard + 0.01,
      valueRatio: t.valueRatio - 0.001,
      meanCircuitCosine: 0.5,
      matchedSimilarity: t.circuitSimilarity + 0.001,
    });
    assert.equal(close.changed, false);
    assert.ok(close.severity > 0.5 && close.severity < 1, `${close.severity}`);
    // On other images the same circuits are well within the sampling the references bring.
    assert.equal(neuronVerdict({ ...unchanged, sameImages: false, matchedSimilarity: 0.95 }).changed, false);
    assert.equal(neuronVerdict({ ...unchanged, matchedSimilarity: 0.95 }).changed, true);
  });

  test('several reasons in a fixed order; missing measures never count', () => {
    const verdict = neuronVerdict({
      ...unchanged,
      matchedSimilarity: 0.5,
      referenceJaccard: 0.2,
      nClustersB: 4,
    });
    assert.deepEqual(verdict.reasons, ['references', 'count', 'circuits']);
    const none: NeuronMeasures = {
      sameImages: true,
      referenceJaccard: null,
      valueRatio: null,
      nClustersA: null,
      nClustersB: 3,
      meanCircuitCosine: null,
      matchedSimilarity: null,
    };
    assert.deepEqual(neuronVerdict(none), { changed: false, reasons: [], severity: 0 });
  });
});

/** A neuron of `k` references over a 3-channel lower layer: references r0.., circuits along `direction`. */
function side(ids: string[], values: number[], nClusters: number, directions: number[][]): NeuronSide {
  return {
    sampleIds: ids,
    values,
    circuits: {
      nClusters,
      references: ids.map((sampleId, i) => ({
        sampleId,
        cluster: nClusters === 1 ? 0 : i % nClusters,
        relevance: Float32Array.from(directions[i % directions.length]!),
      })),
    },
  };
}

describe('compareNeuron', () => {
  const ids = ['s0', 's1', 's2', 's3'];
  const both = { sameImages: true, sameCircuitSpace: true };

  test('the same neuron is unchanged, with its virtual neurons matched at similarity 1', () => {
    const a = side(ids, [4, 3, 2, 1], 2, [
      [1, 0, 0],
      [0, 1, 0],
    ]);
    const c = compareNeuron(a, a, both);
    assert.equal(c.changed, false);
    assert.deepEqual(
      c.virtualNeurons.map((m) => [m.a!.cluster, m.b!.cluster, m.similarity]),
      [
        [0, 0, 1],
        [1, 1, 1],
      ],
    );
    assert.equal(c.referenceOverlap, 1);
  });

  test('relabelled clusters are not a change; a new circuit is', () => {
    const a = side(ids, [4, 3, 2, 1], 2, [
      [1, 0, 0],
      [0, 1, 0],
    ]);
    const relabelled = side(ids, [4, 3, 2, 1], 2, [
      [0, 1, 0],
      [1, 0, 0],
    ]);
    assert.equal(compareNeuron(a, relabelled, both).changed, false);
    const rewired = side(ids, [4, 3, 2, 1], 2, [
      [1, 0, 0],
      [0, 0, 1],
    ]);
    const c = compareNeuron(a, rewired, both);
    assert.deepEqual(c.reasons, ['circuits']);
    assert.equal(c.measures.matchedSimilarity, 0);
  });

  test('scaled activations change the values only; other images change the references', () => {
    const a = side(ids, [4, 3, 2, 1], 1, [[1, 1, 0]]);
    assert.deepEqual(compareNeuron(a, side(ids, [12, 9, 6, 3], 1, [[1, 1, 0]]), both).reasons, ['values']);
    const other = side(['s0', 's1', 'x2', 'x3'], [4, 3, 2, 1], 1, [[1, 1, 0]]);
    const c = compareNeuron(a, other, both);
    assert.deepEqual(c.reasons, ['references']);
    assert.equal(c.measures.referenceJaccard, 2 / 6);
  });

  test('different images or circuit spaces: those measures are left out, not failed', () => {
    const a = side(ids, [4, 3, 2, 1], 1, [[1, 0, 0]]);
    const b = side(['x0', 'x1', 'x2', 'x3'], [8, 6, 4, 2], 2, [[0, 1, 0]]);
    const c = compareNeuron(a, b, { sameImages: false, sameCircuitSpace: false });
    assert.deepEqual(
      [c.changed, c.measures.referenceJaccard, c.measures.nClustersA, c.virtualNeurons],
      [false, null, null, []],
    );
  });
});

describe('planComparison', () => {
  const shape = (layer: string, neurons: number, lowerLayer: string | null, circuitWidth: number | null) => ({
    layer,
    neurons,
    lowerLayer,
    circuitWidth,
  });

  test('common layers in B order; circuits only over the same lower layer of the same width', () => {
    const a = [
      shape('l1', 16, null, null),
      shape('l2', 32, 'l1', 16),
      shape('l3', 64, 'l2', 32),
      shape('x', 8, 'l3', 64),
    ];
    const b = [
      shape('l1', 16, null, null),
      shape('l2', 32, 'l1', 16),
      shape('l3', 64, 'l2b', 32),
      shape('y', 4, 'l3', 64),
    ];
    const plan = planComparison(a, b, true);
    assert.deepEqual(
      plan.layers.map((l) => [l.layer, l.sameCircuitSpace, l.note]),
      [
        ['l1', false, 'first layer: references only'],
        ['l2', true, null],
        ['l3', false, 'circuits over l2 in A, l2b in B: references only'],
      ],
    );
    assert.deepEqual([plan.onlyInA, plan.onlyInB], [['x'], ['y']]);
  });

  test('a wider layer: the common neurons are compared, and a wider lower layer stops the circuits', () => {
    const plan = planComparison([shape('l2', 32, 'l1', 16)], [shape('l2', 48, 'l1', 24)], false);
    assert.equal(plan.layers[0]!.compared, 32);
    assert.equal(plan.layers[0]!.sameCircuitSpace, false);
    assert.match(plan.layers[0]!.note!, /l1 has 16 channels in A, 24 in B/);
    assert.match(plan.layers[0]!.note!, /32 neurons in A, 48 in B: the first 32 compared/);
  });
});
