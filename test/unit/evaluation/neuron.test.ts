import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clusterDistances } from '../../../core/compute/clustering/metrics.js';
import {
  type EvaluationRow,
  evaluateNeuron,
  type GivenClustering,
  type NeuronEvaluation,
} from '../../../core/compute/evaluation/index.js';
import { seededRandom } from '../../support/random.js';
import { gaussianBlobs, uniformPoints } from '../clustering/data.js';

function rowOf(result: NeuronEvaluation, method: string, nClusters: number): EvaluationRow {
  const row = result.evaluations.find((r) => r.method === method && r.nClusters === nClusters);
  assert.ok(row, `no ${method} row for k = ${nClusters}`);
  return row;
}

function randomLabels(seed: number, n: number, k: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => Math.floor(random() * k));
}

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);

describe('evaluateNeuron: hand-computed four points', () => {
  // Points 0, 1, 10, 12 on a line; classes a, a, b, unknown.
  const embeddings = [[0], [1], [10], [12]];
  const clusterings: GivenClustering[] = [
    { method: 'activation', nClusters: 2, labels: [0, 1, 0, 1] },
    { method: 'pure', nClusters: 2, labels: [0, 0, 1, 1] },
    { method: 'pure', nClusters: 3, labels: [0, 0, 1, 2] },
  ];
  const classLabels = ['a', 'a', 'b', null];
  const result = evaluateNeuron({ embeddings, clusterings, classLabels }, { randomSamples: 3000 });

  test('rows in method order, then count', () => {
    assert.deepEqual(
      result.evaluations.map((r) => `${r.method}${r.nClusters}`),
      ['pure2', 'pure3', 'activation2', 'embedding2', 'embedding3', 'random2', 'random3'],
    );
  });

  test('inner, inter, overall, sizes and purity', () => {
    const pure = rowOf(result, 'pure', 2);
    assert.equal(pure.inner, 1.5); // (1 + 2) / 2
    assert.equal(pure.inter, 10.5); // (10 + 12 + 9 + 11) / 4
    assert.equal(pure.overall, 7.5);
    assert.deepEqual([...pure.clusterSizes], [2, 2]);
    assert.equal(pure.labelPurity, 1); // {a, a}, {b, unknown}: 3 of 3 labelled
    const activation = rowOf(result, 'activation', 2);
    assert.equal(activation.inner, 10.5); // (10 + 11) / 2
    assert.equal(activation.inter, 6); // (1 + 12 + 9 + 2) / 4
    assert.equal(activation.labelPurity, 2 / 3); // {a, b}, {a, unknown}
    const three = rowOf(result, 'pure', 3);
    assert.equal(three.inner, 1); // the one inner pair
    assert.equal(three.inter, 44 / 5);
    assert.deepEqual([...three.clusterSizes], [2, 1, 1]);
  });

  test('embedding k-means finds the two pairs', () => {
    assert.equal(rowOf(result, 'embedding', 2).inner, 1.5);
    assert.equal(rowOf(result, 'embedding', 2).labelPurity, 1);
  });

  test('null: three equally likely 2 + 2 splits with inner 1.5, 10.5, 10.5', () => {
    const pure = rowOf(result, 'pure', 2);
    // 3000 draws: sd of one draw is sqrt(18) = 4.24, of the mean 0.077; of the p-value 0.0086.
    close(pure.nullInnerMean, 7.5, 0.4, 'null mean');
    close(pure.nullInnerSd, Math.sqrt(18), 0.15, 'null sd');
    close(pure.pValue!, 1 / 3, 0.04, 'p-value');
    assert.equal(pure.coherenceGain, 1 - 1.5 / pure.nullInnerMean);
    // No split is worse than the crossed one: every draw has inner <= 10.5.
    assert.equal(rowOf(result, 'activation', 2).pValue, 1);
  });

  test('the random row is the pure null averaged', () => {
    const pure = rowOf(result, 'pure', 2);
    const random = rowOf(result, 'random', 2);
    assert.equal(random.inner, pure.nullInnerMean);
    assert.equal(random.nullInnerMean, random.inner);
    assert.equal(random.nullInnerSd, pure.nullInnerSd);
    assert.equal(random.coherenceGain, 0);
    assert.equal(random.pValue, null);
    assert.equal(random.overall, 7.5);
    assert.deepEqual([...random.clusterSizes], [2, 2]);
    close(random.inter, 7.5, 0.3, 'random inter');
    close(random.labelPurity!, (1 + 2 / 3 + 2 / 3) / 3, 0.02, 'random purity');
  });

  test('virtual-neuron rows', () => {
    const rows = result.virtualNeurons.filter((r) => r.nClusters === 3 && r.method === 'pure');
    assert.deepEqual(
      rows.map((r) => [r.cluster, r.size, r.majorityLabel, r.labelPurity]),
      [
        [0, 2, 'a', 1],
        [1, 1, 'b', 1],
        [2, 1, null, null],
      ],
    );
    assert.equal(rows[0]!.inner, 1);
    assert.ok(Number.isNaN(rows[1]!.inner));
    const activation = result.virtualNeurons.filter((r) => r.method === 'activation');
    // Tie between a and b: the alphabetically first class.
    assert.deepEqual(
      activation.map((r) => [r.cluster, r.inner, r.majorityLabel, r.labelPurity]),
      [
        [0, 10, 'a', 0.5],
        [1, 11, 'a', 1],
      ],
    );
    assert.equal(result.virtualNeurons.filter((r) => r.method === 'embedding').length, 5);
  });

  test('without classes purity is null', () => {
    const plain = evaluateNeuron({ embeddings, clusterings });
    assert.ok(plain.evaluations.every((r) => r.labelPurity === null));
    assert.ok(plain.virtualNeurons.every((r) => r.labelPurity === null && r.majorityLabel === null));
    const unknown = evaluateNeuron({ embeddings, clusterings, classLabels: [null, null, null, null] });
    assert.ok(unknown.evaluations.every((r) => r.labelPurity === null));
  });
});

