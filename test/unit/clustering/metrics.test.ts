import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  adjustedRandIndex,
  clusterDistances,
  mean,
  paperErrorBar,
  standardError,
} from '../../../core/compute/clustering/metrics.js';
import { seededRandom } from '../../support/random.js';

const choose2 = (m: number) => (m * (m - 1)) / 2;

/** Hubert & Arabie's formula on the contingency table, written independently of the pair counts. */
function hubertArabie(a: number[], b: number[]): number {
  const table = new Map<string, number>();
  const left = new Map<number, number>();
  const right = new Map<number, number>();
  a.forEach((x, i) => {
    const key = `${x},${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    left.set(x, (left.get(x) ?? 0) + 1);
    right.set(b[i]!, (right.get(b[i]!) ?? 0) + 1);
  });
  const index = [...table.values()].reduce((s, m) => s + choose2(m), 0);
  const sumLeft = [...left.values()].reduce((s, m) => s + choose2(m), 0);
  const sumRight = [...right.values()].reduce((s, m) => s + choose2(m), 0);
  const expected = (sumLeft * sumRight) / choose2(a.length);
  return (index - expected) / ((sumLeft + sumRight) / 2 - expected);
}

describe('adjusted Rand index', () => {
  test('identical and permuted labelings score 1', () => {
    const labels = [0, 0, 1, 1, 2, 2, 2, 0];
    assert.equal(adjustedRandIndex(labels, labels), 1);
    assert.equal(
      adjustedRandIndex(
        labels,
        labels.map((l) => [5, 9, -1][l]!),
      ),
      1,
    );
    assert.equal(adjustedRandIndex(Int32Array.from(labels), labels), 1);
  });

  test('hand-computed contingency examples', () => {
    // Pairs together: {0,1} in a; {0,1}, {2,3} in b. Index 1, expected 1 x 2 / 6, max 1.5: 4/7.
    assert.ok(Math.abs(adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1]) - 4 / 7) < 1e-15);
    assert.ok(Math.abs(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2]) - 4 / 7) < 1e-15);
    // Crossed halves: index 0, expected 2 x 2 / 6, max 2: -0.5.
    assert.ok(Math.abs(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1]) + 0.5) < 1e-15);
    // One cluster against all singletons: no agreement beyond chance.
    assert.equal(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3]), 0);
    // Both trivial: every pair agrees.
    assert.equal(adjustedRandIndex([0, 0, 0], [1, 1, 1]), 1);
  });

  test('matches the Hubert-Arabie formula on random labelings', () => {
    const random = seededRandom(5);
    for (let trial = 0; trial < 20; trial++) {
      const n = 20 + trial * 7;
      const a = Array.from({ length: n }, () => Math.floor(random() * (2 + (trial % 4))));
      const b = a.map((x) => (random() < 0.3 ? Math.floor(random() * 4) : x));
      assert.ok(Math.abs(adjustedRandIndex(a, b) - hubertArabie(a, b)) < 1e-12, `trial ${trial}`);
    }
  });

  test('labelings of different lengths are an error', () => {
    assert.throws(() => adjustedRandIndex([0, 1], [0]), /differ in length/);
  });
});

describe('inner and inter cluster distances', () => {
  test('pooled over pairs, as the authors', () => {
    const rows = [[0], [1], [10], [12]];
    const { inner, inter, overall } = clusterDistances(rows, [0, 0, 1, 1]);
    assert.equal(inner, 1.5); // pairs (0,1) = 1 and (10,12) = 2
    assert.equal(inter, 10.5); // 10, 12, 9, 11
    assert.equal(overall, 45 / 6);
    // Pooled, not averaged per cluster: a big cluster weighs more.
    const big = clusterDistances([[0], [1], [2], [10], [20]], [0, 0, 0, 1, 1]);
    assert.equal(big.inner, (1 + 2 + 1 + 10) / 4);
  });

  test('fallbacks: one cluster has no inter pairs, singletons no inner pairs', () => {
    const rows = [[0], [3], [4]];
    const one = clusterDistances(rows, [7, 7, 7]);
    assert.equal(one.inter, one.inner);
    assert.equal(one.inner, (3 + 4 + 1) / 3);
    const singletons = clusterDistances(rows, [0, 1, 2]);
    assert.equal(singletons.inner, singletons.inter);
  });

  test('Euclidean in several dimensions', () => {
    const { inner, inter } = clusterDistances(
      [
        [0, 0],
        [3, 4],
        [0, 0],
      ],
      [0, 0, 1],
    );
    assert.equal(inner, 5);
    assert.equal(inter, (0 + 5) / 2);
  });
});

describe('mean and errors', () => {
  test('mean, standard error and the paper error bar', () => {
    const values = [1, 2, 3, 4];
    assert.equal(mean(values), 2.5);
    assert.ok(Math.abs(standardError(values) - Math.sqrt(5 / 3) / 2) < 1e-15);
    assert.ok(Math.abs(paperErrorBar(values) - Math.sqrt(1.25) / 4) < 1e-15);
    assert.throws(() => mean([]), /no values/);
    assert.throws(() => standardError([1]), /at least two/);
  });
});
