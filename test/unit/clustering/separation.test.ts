import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { centerPoints, gramOf, toRowMatrix } from '../../../core/compute/clustering/points.js';
import { pseudoInverse, subspaceWithinFraction } from '../../../core/compute/clustering/separation.js';
import { seededRandom } from '../../support/random.js';
import { gaussianBlobs, normalSource } from './data.js';

function multiply(a: Float64Array, b: Float64Array, size: number): Float64Array {
  const out = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      for (let m = 0; m < size; m++) out[i * size + j]! += a[i * size + m]! * b[m * size + j]!;
    }
  }
  return out;
}

/** Fsub in coordinates: Gram-Schmidt on the cluster means, project, compare within and total. */
function directSubspaceFraction(rows: number[][], labels: number[]): number {
  const d = rows[0]!.length;
  const mean = Array.from({ length: d }, (_, f) => rows.reduce((s, r) => s + r[f]!, 0) / rows.length);
  const centred = rows.map((r) => r.map((v, f) => v - mean[f]!));
  const clusters = [...new Set(labels)];
  const means = clusters.map((c) => {
    const members = centred.filter((_, i) => labels[i] === c);
    return Array.from({ length: d }, (_, f) => members.reduce((s, r) => s + r[f]!, 0) / members.length);
  });
  const basis: number[][] = [];
  for (const m of means) {
    const v = [...m];
    for (const b of basis) {
      const projection = v.reduce((s, x, f) => s + x * b[f]!, 0);
      for (let f = 0; f < d; f++) v[f]! -= projection * b[f]!;
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    if (norm > 1e-9) basis.push(v.map((x) => x / norm));
  }
  const project = (x: number[]) => basis.map((b) => x.reduce((s, v, f) => s + v * b[f]!, 0));
  let total = 0;
  let within = 0;
  centred.forEach((x, i) => {
    const p = project(x);
    const q = project(means[clusters.indexOf(labels[i]!)]!);
    total += p.reduce((s, v) => s + v * v, 0);
    within += p.reduce((s, v, a) => s + (v - q[a]!) ** 2, 0);
  });
  return within / total;
}

describe('separation inside the span of the cluster means', () => {
  test('pseudo-inverse of full-rank and rank-deficient symmetric matrices', () => {
    const full = Float64Array.from([4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2]);
    const identity = multiply(full, pseudoInverse(full, 3), 3);
    identity.forEach((v, i) => {
      assert.ok(Math.abs(v - (i % 4 === 0 ? 1 : 0)) < 1e-12);
    });
    const v = [1, -2, 0.5];
    const rankOne = Float64Array.from(v.flatMap((a) => v.map((b) => a * b)));
    const back = multiply(multiply(rankOne, pseudoInverse(rankOne, 3), 3), rankOne, 3);
    back.forEach((x, i) => {
      assert.ok(Math.abs(x - rankOne[i]!) < 1e-12);
    });
  });

  test('matches the computation in coordinates', () => {
    const random = seededRandom(3);
    for (let trial = 0; trial < 10; trial++) {
      const k = 2 + (trial % 3);
      const { rows } = gaussianBlobs(40 + trial, k, 8, 3 + trial, 2);
      const labels = rows.map((_, i) => (i < k ? i : Math.floor(random() * k)));
      const space = gramOf(centerPoints(toRowMatrix(rows)));
      const value = subspaceWithinFraction(space, Int32Array.from(labels), k);
      assert.ok(Math.abs(value - directSubspaceFraction(rows, labels)) < 1e-10, `trial ${trial}`);
    }
  });

  test('does not change when noise-free dimensions are added, and is 0 for point clusters', () => {
    const { rows, truth } = gaussianBlobs(5, 3, 10, 4, 3);
    const labels = Int32Array.from(truth);
    const base = subspaceWithinFraction(gramOf(centerPoints(toRowMatrix(rows))), labels, 3);
    const padded = rows.map((r) => [...r, 7, 7, 7, 7, 7, 7]);
    const wider = subspaceWithinFraction(gramOf(centerPoints(toRowMatrix(padded))), labels, 3);
    assert.ok(Math.abs(base - wider) < 1e-12);
    const points = [
      [0, 0],
      [0, 0],
      [5, 1],
      [5, 1],
      [2, 9],
    ];
    const exact = subspaceWithinFraction(
      gramOf(centerPoints(toRowMatrix(points))),
      Int32Array.from([0, 0, 1, 1, 2]),
      3,
    );
    assert.ok(Math.abs(exact) < 1e-12);
  });

  test('noise dimensions dilute the whole-space share but hardly the subspace share', () => {
    const normal = normalSource(8);
    const { rows, truth } = gaussianBlobs(6, 2, 40, 2, 5);
    const noisy = rows.map((r) => [...r, ...Array.from({ length: 200 }, () => normal())]);
    const labels = Int32Array.from(truth);
    const narrow = subspaceWithinFraction(gramOf(centerPoints(toRowMatrix(rows))), labels, 2);
    const wide = subspaceWithinFraction(gramOf(centerPoints(toRowMatrix(noisy))), labels, 2);
    assert.ok(narrow < 0.1 && wide < 0.2, `${narrow} ${wide}`);
    const wideSpace = gramOf(centerPoints(toRowMatrix(noisy)));
    const clusterMeans = [0, 1].map((c) => {
      const members = noisy.filter((_, i) => truth[i] === c);
      return members[0]!.map((_, f) => members.reduce((s, r) => s + r[f]!, 0) / members.length);
    });
    const within = noisy.reduce(
      (s, r, i) => s + r.reduce((t, v, f) => t + (v - clusterMeans[truth[i]!]![f]!) ** 2, 0),
      0,
    );
    assert.ok(within / wideSpace.total > 0.8, `whole-space within share ${within / wideSpace.total}`);
  });
});
