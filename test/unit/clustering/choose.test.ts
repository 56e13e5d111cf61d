import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseClusterCount } from '../../../core/compute/clustering/choose.js';
import { adjustedRandIndex } from '../../../core/compute/clustering/metrics.js';
import { gaussianBlobs, normalSource } from './data.js';

/** One Gaussian cloud; `decay` > 0 makes it anisotropic (standard deviations 1 down to 10^-decay). */
function gaussianCloud(seed: number, count: number, dims: number, decay = 0): number[][] {
  const normal = normalSource(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: dims }, (_, f) => normal() * 10 ** ((-decay * f) / Math.max(1, dims - 1))),
  );
}

describe('automatic cluster count', () => {
  test('one Gaussian cloud is monosemantic, across sizes, widths and shapes', () => {
    for (const [seed, count, dims, decay] of [
      [1, 100, 2, 0],
      [2, 100, 16, 0],
      [3, 60, 64, 0],
      [4, 100, 512, 0],
      [5, 40, 8, 0],
      [6, 100, 10, 2], // elongated: a 1-D-like cloud that raw silhouettes and BIC tend to split
      [7, 100, 200, 3],
    ] as const) {
      const choice = chooseClusterCount(gaussianCloud(seed, count, dims, decay), { seed });
      assert.equal(choice.clusters, 1, `n ${count} d ${dims} decay ${decay}: evidence ${choice.evidence}`);
      assert.ok(choice.polysemanticity < 0.3, `P = ${choice.polysemanticity}`);
    }
  });

  test('false splits of Gaussian clouds are rare', () => {
    let splits = 0;
    for (let seed = 0; seed < 24; seed++) {
      const dims = [2, 8, 64, 256][seed % 4]!;
      const choice = chooseClusterCount(gaussianCloud(100 + seed, 60, dims, seed % 3), {
        seed,
        nullSamples: 6,
      });
      if (choice.clusters > 1) splits++;
    }
    assert.ok(splits <= 1, `${splits} of 24 Gaussian clouds split`);
  });

  test('separated blobs get their true count, and k-means the true partition', () => {
    for (const [seed, clusters, dims, separation] of [
      [11, 2, 2, 6],
      [12, 3, 3, 6],
      [13, 4, 16, 6],
      [14, 5, 64, 7],
      [15, 3, 512, 8],
    ] as const) {
      const { rows, truth } = gaussianBlobs(seed, clusters, 24, dims, separation);
      const choice = chooseClusterCount(rows, { seed });
      assert.equal(choice.clusters, clusters, `${clusters} blobs in ${dims} dims`);
      const chosen = choice.candidates.find((c) => c.clusters === clusters)!;
      assert.equal(adjustedRandIndex(chosen.result.labels, truth), 1);
      assert.ok(choice.polysemanticity > 0.5, `P = ${choice.polysemanticity}`);
    }
  });

  test('wide layers: clusters with a near-zero silhouette are found and scored like narrow ones', () => {
    // Three clusters in 512 dimensions, centres ~11 noise-sd apart: pairwise distances are ~32 within
    // and ~34 between, so the silhouette is ~0.05 and the clusters explain ~10 % of the variance; in
    // the span of the cluster means they are as clear as in 8 dimensions.
    const wide = gaussianBlobs(21, 3, 33, 512, 8);
    const narrow = gaussianBlobs(22, 3, 33, 8, 8);
    const wideChoice = chooseClusterCount(wide.rows, { seed: 2 });
    const narrowChoice = chooseClusterCount(narrow.rows, { seed: 2 });
    assert.equal(wideChoice.clusters, 3, `evidence ${wideChoice.evidence}, P ${wideChoice.polysemanticity}`);
    const chosen = wideChoice.candidates[1]!;
    assert.ok(chosen.silhouette < 0.1, `silhouette ${chosen.silhouette}`);
    assert.ok(chosen.withinFraction > 0.85, `F ${chosen.withinFraction}`);
    assert.equal(adjustedRandIndex(chosen.result.labels, wide.truth), 1);
    assert.equal(narrowChoice.clusters, 3);
    assert.ok(
      Math.abs(wideChoice.polysemanticity - narrowChoice.polysemanticity) < 0.1,
      `P ${wideChoice.polysemanticity} (512 dims) vs ${narrowChoice.polysemanticity} (8 dims)`,
    );
  });

  test('heavy overlap is not split: significant structure, but weak', () => {
    // Two blobs 2.8 sd apart in 4 dimensions: k-means finds them better than chance, yet they explain
    // too little of the variance along their axis to be virtual neurons of their own.
    const { rows } = gaussianBlobs(23, 2, 50, 4, 2);
    const choice = chooseClusterCount(rows, { seed: 3 });
    assert.equal(choice.clusters, 1, `evidence ${choice.evidence}, P ${choice.polysemanticity}`);
    assert.ok(choice.polysemanticity < 0.5);
  });

  test('the polysemanticity score is higher for separated blobs than for one blob, and in [0, 1]', () => {
    for (const dims of [4, 64, 512]) {
      const single = chooseClusterCount(gaussianCloud(30 + dims, 90, dims), { seed: 1 }).polysemanticity;
      const medium = chooseClusterCount(gaussianBlobs(31 + dims, 3, 30, dims, 3).rows, {
        seed: 1,
      }).polysemanticity;
      const strong = chooseClusterCount(gaussianBlobs(32 + dims, 3, 30, dims, 12).rows, {
        seed: 1,
      }).polysemanticity;
      for (const score of [single, medium, strong]) assert.ok(score >= 0 && score <= 1);
      assert.ok(single < 0.3, `d ${dims}: one blob ${single}`);
      assert.ok(strong > 0.8, `d ${dims}: separated ${strong}`);
      // Blobs 4 sd apart are a matter of degree in narrow layers (and drown in noise at 512 dims).
      if (dims < 512)
        assert.ok(single < medium && medium < strong, `d ${dims}: ${single} ${medium} ${strong}`);
    }
  });

  test('invariant to the scale of the vectors, deterministic for a seed', () => {
    const { rows } = gaussianBlobs(40, 3, 20, 12, 3);
    const base = chooseClusterCount(rows, { seed: 4 });
    const scaled = chooseClusterCount(
      rows.map((r) => r.map((v) => v * 1e-4)),
      { seed: 4 },
    );
    assert.equal(scaled.clusters, base.clusters);
    assert.ok(Math.abs(scaled.polysemanticity - base.polysemanticity) < 1e-9);
    assert.ok(Math.abs(scaled.evidence - base.evidence) < 1e-6);
    assert.deepEqual(chooseClusterCount(rows, { seed: 4 }), base);
  });

  test('reports every candidate that fits the points', () => {
    const { rows } = gaussianBlobs(50, 2, 3, 4, 8); // six points
    const choice = chooseClusterCount(rows, { candidates: [5, 2, 3, 6] });
    assert.deepEqual(
      choice.candidates.map((c) => c.clusters),
      [2, 3, 5],
    );
    for (const candidate of choice.candidates) {
      assert.equal(candidate.result.labels.length, 6);
      assert.ok(candidate.withinFraction >= 0 && candidate.withinFraction <= 1);
      assert.ok(candidate.nullWithinFraction > 0 && candidate.nullWithinFraction <= 1);
    }
  });

  test('degenerate inputs are monosemantic', () => {
    const same = chooseClusterCount([
      [1, 2],
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    assert.equal(same.clusters, 1);
    assert.equal(same.polysemanticity, 0);
    assert.ok(same.candidates.every((c) => Number.isNaN(c.silhouette)));
    // Equal vectors up to float32 rounding (as relevance vectors are stored) are not clustered.
    const normal = normalSource(77);
    const base = Array.from({ length: 32 }, () => Math.abs(normal()));
    const rounded = Array.from({ length: 60 }, (_, i) =>
      Array.from(Float32Array.from(base.map((v, f) => v * (1 + ((i * 31 + f * 7) % 5) * 1e-8)))),
    );
    const roundingOnly = chooseClusterCount(rounded);
    assert.equal(roundingOnly.clusters, 1);
    assert.equal(roundingOnly.polysemanticity, 0);
    const two = chooseClusterCount([[0], [1]]);
    assert.equal(two.clusters, 1);
    assert.deepEqual(two.candidates, []);
  });

  test('bad options are rejected', () => {
    assert.throws(() => chooseClusterCount([[0], [1], [2]], { candidates: [1, 2] }), /integers >= 2/);
    assert.throws(() => chooseClusterCount([[0], [1], [2]], { candidates: [2, 2] }), /duplicate/);
    assert.throws(() => chooseClusterCount([[0], [1], [2]], { nullSamples: 1 }), /nullSamples/);
  });
});
