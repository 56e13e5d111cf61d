import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { maxWeightAssignment } from '../../../core/compute/compare/hungarian.js';
import { seededRandom } from '../../support/random.js';

/** The oracle: every injective map of the smaller side into the larger, the best total kept. */
function bruteForceBest(weights: number[][]): number {
  const rows = weights.length;
  const columns = weights[0]!.length;
  let best = Number.NEGATIVE_INFINITY;
  const used = new Array<boolean>(columns).fill(false);
  const visit = (row: number, total: number, skipsLeft: number): void => {
    if (row === rows) {
      best = Math.max(best, total);
      return;
    }
    for (let c = 0; c < columns; c++) {
      if (used[c]) continue;
      used[c] = true;
      visit(row + 1, total + weights[row]![c]!, skipsLeft);
      used[c] = false;
    }
    if (skipsLeft > 0) visit(row + 1, total, skipsLeft - 1); // this row left over
  };
  visit(0, 0, Math.max(0, rows - columns));
  return best;
}

function totalOf(weights: number[][], assignment: number[]): number {
  return assignment.reduce((sum, c, r) => (c < 0 ? sum : sum + weights[r]![c]!), 0);
}

describe('maxWeightAssignment (Hungarian method)', () => {
  test('matches the brute force on random square and rectangular matrices up to 6x6', () => {
    const random = seededRandom(7);
    for (let trial = 0; trial < 600; trial++) {
      const rows = 1 + Math.floor(random() * 6);
      const columns = 1 + Math.floor(random() * 6);
      // Cosines in [-1, 1], some of them tied, as centroid similarities can be.
      const weights = Array.from({ length: rows }, () =>
        Array.from({ length: columns }, () => (random() < 0.2 ? 0.5 : random() * 2 - 1)),
      );
      const assignment = maxWeightAssignment(weights);
      assert.equal(assignment.length, rows);
      const used = assignment.filter((c) => c >= 0);
      assert.equal(used.length, Math.min(rows, columns), 'min(rows, columns) pairs');
      assert.equal(new Set(used).size, used.length, 'each column at most once');
      const total = totalOf(weights, assignment);
      assert.ok(Math.abs(total - bruteForceBest(weights)) < 1e-9, `trial ${trial}: ${total}`);
    }
  });

  test('finds the permutation that a greedy choice misses', () => {
    // Greedy takes 0.9 (row 0 -> column 0) and is left with 0.1; the best pairs 0.8 + 0.8.
    assert.deepEqual(
      maxWeightAssignment([
        [0.9, 0.8],
        [0.8, 0.1],
      ]),
      [1, 0],
    );
  });

  test('more rows than columns leaves the weakest rows unmatched', () => {
    assert.deepEqual(maxWeightAssignment([[0.1], [0.9], [0.5]]), [-1, 0, -1]);
  });

  test('empty sides and bad input', () => {
    assert.deepEqual(maxWeightAssignment([]), []);
    assert.deepEqual(maxWeightAssignment([[], []]), [-1, -1]);
    assert.throws(() => maxWeightAssignment([[1, 2], [3]]), /rectangular/);
    assert.throws(() => maxWeightAssignment([[Number.NaN]]), /finite/);
  });
});
