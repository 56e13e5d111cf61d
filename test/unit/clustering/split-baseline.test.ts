import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kmeans, silhouetteScore } from '../../../core/compute/clustering/index.js';
import type { RelevanceRow } from '../../../core/compute/tables/schemas.js';
import { splitNeuron } from '../../../core/compute/virtual-neurons/split.js';
import { gaussianBlobs } from './data.js';

describe('splitNeuron: the Activation baseline', () => {
  test('its labels and silhouettes per count are k-means and the silhouette of the features themselves', () => {
    // Circuits and features with different structure (2 vs 3 blobs), so a mix-up of the two shows.
    const circuits = gaussianBlobs(1, 2, 15, 8, 6).rows;
    const features = gaussianBlobs(2, 3, 10, 16, 4).rows;
    const relevance: RelevanceRow[] = circuits.map((r, rank) => ({
      layer: 'L',
      lowerLayer: 'P',
      neuron: 7,
      rank,
      sampleIndex: 100 + rank,
      sampleId: `img${rank}`,
      value: 1,
      relevance: Float32Array.from(r),
    }));
    const featuresBySample = new Map(features.map((f, i) => [100 + i, Float32Array.from(f)]));
    const counts = [2, 3, 4, 5];
    const split = splitNeuron(relevance, featuresBySample, { clusterCounts: counts, seed: 3 });
    // The features as the split sees them (float32), clustered and scored directly (pairwise distances).
    const points = [...featuresBySample.values()].map((f) => [...f]);
    counts.forEach((k, index) => {
      const labels = kmeans(points, k, { seed: 3 }).labels;
      const rows = split.clusters.filter((c) => c.method === 'activation' && c.nClusters === k);
      assert.deepEqual(
        rows.map((c) => c.cluster),
        [...labels],
      );
      const expected = silhouetteScore(points, labels);
      assert.ok(Math.abs(split.neuron.activationSilhouettes[index]! - expected) < 1e-6, `k = ${k}`);
    });
    assert.ok(split.neuron.activationSilhouettes[1]! > split.neuron.activationSilhouettes[0]!, '3 blobs');
  });
});
