import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  centerPoints,
  distancesFromGram,
  gramOf,
  toRowMatrix,
} from '../../../core/compute/clustering/points.js';
import {
  silhouetteFromDistances,
  silhouetteSamplesFromDistances,
  silhouetteScore,
} from '../../../core/compute/clustering/silhouette.js';
import { seededRandom } from '../../support/random.js';
import { gaussianBlobs, squaredDistance, uniformPoints } from './data.js';

/** The definition, directly: for each point, mean distances to its own and to every other cluster. */
function directSilhouette(rows: number[][], labels: number[]): number {
  const distance = (i: number, j: number) => Math.sqrt(squaredDistance(rows[i]!, rows[j]!));
  const clusters = [...new Set(labels)];
  let sum = 0;
  rows.forEach((_, i) => {
    const own = labels.map((l, j) => (l === labels[i] && j !== i ? j : -1)).filter((j) => j >= 0);
    if (own.length === 0) return; // singleton: 0
    const a = own.reduce((s, j) => s + distance(i, j), 0) / own.length;
    const b = Math.min(
      ...clusters
        .filter((c) => c !== labels[i])
        .map((c) => {
          const members = labels.map((l, j) => (l === c ? j : -1)).filter((j) => j >= 0);
          return members.reduce((s, j) => s + distance(i, j), 0) / members.length;
        }),
    );
    sum += (b - a) / Math.max(a, b);
  });
  return sum / rows.length;
}

describe('silhouette', () => {
  test('matches the direct definition on random data and labels, singletons included', () => {
    const random = seededRandom(42);
    for (let trial = 0; trial < 12; trial++) {
      const n = 8 + trial * 3;
      const rows = uniformPoints(100 + trial, n, 1 + (trial % 5));
      const k = 2 + (trial % 4);
      const labels = rows.map(() => Math.floor(random() * k) * 7 - 3); // arbitrary label values
      labels[0] = 1000; // a singleton cluster
      const expected = directSilhouette(rows, labels);
      assert.ok(Math.abs(silhouetteScore(rows, labels) - expected) < 1e-12, `trial ${trial}`);
    }
  });

  test('a hand-computed example', () => {
    // a = 1 for every point; b = 10.5, 9.5, 9.5, 10.5.
    const score = silhouetteScore([[0], [1], [10], [11]], [0, 0, 1, 1]);
    assert.ok(Math.abs(score - (1 - (1 / 10.5 + 1 / 9.5) / 2)) < 1e-15);
  });

  test('distances from the Gram matrix give the same score', () => {
    const { rows, truth } = gaussianBlobs(3, 3, 20, 12, 2);
    const distances = distancesFromGram(gramOf(centerPoints(toRowMatrix(rows))));
    assert.ok(Math.abs(silhouetteFromDistances(distances, truth) - silhouetteScore(rows, truth)) < 1e-10);
  });

  test('coincident clusters score 0, separated ones near 1', () => {
    const rows = [[0], [0], [0], [0]];
    assert.deepEqual([...silhouetteSamplesFromDistances(new Float64Array(16), [0, 0, 1, 1])], [0, 0, 0, 0]);
    assert.equal(silhouetteScore(rows, [0, 0, 1, 1]), 0);
    const { rows: far, truth } = gaussianBlobs(4, 2, 30, 3, 100);
    assert.ok(silhouetteScore(far, truth) > 0.95);
  });

  test('needs 2 to n - 1 clusters', () => {
    assert.throws(() => silhouetteScore([[0], [1], [2]], [0, 0, 0]), /2 to n - 1 = 2 clusters, got 1/);
    assert.throws(() => silhouetteScore([[0], [1], [2]], [0, 1, 2]), /got 3/);
    assert.throws(() => silhouetteScore([[0], [1], [2]], [0, 1]), /2 labels for 3 points/);
  });
});
