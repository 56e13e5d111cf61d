import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kmeans, kmeansPrepared, preparePoints } from '../../../core/compute/clustering/kmeans.js';
import { adjustedRandIndex } from '../../../core/compute/clustering/metrics.js';
import { gaussianBlobs, squaredDistance, uniformPoints } from './data.js';

/** The exact k-means optimum by enumerating every assignment with no empty cluster (k^n of them). */
function exhaustiveOptimum(rows: number[][], k: number): number {
  const n = rows.length;
  const d = rows[0]!.length;
  const assignment = new Array<number>(n).fill(0);
  let best = Number.POSITIVE_INFINITY;
  const total = k ** n;
  for (let code = 0; code < total; code++) {
    let rest = code;
    for (let i = 0; i < n; i++) {
      assignment[i] = rest % k;
      rest = Math.floor(rest / k);
    }
    const sums = Array.from({ length: k }, () => new Array<number>(d).fill(0));
    const sizes = new Array<number>(k).fill(0);
    assignment.forEach((c, i) => {
      sizes[c]!++;
      for (let f = 0; f < d; f++) sums[c]![f]! += rows[i]![f]!;
    });
    if (sizes.includes(0)) continue;
    let cost = 0;
    assignment.forEach((c, i) => {
      cost += squaredDistance(
        rows[i]!,
        sums[c]!.map((s) => s / sizes[c]!),
      );
    });
    best = Math.min(best, cost);
  }
  return best;
}

function relativeDifference(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);
}

describe('kmeans against the exhaustive optimum', () => {
  test('equals the optimum on small well-separated sets', () => {
    for (const [seed, k, size, dims] of [
      [1, 2, 4, 1],
      [2, 2, 5, 2],
      [3, 3, 3, 2],
      [4, 3, 3, 3],
      [5, 2, 4, 3],
    ] as const) {
      const { rows } = gaussianBlobs(seed, k, size, dims, 8);
      const optimum = exhaustiveOptimum(rows, k);
      const result = kmeans(rows, k, { seed });
      assert.ok(
        relativeDifference(result.inertia, optimum) < 1e-9,
        `seed ${seed}: ${result.inertia} vs ${optimum}`,
      );
    }
  });

  test('is never below the optimum, and reaches it on almost every random set', () => {
    let reached = 0;
    let sets = 0;
    for (let seed = 10; seed < 30; seed++) {
      for (const k of [2, 3]) {
        const rows = uniformPoints(seed, k === 2 ? 10 : 8, 1 + (seed % 3));
        const optimum = exhaustiveOptimum(rows, k);
        const { inertia } = kmeans(rows, k, { seed });
        assert.ok(
          inertia >= optimum * (1 - 1e-12),
          `seed ${seed} k ${k}: ${inertia} below optimum ${optimum}`,
        );
        sets++;
        if (relativeDifference(inertia, optimum) < 1e-9) reached++;
      }
    }
    // Ten k-means++ restarts on at most ten points: missing the optimum is rare, not the rule.
    assert.ok(reached >= sets - 2, `optimum reached on ${reached} of ${sets} sets`);
  });
});

describe('kmeans on Gaussian blobs', () => {
  test('recovers well-separated blobs exactly for k = 2..5', () => {
    for (const k of [2, 3, 4, 5]) {
      for (const dims of [5, 64]) {
        const { rows, truth } = gaussianBlobs(100 + k, k, 20, dims, 10);
        const result = kmeans(rows, k);
        assert.equal(adjustedRandIndex(result.labels, truth), 1, `k ${k} dims ${dims}`);
      }
    }
  });

  test('is deterministic for a seed; other seeds find the same inertia on separated data', () => {
    const { rows } = gaussianBlobs(7, 4, 25, 16, 8);
    const first = kmeans(rows, 4, { seed: 3 });
    const again = kmeans(rows, 4, { seed: 3 });
    assert.deepEqual(again.labels, first.labels);
    assert.deepEqual(again.centroids, first.centroids);
    assert.equal(again.inertia, first.inertia);
    for (const seed of [0, 1, 2, 99, 12345]) {
      const other = kmeans(rows, 4, { seed });
      assert.ok(relativeDifference(other.inertia, first.inertia) < 1e-9, `seed ${seed}`);
      assert.deepEqual(other.labels, first.labels, 'canonical labels agree across seeds');
    }
  });

  test('labels are canonical: clusters numbered by first appearance', () => {
    const { rows } = gaussianBlobs(8, 5, 10, 8, 10);
    const { labels } = kmeans(rows, 5, { seed: 17 });
    let next = 0;
    for (const label of labels) {
      assert.ok(label <= next, `label ${label} appears before ${next}`);
      if (label === next) next++;
    }
    assert.equal(next, 5);
  });

  test('centroids are the cluster means and the inertia their squared distances', () => {
    const { rows } = gaussianBlobs(9, 3, 15, 7, 6);
    const { labels, centroids, inertia, iterations } = kmeans(rows, 3);
    const d = 7;
    let expected = 0;
    for (let c = 0; c < 3; c++) {
      const members = rows.filter((_, i) => labels[i] === c);
      const meanRow = Array.from(
        { length: d },
        (_, f) => members.reduce((s, r) => s + r[f]!, 0) / members.length,
      );
      for (let f = 0; f < d; f++) assert.ok(Math.abs(centroids[c * d + f]! - meanRow[f]!) < 1e-12);
      for (const member of members) expected += squaredDistance(member, meanRow);
    }
    assert.ok(relativeDifference(inertia, expected) < 1e-12);
    assert.ok(iterations >= 1 && iterations <= 300);
  });

  test('typed-array and nested-array inputs agree; prepared points reuse the Gram matrix', () => {
    const { rows } = gaussianBlobs(10, 3, 12, 6, 3);
    const flat = rows.flat();
    const fromArrays = kmeans(rows, 3, { seed: 5 });
    const from64 = kmeans({ values: Float64Array.from(flat), rows: rows.length, cols: 6 }, 3, { seed: 5 });
    const from32 = kmeans({ values: Float32Array.from(flat), rows: rows.length, cols: 6 }, 3, { seed: 5 });
    const prepared = kmeansPrepared(preparePoints(rows), 3, { seed: 5 });
    assert.deepEqual(from64, fromArrays);
    assert.deepEqual(prepared, fromArrays);
    assert.deepEqual(from32.labels, fromArrays.labels);
    assert.ok(relativeDifference(from32.inertia, fromArrays.inertia) < 1e-5);
  });
});

