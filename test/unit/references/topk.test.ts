import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeLayerReferences } from '../../../core/compute/references/merge.js';
import {
  type Candidate,
  compareCandidates,
  mergeTopK,
  offerActivationBatch,
  TopKSelector,
} from '../../../core/compute/references/topk.js';
import type { ReferenceRow } from '../../../core/compute/tables/schemas.js';
import { seededRandom } from '../../support/random.js';

/** The specification, by brute force: sort everything, keep the first k. */
function bruteForce(candidates: Candidate[], k: number): Candidate[] {
  return [...candidates].sort((a, b) => b.value - a.value || a.sampleIndex - b.sampleIndex).slice(0, k);
}

function randomCandidates(n: number, seed: number, distinctValues?: number): Candidate[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, sampleIndex) => ({
    // Few distinct values force many ties, which must be broken by sample index.
    value: distinctValues ? Math.floor(random() * distinctValues) : random() * 10 - 5,
    sampleIndex,
    h: Math.floor(random() * 8),
    w: Math.floor(random() * 8),
  }));
}

function shuffled<T>(items: T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('TopKSelector', () => {
  for (const [n, k, distinct] of [
    [1000, 100, undefined],
    [1000, 100, 7],
    [50, 100, undefined],
    [300, 1, 3],
    [5000, 37, 1],
  ] as const) {
    test(`n=${n} k=${k} ${distinct ? `${distinct} distinct values` : 'continuous values'} equals brute force in any offer order`, () => {
      const candidates = randomCandidates(n, n + k, distinct);
      const selector = new TopKSelector(k);
      for (const c of shuffled(candidates, 7)) selector.offer(c.value, c.sampleIndex, c.h, c.w);
      assert.deepEqual(selector.sorted(), bruteForce(candidates, k));
    });
  }

  test('ignores NaN and rejects a bad k', () => {
    const selector = new TopKSelector(2);
    selector.offer(Number.NaN, 0, 0, 0);
    selector.offer(1, 1, 0, 0);
    assert.deepEqual(
      selector.sorted().map((c) => c.sampleIndex),
      [1],
    );
    assert.throws(() => new TopKSelector(0), /positive integer/);
  });
});

describe('mergeTopK', () => {
  test('merging per-shard top-k equals the global top-k, for any shard split', () => {
    for (const seed of [1, 2, 3]) {
      const candidates = randomCandidates(2000, seed, seed === 3 ? 5 : undefined);
      const k = 100;
      const random = seededRandom(seed * 11);
      const shards: Candidate[][] = [];
      let start = 0;
      while (start < candidates.length) {
        const end = Math.min(candidates.length, start + 1 + Math.floor(random() * 400));
        const selector = new TopKSelector(k);
        for (const c of candidates.slice(start, end)) selector.offer(c.value, c.sampleIndex, c.h, c.w);
        shards.push(selector.sorted());
        start = end;
      }
      assert.deepEqual(mergeTopK(shuffled(shards, seed), k), bruteForce(candidates, k));
    }
  });

  test('compareCandidates is a total order: value descending, then sample index ascending', () => {
    const a = { value: 2, sampleIndex: 5, h: 0, w: 0 };
    const b = { value: 2, sampleIndex: 3, h: 0, w: 0 };
    const c = { value: 3, sampleIndex: 9, h: 0, w: 0 };
    assert.deepEqual([a, b, c].sort(compareCandidates), [c, b, a]);
  });
});

describe('offerActivationBatch', () => {
  test('max over space and its first arg-max (row, column), per channel', () => {
    // 2 images, 2 channels, 2x3 maps.
    const data = Float32Array.from([
      // image 0, channel 0: max 5 at (1, 0)
      1, 2, 3, 5, 4, 0,
      // image 0, channel 1: max 9 at (0, 2), ties later ignored
      0, 0, 9, 9, 0, 0,
      // image 1, channel 0: max 7 at (0, 1)
      0, 7, 0, 0, 0, 0,
      // image 1, channel 1: all negative, max -1 at (1, 2)
      -5, -4, -3, -2, -2, -1,
    ]);
    const selectors = [new TopKSelector(2), new TopKSelector(2)];
    offerActivationBatch(selectors, [2, 2, 2, 3], data, [10, 11]);
    assert.deepEqual(selectors[0]!.sorted(), [
      { value: 7, sampleIndex: 11, h: 0, w: 1 },
      { value: 5, sampleIndex: 10, h: 1, w: 0 },
    ]);
    assert.deepEqual(selectors[1]!.sorted(), [
      { value: 9, sampleIndex: 10, h: 0, w: 2 },
      { value: -1, sampleIndex: 11, h: 1, w: 2 },
    ]);
  });

  test('rejects a channel-count mismatch', () => {
    assert.throws(
      () => offerActivationBatch([new TopKSelector(1)], [1, 2, 1, 1], new Float32Array(2), [0]),
      /2 channels/,
    );
  });
});

describe('mergeLayerReferences', () => {
  test('re-ranks 1..k per neuron and keeps only the requested layer', () => {
    const row = (layer: string, neuron: number, sampleIndex: number, value: number): ReferenceRow => ({
      layer,
      neuron,
      rank: 0,
      sampleIndex,
      sampleId: `s${sampleIndex}`,
      sampleUri: `/d/s${sampleIndex}`,
      label: null,
      value,
      h: 0,
      w: 0,
    });
    const merged = mergeLayerReferences(
      'a',
      [row('a', 0, 1, 1), row('a', 0, 2, 3), row('b', 0, 3, 9), row('a', 1, 4, 2), row('a', 0, 5, 3)],
      2,
    );
    assert.deepEqual(
      merged.map((r) => [r.neuron, r.rank, r.sampleIndex]),
      [
        [0, 1, 2],
        [0, 2, 5],
        [1, 1, 4],
      ],
    );
  });
});
