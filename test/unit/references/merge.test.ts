import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../../core/adapters/storage/index.js';
import { readTable, writeTable } from '../../../core/adapters/tables/io.js';
import { PREPROCESS_PRESETS } from '../../../core/compute/images/preprocess.js';
import { LayerReferenceMerger, mergeLayerReferences } from '../../../core/compute/references/merge.js';
import {
  type Candidate,
  compareCandidates,
  mergeTopK,
  referenceRows,
  TopKSelector,
} from '../../../core/compute/references/topk.js';
import type { ShardRange } from '../../../core/compute/run/config.js';
import { runKeys } from '../../../core/compute/run/layout.js';
import { type ReferenceRow, referencesSchema } from '../../../core/compute/tables/schemas.js';
import { mergeReferences } from '../../../core/stages/references.js';
import { testConfig } from '../../support/config.js';
import { seededRandom } from '../../support/random.js';

/**
 * The merge as it was before it streamed, kept as the reference: every shard's rows in one array, per
 * neuron one sort of all of them (mergeTopK), metadata from the last row seen of each sample.
 */
function mergeAllAtOnce(layer: string, shardRows: readonly ReferenceRow[], k: number): ReferenceRow[] {
  const byNeuron = new Map<number, ReferenceRow[]>();
  const bySample = new Map<number, ReferenceRow>();
  for (const row of shardRows) {
    if (row.layer !== layer) continue;
    const list = byNeuron.get(row.neuron) ?? [];
    if (list.length === 0) byNeuron.set(row.neuron, list);
    list.push(row);
    bySample.set(row.sampleIndex, row);
  }
  const merged: ReferenceRow[] = [];
  for (const neuron of [...byNeuron.keys()].sort((a, b) => a - b)) {
    const ranked = mergeTopK([byNeuron.get(neuron)!], k);
    for (const row of referenceRows(layer, neuron, ranked, (i) => bySample.get(i)!)) merged.push(row);
  }
  return merged;
}

const sampleOf = (i: number) => ({
  sampleId: `cls${i % 5}/img-${i}.jpg`,
  sampleUri: `/data/cls${i % 5}/img-${i}.jpg`,
  label: i % 3 === 0 ? null : `cls${i % 5}`,
});

interface Synthetic {
  /** Every activation of every neuron, as a sort of everything would rank it. */
  all: Map<number, Candidate[]>;
  /** Per shard its part: per neuron the shard's top-k, ranked, as referencesShard writes it. */
  parts: ReferenceRow[][];
}

/**
 * Shards of consecutive samples (some smaller than k), every sample offering a value to every neuron;
 * `distinct` values only, so most candidates tie on value and are ordered by sample index.
 */
function synthetic(
  layer: string,
  shardSizes: readonly number[],
  neurons: number,
  k: number,
  distinct: number,
  seed: number,
): Synthetic {
  const random = seededRandom(seed);
  const all = new Map<number, Candidate[]>();
  const parts: ReferenceRow[][] = [];
  let first = 0;
  for (const size of shardSizes) {
    const part: ReferenceRow[] = [];
    for (let neuron = 0; neuron < neurons; neuron++) {
      const selector = new TopKSelector(k);
      for (let sampleIndex = first; sampleIndex < first + size; sampleIndex++) {
        const c = {
          value: Math.fround(Math.floor(random() * distinct) / 4 - 1),
          sampleIndex,
          h: Math.floor(random() * 7),
          w: Math.floor(random() * 7),
        };
        selector.offer(c.value, c.sampleIndex, c.h, c.w);
        const list = all.get(neuron) ?? [];
        if (list.length === 0) all.set(neuron, list);
        list.push(c);
      }
      for (const row of referenceRows(layer, neuron, selector.sorted(), sampleOf)) part.push(row);
    }
    parts.push(part);
    first += size;
  }
  return { all, parts };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function concat<T>(parts: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  for (const part of parts) for (const row of part) out.push(row);
  return out;
}

describe('LayerReferenceMerger (streaming merge)', () => {
  for (const [seed, distinct] of [
    [1, 3],
    [2, 1],
    [3, 40],
    [4, 1_000_000],
  ] as const) {
    test(`seed ${seed}, ${distinct} distinct values: part by part equals the all-at-once merge and a sort of everything`, () => {
      const random = seededRandom(seed * 101);
      const k = 10;
      const neurons = 6;
      const shardSizes = Array.from(
        { length: 3 + Math.floor(random() * 6) },
        () => 1 + Math.floor(random() * 25),
      );
      const { all, parts } = synthetic('a', shardSizes, neurons, k, distinct, seed);
      // Rows of another layer in a part are ignored, as before.
      parts[0]!.push({ ...parts[0]![0]!, layer: 'b', value: 1e9 });

      const merger = new LayerReferenceMerger('a', k);
      for (const part of shuffled(parts, seed)) {
        merger.add(part);
        assert.ok(merger.size.samples <= neurons * k, 'metadata only for samples still kept');
      }
      const streamed = merger.result();

      assert.deepEqual(streamed, mergeAllAtOnce('a', concat(parts), k));
      assert.deepEqual(mergeLayerReferences('a', concat(parts), k), streamed);
      const bruteForce = [...all.keys()].flatMap((neuron) =>
        referenceRows('a', neuron, [...all.get(neuron)!].sort(compareCandidates).slice(0, k), sampleOf),
      );
      assert.deepEqual(streamed, bruteForce);
      assert.equal(merger.size.samples, new Set(streamed.map((r) => r.sampleIndex)).size);
    });
  }

  test('rejects a bad k', () => {
    assert.throws(() => new LayerReferenceMerger('a', 0), /positive integer/);
  });
});

describe('mergeReferences (the stage) with shard parts over 130k rows', () => {
  const layer = '/stage4/Relu_output_0';
  const k = 100;
  const neurons = 1_400; // 140,000 rows per part: past the argument limit of push(...part)
  const shardSizes = [150, 120, 160];
  let dir: string;
  let data: Synthetic;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-merge-'));
    data = synthetic(layer, shardSizes, neurons, k, 50, 7);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('merges them part by part, byte-identical to the all-at-once merge', async () => {
    assert.ok(data.parts.every((p) => p.length > 130_000));
    const old: ReferenceRow[] = [];
    assert.throws(() => old.push(...data.parts[0]!), RangeError, 'the old stage failed here');
    const store = openStore(dir);
    const config = testConfig({
      runId: 'merge',
      modelUri: 'm.onnx',
      dataUri: 'd',
      outUri: dir,
      layers: [layer],
      preprocess: PREPROCESS_PRESETS.cifar10,
      k,
    });
    const shards: ShardRange[] = [];
    let first = 0;
    for (const [i, size] of shardSizes.entries()) {
      shards.push({ first, end: first + size });
      await writeTable(store, runKeys.referencesShard(shards[i]!, layer), referencesSchema, data.parts[i]!);
      first += size;
    }
    const shape = { name: layer, dims: [neurons, 7, 7], channels: neurons };
    const result = await mergeReferences(config, shape, shards, store);
    assert.equal(result.rows, neurons * k);
    assert.equal(result.reused, false);

    const expected = mergeAllAtOnce(layer, concat(data.parts), k);
    assert.deepEqual(await readTable(store, result.key, referencesSchema), expected);
    await writeTable(store, 'expected.parquet', referencesSchema, expected);
    assert.deepEqual(await store.get(result.key), await store.get('expected.parquet'));

    assert.equal((await mergeReferences(config, shape, shards, store)).reused, true);
  });
});
