/**
 * The assignment rule of `pure assign` against independent computations: centroids are the means of a
 * cluster's circuits (checked against a plain per-cluster loop and against what k-means itself converged
 * to), and the nearest centroid (checked against a brute-force argmin) gives every clustered point back
 * the label k-means gave it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  centroidsOfPart,
  clusterMeans,
  countFor,
  neuronCentroids,
} from '../../../core/compute/assign/centroids.js';
import { nearestVirtualNeuron, virtualNeuronSets } from '../../../core/compute/assign/nearest.js';
import { kmeans } from '../../../core/compute/clustering/index.js';
import type { ClusterRow, NeuronRow, RelevanceRow } from '../../../core/compute/tables/schemas.js';
import { seededRandom } from '../../support/random.js';
import { monosemanticVerdict } from '../../support/rows.js';
import { gaussianBlobs, squaredDistance } from '../clustering/data.js';

const LAYER = '/upper';

/** Circuit-like rows: |R| sums to 1, as the relevance table holds them. */
function relevanceRows(neuron: number, vectors: readonly number[][]): RelevanceRow[] {
  return vectors.map((v, i) => {
    const total = v.reduce((s, x) => s + Math.abs(x), 0);
    return {
      layer: LAYER,
      lowerLayer: '/lower',
      neuron,
      rank: i + 1,
      sampleIndex: 100 + i,
      sampleId: `img/${i}.png`,
      value: 1,
      relevance: Float32Array.from(v, (x) => x / total),
    };
  });
}

/** The mean of each cluster, the plain way: one pass per cluster. */
function naiveMeans(
  points: readonly ArrayLike<number>[],
  labels: readonly number[],
  count: number,
): number[][] {
  return Array.from({ length: count }, (_, c) => {
    const members = points.filter((_, i) => labels[i] === c);
    return Array.from(
      { length: points[0]!.length },
      (_, f) => members.reduce((s, p) => s + p[f]!, 0) / members.length,
    );
  });
}

function bruteForceNearest(centroids: readonly number[][], point: readonly number[]): number {
  const distances = centroids.map((c) => squaredDistance(c, point));
  return distances.indexOf(Math.min(...distances));
}

describe('centroids', () => {
  test('clusterMeans equals a per-cluster mean, and its mean distances the members’ mean distance', () => {
    const random = seededRandom(7);
    const points = Array.from({ length: 40 }, () => Array.from({ length: 6 }, () => random() - 0.5));
    const labels = points.map((_, i) => (i * 7) % 3);
    const { sizes, means, meanDistances } = clusterMeans(points, labels, 3);
    const expected = naiveMeans(points, labels, 3);
    for (let c = 0; c < 3; c++) {
      assert.equal(sizes[c], labels.filter((l) => l === c).length);
      expected[c]!.forEach((x, f) => {
        assert.ok(Math.abs(means[c * 6 + f]! - x) < 1e-12);
      });
      const members = points.filter((_, i) => labels[i] === c);
      const meanDistance =
        members.reduce((s, p) => s + Math.sqrt(squaredDistance(p, expected[c]!)), 0) / members.length;
      assert.ok(Math.abs(meanDistances[c]! - meanDistance) < 1e-12);
    }
    assert.throws(() => clusterMeans(points, labels, 2), /label 2 is outside 0..1/);
  });

  test('the means of k-means labels are the centres it converged to, and each point’s nearest is its label', () => {
    for (const [seed, clusters, separation] of [
      [1, 2, 8],
      [2, 3, 6],
      [3, 4, 2.5], // overlapping blobs: boundaries close to points
    ] as const) {
      const { rows } = gaussianBlobs(seed, clusters, 25, 12, separation);
      const circuits = relevanceRows(
        0,
        rows.map((r) => r.map((x) => x + 20)),
      ); // positive, normalised like circuits
      const vectors = circuits.map((r) => r.relevance);
      const result = kmeans(
        vectors.map((v) => [...v]),
        clusters,
        { seed: 0 },
      );
      const labels = [...result.labels];
      const { means } = clusterMeans(vectors, labels, clusters);
      means.forEach((x, i) => {
        assert.ok(Math.abs(x - result.centroids[i]!) < 1e-9, `seed ${seed}: centre entry ${i}`);
      });
      const clusterOfRank = new Map(circuits.map((r, i) => [r.rank, labels[i]!]));
      const [set] = virtualNeuronSets(neuronCentroids(circuits, clusterOfRank, clusters));
      const agree = vectors.filter((v, i) => nearestVirtualNeuron(set!, v).cluster === labels[i]).length;
      assert.equal(agree, vectors.length, `seed ${seed}: ${agree}/${vectors.length} back in their cluster`);
    }
  });

  test('one virtual neuron when the count is 1 or the run has no clustering at it; empty clusters get none', () => {
    const circuits = relevanceRows(3, [
      [1, 0, 0],
      [0, 1, 0],
      [1, 1, 0],
    ]);
    const whole = neuronCentroids(circuits, undefined, 4);
    assert.equal(whole.length, 1);
    assert.deepEqual([whole[0]!.nClusters, whole[0]!.cluster, whole[0]!.size], [1, 0, 3]);
    const expected = naiveMeans(
      circuits.map((c) => c.relevance),
      [0, 0, 0],
      1,
    )[0]!;
    expected.forEach((x, f) => {
      assert.ok(Math.abs(whole[0]!.centroid[f]! - x) < 1e-7);
    });
    const split = neuronCentroids(
      circuits,
      new Map([
        [1, 0],
        [2, 2],
        [3, 2],
      ]),
      3,
    );
    assert.deepEqual(
      split.map((c) => [c.nClusters, c.cluster, c.size]),
      [
        [3, 0, 1],
        [3, 2, 2],
      ],
    );
    assert.equal(split[0]!.meanDistance, 0);
    assert.throws(() => neuronCentroids(circuits, new Map([[1, 0]]), 2), /rank 2 has no cluster/);
  });

  test('each neuron at its chosen, best or a fixed count; only selected neurons', () => {
    const neuron = (n: number, nClusters: number, bestCount: number): NeuronRow => ({
      layer: LAYER,
      lowerLayer: '/lower',
      neuron: n,
      nClusters,
      polysemanticity: 0.5,
      silhouettes: new Float32Array(2),
      activationSilhouettes: new Float32Array(2),
      references: 4,
      ...monosemanticVerdict(),
      bestCount,
    });
    assert.equal(countFor(neuron(0, 1, 3), 'chosen'), 1);
    assert.equal(countFor(neuron(0, 1, 3), 'best'), 3);
    assert.equal(countFor(neuron(0, 1, 0), 'best'), 1);
    assert.equal(countFor(neuron(0, 2, 3), 3), 3);
    const relevance = [0, 1, 2].flatMap((n) =>
      relevanceRows(n, [
        [1, 0],
        [1, 0.1],
        [0, 1],
        [0.1, 1],
      ]),
    );
    const clusters: ClusterRow[] = [0, 1, 2].flatMap((n) =>
      [2, 3].flatMap((k) =>
        [0, 0, 1, k - 1].map((cluster, i) => ({
          layer: LAYER,
          neuron: n,
          method: 'pure' as const,
          nClusters: k,
          rank: i + 1,
          sampleIndex: 100 + i,
          cluster,
        })),
      ),
    );
    const part = { relevance, clusters, neurons: [neuron(0, 2, 2), neuron(1, 1, 3), neuron(2, 1, 2)] };
    const summary = (rows: ReturnType<typeof centroidsOfPart>) =>
      [...new Map(rows.map((r) => [r.neuron, r.nClusters]))].map(([n, k]) => `${n}:${k}`).join(' ');
    assert.equal(summary(centroidsOfPart(part, 'chosen', null)), '0:2 1:1 2:1');
    assert.equal(summary(centroidsOfPart(part, 'best', null)), '0:2 1:3 2:2');
    assert.equal(summary(centroidsOfPart(part, 4, null)), '0:1 1:1 2:1'); // no clustering at 4: kept whole
    assert.equal(summary(centroidsOfPart(part, 'chosen', [{ first: 1, end: 3 }])), '1:1 2:1');
  });
});