describe('evaluateNeuron: planted data', () => {
  test('blobs labelled correctly: gain 1 - inner / overall, minimal p-value', () => {
    const { rows, truth } = gaussianBlobs(3, 2, 50, 16, 10);
    const result = evaluateNeuron(
      { embeddings: rows, clusterings: [{ method: 'pure', nClusters: 2, labels: truth }] },
      { seed: 1 },
    );
    const pure = rowOf(result, 'pure', 2);
    // Under permutation every pair is equally likely inside a cluster: the null mean estimates overall.
    close(pure.coherenceGain, 1 - pure.inner / pure.overall, 0.01, 'gain');
    assert.ok(pure.coherenceGain > 0.3, `gain ${pure.coherenceGain}`);
    assert.equal(pure.pValue, 1 / 101);
    assert.deepEqual([...pure.clusterSizes], [50, 50]);
    // k-means on the embeddings recovers the blobs.
    assert.equal(rowOf(result, 'embedding', 2).inner, pure.inner);
  });

  test('random labels: gain about 0, p-values about uniform over 40 seeds', () => {
    const pValues: number[] = [];
    const gains: number[] = [];
    for (let seed = 0; seed < 40; seed++) {
      const { rows } = gaussianBlobs(100 + seed, 2, 30, 8, 6);
      const labels = randomLabels(500 + seed, rows.length, 3);
      const result = evaluateNeuron(
        { embeddings: rows, clusterings: [{ method: 'pure', nClusters: 3, labels }] },
        { seed },
      );
      const pure = rowOf(result, 'pure', 3);
      pValues.push(pure.pValue!);
      gains.push(pure.coherenceGain);
    }
    const meanP = pValues.reduce((a, b) => a + b, 0) / pValues.length;
    const meanGain = gains.reduce((a, b) => a + b, 0) / gains.length;
    assert.ok(meanP > 0.35 && meanP < 0.65, `mean p ${meanP}`);
    assert.ok(Math.abs(meanGain) < 0.01, `mean gain ${meanGain}`);
    assert.ok(
      gains.every((gain) => Math.abs(gain) < 0.1),
      `gains ${gains}`,
    );
    assert.ok(pValues.filter((p) => p < 0.05).length <= 8, `p-values ${pValues}`);
  });

  test('embedding k-means is at least as coherent as random splits', () => {
    const sets = [gaussianBlobs(7, 4, 25, 8, 3).rows, uniformPoints(8, 100, 6)];
    for (const [s, rows] of sets.entries()) {
      const clusterings = [2, 3, 4, 5].map((nClusters) => ({
        method: 'pure' as const,
        nClusters,
        labels: randomLabels(s * 10 + nClusters, rows.length, nClusters),
      }));
      const result = evaluateNeuron({ embeddings: rows, clusterings });
      for (const k of [2, 3, 4, 5]) {
        const embedding = rowOf(result, 'embedding', k);
        assert.ok(embedding.inner <= rowOf(result, 'random', k).inner, `set ${s} k ${k}`);
        assert.ok(embedding.coherenceGain > 0 && embedding.pValue === 1 / 101, `set ${s} k ${k}`);
      }
    }
  });

  test('pooled distances as clusterDistances', () => {
    const rows = uniformPoints(11, 40, 5);
    const labels = randomLabels(12, 40, 4);
    const result = evaluateNeuron({
      embeddings: rows,
      clusterings: [{ method: 'activation', nClusters: 4, labels }],
    });
    const expected = clusterDistances(rows, labels);
    const row = rowOf(result, 'activation', 4);
    assert.deepEqual([row.inner, row.inter], [expected.inner, expected.inter]);
    close(row.overall, expected.overall, 1e-14, 'overall');
    // Label-free: one value for every method.
    assert.ok(result.evaluations.every((r) => r.overall === row.overall));
  });
});

