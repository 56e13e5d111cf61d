import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ClusterCountChoice, chooseClusterCount } from '../../../core/compute/clustering/choose.js';
import { decisionText } from '../../../core/compute/virtual-neurons/split.js';
import { gaussianBlobs } from './data.js';

/** A verdict with the default thresholds (evidence 4, P 0.5); decisionText reads nothing else. */
function choice(fields: Partial<ClusterCountChoice>): ClusterCountChoice {
  return {
    clusters: 1,
    polysemanticity: 0,
    evidence: 0,
    bestCandidate: 2,
    candidates: [],
    thresholds: { evidence: 4, polysemanticity: 0.5 },
    ...fields,
  };
}

describe('decisionText: the verdict in words, with the numbers', () => {
  test('a split names its count and both gates it passed', () => {
    assert.equal(
      decisionText(choice({ clusters: 3, bestCandidate: 3, evidence: 6.14, polysemanticity: 0.553 })),
      'split in 3: evidence 6.1 >= 4, P 0.55 >= 0.5',
    );
    // Thresholds reached exactly pass; points whose null does not vary have an infinite evidence.
    assert.equal(
      decisionText(choice({ clusters: 2, evidence: 4, polysemanticity: 0.5 })),
      'split in 2: evidence 4.0 >= 4, P 0.50 >= 0.5',
    );
    assert.equal(
      decisionText(choice({ clusters: 2, evidence: Number.POSITIVE_INFINITY, polysemanticity: 0.9 })),
      'split in 2: evidence Infinity >= 4, P 0.90 >= 0.5',
    );
  });

  test('a neuron kept whole names only the gates it failed', () => {
    assert.equal(
      decisionText(choice({ evidence: 2.04, polysemanticity: 0.7 })),
      'monosemantic: evidence 2.0 < 4',
    );
    assert.equal(decisionText(choice({ evidence: 5, polysemanticity: 0.3 })), 'monosemantic: P 0.30 < 0.5');
    assert.equal(
      decisionText(choice({ evidence: 1, polysemanticity: 0.1 })),
      'monosemantic: evidence 1.0 < 4, P 0.10 < 0.5',
    );
    // The comparison uses the value, not its rounding: 3.96 shows as 4.0 but is below 4.
    assert.equal(
      decisionText(choice({ evidence: 3.96, polysemanticity: 0.6 })),
      'monosemantic: evidence 4.0 < 4',
    );
  });

  test('no candidate with two distinct clusters', () => {
    assert.equal(
      decisionText(choice({ bestCandidate: 0, evidence: 0, polysemanticity: 0 })),
      'monosemantic: no candidate count gives two distinct clusters',
    );
  });

  test('other thresholds are printed as given', () => {
    const custom = choice({
      evidence: 3,
      polysemanticity: 0.35,
      thresholds: { evidence: 2.5, polysemanticity: 0.4 },
    });
    assert.equal(decisionText(custom), 'monosemantic: P 0.35 < 0.4');
  });

  test("agrees with chooseClusterCount's own verdicts", () => {
    const blobs = gaussianBlobs(13, 3, 24, 6, 6);
    const split = chooseClusterCount(blobs.rows, { seed: 1 });
    assert.equal(split.clusters, 3);
    assert.match(decisionText(split), /^split in 3: evidence \d+\.\d >= 4, P 0\.\d\d >= 0\.5$/);
    // One Gaussian cloud: kept whole.
    const cloud = gaussianBlobs(14, 1, 60, 6, 0);
    const whole = chooseClusterCount(cloud.rows, { seed: 1 });
    assert.equal(whole.clusters, 1);
    assert.match(decisionText(whole), /^monosemantic: (evidence -?\d+\.\d < 4|P 0\.\d\d < 0\.5)/);
    // Identical points: no candidate has two distinct clusters.
    const same = chooseClusterCount(
      Array.from({ length: 10 }, () => [1, 2, 3]),
      { seed: 1 },
    );
    assert.equal(decisionText(same), 'monosemantic: no candidate count gives two distinct clusters');
  });
});
