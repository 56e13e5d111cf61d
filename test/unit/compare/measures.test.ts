import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cosine,
  matchVirtualNeurons,
  meanVector,
  type ReferenceCircuit,
  virtualNeuronCentroids,
} from '../../../core/compute/compare/circuits.js';
import { jaccard, rankOverlap, valueRatio } from '../../../core/compute/compare/overlap.js';

describe('reference overlap', () => {
  test('Jaccard of the sets, order ignored', () => {
    assert.equal(jaccard(['a', 'b', 'c'], ['c', 'b', 'a']), 1);
    assert.equal(jaccard(['a', 'b', 'c', 'd'], ['a', 'b', 'c', 'e']), 3 / 5);
    assert.equal(jaccard(['a'], ['b']), 0);
    assert.equal(jaccard([], []), 1);
  });

  test('rank overlap: 1 iff equal, and a change at the top costs more than one at the bottom', () => {
    const ranking = ['a', 'b', 'c', 'd', 'e'];
    assert.equal(rankOverlap(ranking, ranking), 1);
    assert.equal(rankOverlap([], []), 1);
    assert.equal(rankOverlap(['a', 'b'], ['c', 'd']), 0);
    const swappedTop = rankOverlap(ranking, ['b', 'a', 'c', 'd', 'e']);
    const swappedBottom = rankOverlap(ranking, ['a', 'b', 'c', 'e', 'd']);
    assert.ok(swappedTop < swappedBottom && swappedBottom < 1, `${swappedTop} < ${swappedBottom} < 1`);
    // Depths 1..2: [a] vs [b] share 0, [a,b] vs [b,a] share 2 of 2: (0 + 1) / 2.
    assert.equal(rankOverlap(['a', 'b'], ['b', 'a']), 0.5);
    // A shorter list (fewer decodable references) only counts what it has.
    assert.equal(rankOverlap(['a', 'b'], ['a']), (1 + 1 / 2) / 2);
  });

  test('value ratio of the mean reference values', () => {
    assert.equal(valueRatio([2, 4], [6, 12]), 3);
    assert.equal(valueRatio([0, 0], [0, 0]), 1, 'dead in both');
    assert.equal(valueRatio([0, 0], [1, 1]), null, 'no ratio to a dead neuron');
    assert.equal(valueRatio([-1, -1], [1, 1]), null);
  });
});

describe('circuits', () => {
  test('cosine: scale-free, zero vectors defined', () => {
    assert.ok(Math.abs(cosine([1, 2, 3], [2, 4, 6]) - 1) < 1e-12);
    assert.equal(cosine([1, 0], [0, 1]), 0);
    assert.equal(cosine([0, 0], [0, 0]), 1, 'both dead: the same circuit');
    assert.equal(cosine([0, 0], [1, 0]), 0);
    assert.throws(() => cosine([1], [1, 2]), /lengths/);
  });

  test('mean vector and centroids per cluster', () => {
    assert.deepEqual([...meanVector([Float32Array.of(1, 3), Float32Array.of(3, 5)])], [2, 4]);
    const refs: ReferenceCircuit[] = [
      { sampleId: 'x', cluster: 1, relevance: [0, 1] },
      { sampleId: 'y', cluster: 0, relevance: [1, 0] },
      { sampleId: 'z', cluster: 1, relevance: [0, 3] },
    ];
    const centroids = virtualNeuronCentroids(refs, 3);
    assert.deepEqual(
      centroids.map((c) => [c.cluster, c.members, [...c.centroid]]),
      [
        [0, ['y'], [1, 0]],
        [1, ['x', 'z'], [0, 2]],
      ],
      'cluster 2 has no members and is left out',
    );
  });

  test('virtual neurons matched whatever k-means numbered them; leftovers unmatched', () => {
    const vn = (cluster: number, centroid: number[]) => ({
      cluster,
      members: [],
      centroid: Float64Array.from(centroid),
    });
    const a = [vn(0, [1, 0, 0]), vn(1, [0, 1, 0])];
    const b = [vn(0, [0, 0.9, 0.1]), vn(1, [0, 0, 1]), vn(2, [1, 0.1, 0])];
    const matches = matchVirtualNeurons(a, b);
    assert.deepEqual(
      matches.map((m) => [m.a?.cluster ?? null, m.b?.cluster ?? null]),
      [
        [0, 2],
        [1, 0],
        [null, 1],
      ],
    );
    assert.ok(matches[0]!.similarity! > 0.99 && matches[2]!.similarity === null);
    assert.deepEqual(
      matchVirtualNeurons([], a).map((m) => m.b?.cluster),
      [0, 1],
    );
  });
});