describe('nearest virtual neuron', () => {
  test('the brute-force argmin, its distance, and the margin to the second nearest', () => {
    const random = seededRandom(11);
    const centroids = Array.from({ length: 4 }, () => Array.from({ length: 5 }, () => random()));
    const rows = centroids.map((c, i) => ({
      layer: LAYER,
      lowerLayer: '/lower',
      neuron: 2,
      nClusters: 5,
      cluster: [0, 1, 3, 4][i]!,
      size: 1,
      meanDistance: 0,
      centroid: Float32Array.from(c),
    }));
    const [set] = virtualNeuronSets(rows.reverse());
    const stored = centroids.map((c) => [...Float32Array.from(c)]);
    for (let trial = 0; trial < 50; trial++) {
      const point = Array.from({ length: 5 }, () => random());
      const nearest = nearestVirtualNeuron(set!, point);
      const index = bruteForceNearest(stored, point);
      const sorted = stored.map((c) => Math.sqrt(squaredDistance(c, point))).sort((a, b) => a - b);
      assert.equal(nearest.cluster, [0, 1, 3, 4][index]);
      assert.ok(Math.abs(nearest.distance - sorted[0]!) < 1e-12);
      assert.ok(Math.abs(nearest.margin! - (sorted[1]! - sorted[0]!)) < 1e-12);
    }
    assert.throws(() => nearestVirtualNeuron(set!, [1, 2]), /circuit has 2 channels, centroids 5/);
  });

  test('a tie goes to the lower cluster id; one centroid has no margin', () => {
    const row = (cluster: number, centroid: number[]) => ({
      layer: LAYER,
      lowerLayer: '/lower',
      neuron: 0,
      nClusters: 2,
      cluster,
      size: 1,
      meanDistance: 0,
      centroid: Float32Array.from(centroid),
    });
    const [pair] = virtualNeuronSets([row(1, [0, 1]), row(0, [1, 0])]);
    assert.deepEqual(nearestVirtualNeuron(pair!, [0.5, 0.5]), {
      cluster: 0,
      distance: Math.SQRT1_2,
      margin: 0,
    });
    const [single] = virtualNeuronSets([row(0, [1, 0])]);
    assert.equal(nearestVirtualNeuron(single!, [0, 0]).margin, null);
  });
});