describe('evaluateNeuron: determinism and checks', () => {
  const { rows } = gaussianBlobs(21, 3, 20, 8, 4);
  const values = Float32Array.from(rows.flat());
  const embeddings = { values, rows: rows.length, cols: 8 };
  const clusterings: GivenClustering[] = [2, 3].flatMap((nClusters) => [
    { method: 'pure' as const, nClusters, labels: randomLabels(nClusters, rows.length, nClusters) },
    { method: 'activation' as const, nClusters, labels: randomLabels(9 + nClusters, rows.length, nClusters) },
  ]);
  const classLabels = rows.map((_, i) => (i % 4 === 3 ? null : `class${i % 3}`));
  const input = { embeddings, clusterings, classLabels };

  test('same seed and neuron, same rows', () => {
    const neuron = { layer: 'layer3.0.conv1', neuron: 17 };
    assert.deepStrictEqual(
      evaluateNeuron({ ...input, neuron }, { seed: 4 }),
      evaluateNeuron({ ...input, neuron }, { seed: 4 }),
    );
    assert.deepStrictEqual(evaluateNeuron(input), evaluateNeuron(input, { seed: 0, randomSamples: 100 }));
  });

  test('the seed and the neuron choose the permutation streams', () => {
    const nullMean = (result: NeuronEvaluation) => rowOf(result, 'pure', 2).nullInnerMean;
    const base = nullMean(evaluateNeuron(input, { seed: 4 }));
    assert.notEqual(nullMean(evaluateNeuron(input, { seed: 5 })), base);
    const neuron = (n: number) =>
      nullMean(evaluateNeuron({ ...input, neuron: { layer: 'l', neuron: n } }, { seed: 4 }));
    assert.notEqual(neuron(1), neuron(2));
    // Observed statistics do not depend on the seed.
    assert.equal(
      rowOf(evaluateNeuron(input, { seed: 5 }), 'pure', 2).inner,
      rowOf(evaluateNeuron(input, { seed: 4 }), 'pure', 2).inner,
    );
  });

  test('a count evaluated alone draws what it draws among others', () => {
    const alone = evaluateNeuron({ ...input, clusterings: [clusterings[2]!] });
    const among = evaluateNeuron(input);
    assert.deepStrictEqual(rowOf(alone, 'pure', 3), rowOf(among, 'pure', 3));
  });

  test('bad inputs fail', () => {
    const labels = randomLabels(1, rows.length, 2);
    const one = (clustering: GivenClustering) => evaluateNeuron({ embeddings, clusterings: [clustering] });
    assert.throws(() => one({ method: 'pure', nClusters: 2, labels: labels.slice(1) }), /labels for 60/);
    assert.throws(() => one({ method: 'pure', nClusters: 1, labels }), /labels name 2 clusters/);
    assert.throws(
      () =>
        evaluateNeuron({
          embeddings,
          clusterings: [
            { method: 'pure', nClusters: 2, labels },
            { method: 'pure', nClusters: 2, labels },
          ],
        }),
      /given twice/,
    );
    assert.throws(() => evaluateNeuron({ ...input, classLabels: ['a'] }), /1 class labels for 60/);
    assert.throws(() => evaluateNeuron(input, { randomSamples: 1 }), /randomSamples/);
    assert.throws(() => evaluateNeuron({ embeddings: [[1]], clusterings: [] }), /at least two/);
  });
});
