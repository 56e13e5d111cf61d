import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clusterDistancesFromMatrix } from '../../../core/compute/clustering/metrics.js';
import { pairwiseDistances } from '../../../core/compute/clustering/points.js';
import {
  innerDistanceSum,
  membersOf,
  partitionOf,
  sizesDescending,
  totalDistanceSum,
} from '../../../core/compute/evaluation/partition.js';
import {
  partitionDistances,
  permutationPValue,
  sampleStandardDeviation,
  shuffleInPlace,
} from '../../../core/compute/evaluation/permutation.js';
import {
  clusterMajority,
  partitionPurity,
  referenceClassesOf,
} from '../../../core/compute/evaluation/purity.js';
import { createRandom } from '../../../core/compute/random.js';
import { seededRandom } from '../../support/random.js';
import { uniformPoints } from '../clustering/data.js';

describe('partitions', () => {
  test('members grouped by cluster, sizes largest first', () => {
    const partition = partitionOf([7, 3, 7, 7, 5, 3]);
    assert.deepEqual([...partition.ids], [0, 1, 0, 0, 2, 1]);
    assert.deepEqual([...partition.sizes], [3, 2, 1]);
    assert.deepEqual([...sizesDescending(partitionOf([1, 0, 0, 2, 2, 2]))], [3, 2, 1]);
    const members = membersOf(partition.ids, partition.count);
    assert.deepEqual([...members.order], [0, 2, 3, 1, 5, 4]);
    assert.deepEqual([...members.start], [0, 3, 5, 6]);
  });

  test('grouped sums agree with clusterDistancesFromMatrix', () => {
    const random = seededRandom(3);
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + trial * 3;
      const matrix = { values: Float64Array.from(uniformPoints(trial, n, 4).flat()), rows: n, cols: 4 };
      const distances = pairwiseDistances(matrix);
      const labels = Array.from({ length: n }, () => Math.floor(random() * (1 + (trial % 5))));
      const partition = partitionOf(labels);
      const space = { size: n, distances, totalSum: totalDistanceSum(distances, n), classes: null };
      const grouped = partitionDistances(space, partition);
      const reference = clusterDistancesFromMatrix(distances, labels);
      assert.ok(Math.abs(grouped.inner - reference.inner) <= 1e-12 * reference.inner, `trial ${trial}`);
      assert.ok(Math.abs(grouped.inter - reference.inter) <= 1e-12 * reference.inter, `trial ${trial}`);
      assert.ok(innerDistanceSum(distances, n, partition.ids, partition.count) <= space.totalSum);
    }
  });
});

describe('permutations', () => {
  test('Fisher-Yates draws every permutation of three equally often', () => {
    const random = createRandom(11);
    const counts = new Map<string, number>();
    const draws = 60000;
    for (let draw = 0; draw < draws; draw++) {
      const values = Int32Array.from([0, 1, 2]);
      shuffleInPlace(values, random);
      const key = values.join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    // Binomial(60000, 1/6): sd 91; five sd.
    for (const [key, count] of counts) assert.ok(Math.abs(count - 10000) < 460, `${key}: ${count}`);
  });

  test('shuffling keeps the multiset of labels', () => {
    const values = Int32Array.from([0, 0, 0, 1, 1, 2]);
    shuffleInPlace(values, createRandom(1));
    assert.deepEqual([...values].sort(), [0, 0, 0, 1, 1, 2]);
  });

  test('p-value counts the observed labelling as one draw', () => {
    const draws = Float64Array.from([1, 2, 3, 4]);
    assert.equal(permutationPValue(draws, 0.5), 1 / 5);
    assert.equal(permutationPValue(draws, 2), 3 / 5);
    assert.equal(permutationPValue(draws, 9), 1);
    // A draw equal up to rounding counts as equal.
    assert.equal(permutationPValue(Float64Array.from([0.1 + 0.2]), 0.3), 1);
    assert.equal(permutationPValue(Float64Array.from([0.3 * (1 + 1e-10)]), 0.3), 1 / 2);
  });

  test('sample standard deviation', () => {
    assert.equal(sampleStandardDeviation(Float64Array.from([1, 3])), Math.SQRT2);
    assert.ok(Number.isNaN(sampleStandardDeviation(Float64Array.from([1]))));
  });
});

describe('label purity', () => {
  const classes = referenceClassesOf(['b', 'a', 'a', null, 'b', 'c'], 6)!;

  test('dense classes in name order, unknown as -1', () => {
    assert.deepEqual(classes.names, ['a', 'b', 'c']);
    assert.deepEqual([...classes.ids], [1, 0, 0, -1, 1, 2]);
    assert.equal(classes.labelled, 5);
    assert.equal(referenceClassesOf(undefined, 3), null);
    assert.equal(referenceClassesOf([null, null], 2), null);
    assert.throws(() => referenceClassesOf(['a'], 2), /1 class labels for 2/);
  });

  test('majority counts over labelled references', () => {
    // Clusters {b, a, a}, {unknown, b, c}: majorities 2 and 1 of 5 labelled.
    assert.equal(partitionPurity(classes, Int32Array.from([0, 0, 0, 1, 1, 1]), 2), 3 / 5);
    // Each reference alone: every labelled one is its cluster's majority.
    assert.equal(partitionPurity(classes, Int32Array.from([0, 1, 2, 3, 4, 5]), 6), 1);
    // One cluster: the largest class, a or b, 2 of 5.
    assert.equal(partitionPurity(classes, new Int32Array(6), 1), 2 / 5);
  });

  test('a cluster majority breaks ties alphabetically', () => {
    assert.deepEqual(clusterMajority(classes, [0, 1, 3]), { majorityLabel: 'a', labelPurity: 0.5 });
    assert.deepEqual(clusterMajority(classes, [0, 4, 5]), { majorityLabel: 'b', labelPurity: 2 / 3 });
    assert.deepEqual(clusterMajority(classes, [3]), { majorityLabel: null, labelPurity: null });
    assert.deepEqual(clusterMajority(null, [0]), { majorityLabel: null, labelPurity: null });
  });
});
