import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  centerPoints,
  type GramSpace,
  gramOf,
  toRowMatrix,
} from '../../../core/compute/clustering/points.js';
import { drawRotatedSpace, prepareRotationNull } from '../../../core/compute/clustering/rotation.js';
import { createRandom } from '../../../core/compute/random.js';
import { gaussianBlobs, uniformPoints } from './data.js';

/** trace(G), trace(G^2), trace(G^3): the first three power sums of the spectrum. */
function spectralSums({ size: n, gram }: GramSpace): [number, number, number] {
  let t1 = 0;
  let t2 = 0;
  let t3 = 0;
  for (let i = 0; i < n; i++) {
    t1 += gram[i * n + i]!;
    for (let j = 0; j < n; j++) {
      t2 += gram[i * n + j]! ** 2;
      let square = 0;
      for (let m = 0; m < n; m++) square += gram[i * n + m]! * gram[m * n + j]!;
      t3 += square * gram[j * n + i]!;
    }
  }
  return [t1, t2, t3];
}

const space = (rows: number[][]) => gramOf(centerPoints(toRowMatrix(rows)));

describe('rotation null references', () => {
  test('keep the spectrum of the Gram matrix (all widths) and stay centred', () => {
    for (const [seed, count, dims] of [
      [1, 12, 3],
      [2, 20, 19],
      [3, 15, 40],
    ] as const) {
      const data = space(gaussianBlobs(seed, 3, count / 3, dims, 2).rows);
      const reference = drawRotatedSpace(prepareRotationNull(data), createRandom(seed));
      const before = spectralSums(data);
      const after = spectralSums(reference);
      before.forEach((value, p) => {
        assert.ok(Math.abs(after[p]! - value) <= 1e-9 * Math.abs(value), `power ${p + 1}`);
      });
      assert.ok(Math.abs(reference.total - data.total) <= 1e-12 * data.total);
      const n = reference.size;
      for (let i = 0; i < n; i++) {
        let rowSum = 0;
        for (let j = 0; j < n; j++) rowSum += reference.gram[i * n + j]!;
        assert.ok(Math.abs(rowSum) < 1e-9 * data.total, 'rotated points have mean 0');
        for (let j = 0; j < n; j++) assert.equal(reference.gram[i * n + j], reference.gram[j * n + i]);
      }
      assert.notDeepEqual(reference.gram, data.gram);
    }
  });

  test('are deterministic for a random stream and differ between streams', () => {
    const model = prepareRotationNull(space(uniformPoints(4, 10, 4)));
    assert.deepEqual(drawRotatedSpace(model, createRandom(1)), drawRotatedSpace(model, createRandom(1)));
    assert.notDeepEqual(
      drawRotatedSpace(model, createRandom(1)).gram,
      drawRotatedSpace(model, createRandom(2)).gram,
    );
  });

  test('rotations are uniform: the mean reference Gram matrix is T / (n - 1) times the centring matrix', () => {
    // Only a uniformly random rotation of sample space (fixing the ones vector) averages any point
    // set to an isotropic one; a biased rotation leaves the data's own pattern in the mean.
    const data = space([
      [0, 0],
      [1, 0],
      [0, 3],
      [4, 1],
      [2, 2],
      [9, 0],
    ]);
    const model = prepareRotationNull(data);
    const n = data.size;
    const mean = new Float64Array(n * n);
    const draws = 4000;
    const random = createRandom(9);
    for (let b = 0; b < draws; b++) {
      const { gram } = drawRotatedSpace(model, random);
      for (let i = 0; i < n * n; i++) mean[i]! += gram[i]! / draws;
    }
    const scale = data.total / (n - 1);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const expected = scale * ((i === j ? 1 : 0) - 1 / n);
        assert.ok(
          Math.abs(mean[i * n + j]! - expected) < 0.05 * scale,
          `(${i}, ${j}) ${mean[i * n + j]} vs ${expected}`,
        );
      }
    }
  });

  test('points without variation have rank 0 and rotate to themselves', () => {
    const data = space([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    const model = prepareRotationNull(data);
    assert.equal(model.rank, 0);
    assert.deepEqual([...drawRotatedSpace(model, createRandom(0)).gram], new Array(9).fill(0));
  });
});
