import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openDuckDB } from '../../../core/adapters/analytics/duckdb.js';
import { fromParquet, toParquet } from '../../../core/adapters/tables/parquet.js';
import { defineTable, type TableRow } from '../../../core/compute/tables/schema.js';
import {
  type ReferenceRow,
  type RelevanceRow,
  referencesSchema,
  relevanceSchema,
} from '../../../core/compute/tables/schemas.js';
import { seededRandom } from '../../support/random.js';

function referenceRows(n: number): ReferenceRow[] {
  const random = seededRandom(n);
  return Array.from({ length: n }, (_, i) => ({
    layer: i % 2 ? '/layer1/x' : "it's ünïcode/层",
    neuron: i % 7,
    rank: (i % 100) + 1,
    sampleIndex: i,
    sampleId: `cls/${i}.jpg`,
    sampleUri: `/data/cls/${i}.jpg`,
    label: i % 3 ? 'cls' : null,
    value: Math.fround(random() * 10 - 5),
    h: i % 5,
    w: i % 11,
  }));
}

describe('Parquet tables', () => {
  test('rows round-trip through zstd Parquet exactly (nulls, unicode, float32 values)', () => {
    const rows = referenceRows(1000);
    const back = referencesSchema.fromArrow(
      fromParquet(toParquet(referencesSchema.toArrow(rows), { rowGroupSize: 300 })),
    );
    assert.deepEqual(back, rows);
  });

  test('float32[] columns round-trip and DuckDB reads them as FLOAT[] with the same values', async () => {
    const random = seededRandom(3);
    const rows: RelevanceRow[] = Array.from({ length: 50 }, (_, i) => ({
      layer: 'up',
      lowerLayer: 'low',
      neuron: i % 5,
      rank: i + 1,
      sampleIndex: i * 3,
      sampleId: `s${i}`,
      value: Math.fround(random()),
      relevance: Float32Array.from({ length: 1 + (i % 9) }, () => random() - 0.5),
    }));
    const bytes = toParquet(relevanceSchema.toArrow(rows));
    assert.deepEqual(relevanceSchema.fromArrow(fromParquet(bytes)), rows);
    const dir = await mkdtemp(join(tmpdir(), 'pure-parquet-'));
    try {
      await writeFile(join(dir, 'r.parquet'), bytes);
      const db = await openDuckDB();
      const types = (
        await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${dir}/r.parquet')`)
      ).getRows();
      assert.deepEqual(
        types.map((r) => [r[0], r[1]]),
        [
          ['layer', 'VARCHAR'],
          ['lower_layer', 'VARCHAR'],
          ['neuron', 'INTEGER'],
          ['rank', 'INTEGER'],
          ['sample_index', 'INTEGER'],
          ['sample_id', 'VARCHAR'],
          ['value', 'FLOAT'],
          ['relevance', 'FLOAT[]'],
        ],
      );
      const sums = (
        await db.runAndReadAll(
          `SELECT rank, list_sum(relevance) AS s, len(relevance) AS n FROM read_parquet('${dir}/r.parquet') ORDER BY rank`,
        )
      ).getRowObjects();
      rows.forEach((row, i) => {
        const expected = row.relevance.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(Number(sums[i]!.s) - expected) < 1e-5);
        assert.equal(Number(sums[i]!.n), row.relevance.length);
      });
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  test('a wrong row or file fails with the table and column named', () => {
    const schema = defineTable('demo', [
      { name: 'a', kind: 'int32', field: 'a', doc: 'a number' },
      { name: 'b', kind: 'utf8', field: 'b', doc: 'a string, never null' },
    ]);
    // A row the types would refuse, as an untyped caller could pass it.
    const nullInB = { a: 1, b: null } as unknown as TableRow<typeof schema>;
    assert.throws(() => schema.toArrow([nullInB]), /table demo: column b is not nullable/);
    assert.throws(
      () =>
        defineTable('twice', [
          { name: 'a', kind: 'int32', field: 'a', doc: '' },
          { name: 'a', kind: 'int32', field: 'b', doc: '' },
        ]),
      /table twice: column a declared twice/,
    );
    assert.throws(
      () =>
        defineTable('twice', [
          { name: 'a', kind: 'int32', field: 'a', doc: '' },
          { name: 'b', kind: 'int32', field: 'a', doc: '' },
        ]),
      /table twice: field a declared twice/,
    );
    const other = defineTable('other', [{ name: 'x', kind: 'int32', field: 'x', doc: '' }]);
    assert.throws(
      () => schema.fromArrow(fromParquet(toParquet(other.toArrow([{ x: 1 }])))),
      /table demo: Parquet file has no column a/,
    );
  });
});