describe('kmeans edge cases', () => {
  test('fewer points than clusters is an error that says so', () => {
    assert.throws(() => kmeans([[0], [1]], 3), /3 clusters needs at least 3 points, got 2/);
  });

  test('k = n puts every point alone; k = 1 gives the mean', () => {
    const rows = [
      [0, 0],
      [1, 0],
      [5, 5],
      [2, 9],
    ];
    const alone = kmeans(rows, 4);
    assert.equal(alone.inertia, 0);
    assert.deepEqual([...alone.labels], [0, 1, 2, 3]);
    const one = kmeans(rows, 1);
    assert.deepEqual([...one.centroids], [2, 3.5]);
    assert.ok(Math.abs(one.inertia - (4 + 3.5 ** 2 + 1 + 3.5 ** 2 + 9 + 1.5 ** 2 + 0 + 5.5 ** 2)) < 1e-12);
  });

  test('duplicate points: exact clusters, and more clusters than distinct points', () => {
    const base = [
      [0, 0],
      [10, 0],
      [0, 10],
    ];
    const rows = Array.from({ length: 12 }, (_, i) => base[i % 3]!);
    const truth = rows.map((_, i) => i % 3);
    const three = kmeans(rows, 3);
    assert.equal(three.inertia, 0);
    assert.equal(adjustedRandIndex(three.labels, truth), 1);
    const four = kmeans(rows, 4);
    assert.equal(four.inertia, 0);
    assert.equal(adjustedRandIndex(four.labels, truth), 1, 'a fourth cluster cannot split identical points');
    assert.ok(four.centroids.every(Number.isFinite));
  });

  test('an empty cluster is re-seeded from the farthest point and ends as the last centroid', () => {
    // Four points at 0 and one at 10 with k = 3: seeding must pick 0 twice (the potential is 0),
    // leaving one cluster empty; relocation moves a point into it, and its centroid stays at 0.
    const rows = [[0], [0], [0], [0], [10]];
    const result = kmeans(rows, 3, { seed: 1 });
    assert.equal(result.inertia, 0);
    assert.deepEqual([...result.labels], [0, 0, 0, 0, 1]);
    assert.deepEqual([...result.centroids], [0, 10, 0]);
  });

  test('all points identical', () => {
    const result = kmeans(
      [
        [3, 3],
        [3, 3],
        [3, 3],
      ],
      2,
    );
    assert.equal(result.inertia, 0);
    assert.deepEqual([...result.labels], [0, 0, 0]);
    assert.deepEqual([...result.centroids], [3, 3, 3, 3]);
  });

  test('bad input and options are rejected before any work', () => {
    assert.throws(() => kmeans([[0], [1, 2]], 1), /point 1 has 2 features/);
    assert.throws(() => kmeans([[0], [Number.NaN]], 1), /not finite/);
    assert.throws(() => kmeans({ values: new Float64Array(5), rows: 2, cols: 2 }, 1), /expected rows x cols/);
    assert.throws(() => kmeans([[0], [1]], 0), /positive integer/);
    assert.throws(() => kmeans([[0], [1]], 1, { nInit: 0 }), /nInit/);
    assert.throws(() => kmeans([[0], [1]], 1, { tol: -1 }), /tol/);
    assert.throws(() => kmeans([[0], [1]], 1, { seed: 0.5 }), /seed/);
  });
});
