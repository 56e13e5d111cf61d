import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  escapeKeySegment,
  joinKey,
  openStore,
  unescapeKeySegment,
} from '../../../core/adapters/storage/index.js';

const sql = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * Our `layer=<escapeKeySegment(name)>` folders must read back in DuckDB (hive_partitioning) as the original
 * layer names: DuckDB URL-decodes partition values. This pins that behaviour for the DuckDB version we ship.
 */
describe('escaped Hive partition values in DuckDB', () => {
  let dir: string;
  let db: DuckDBConnection;
  const layers = [
    '/layer1/layer1.2/Relu_1_output_0',
    'onnx::Conv_123',
    'a b+c=d',
    '100%',
    'a%2Fb',
    'ünï/中',
    "it's (x)",
    '..',
  ];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-duckdb-hive-'));
    db = await (await DuckDBInstance.create(':memory:')).connect();
    const store = openStore(dir);
    for (const [i, layer] of layers.entries()) {
      const key = joinKey('run', 'references', `layer=${escapeKeySegment(layer)}`, 'part-0-0.parquet');
      const path = store.localPath?.(key);
      assert.ok(path);
      await store.put(key, new Uint8Array(0)); // creates the folder
      await db.run(
        `COPY (SELECT ${i}::INTEGER AS id, ${sql(layer)} AS original) TO ${sql(path)} (FORMAT parquet)`,
      );
    }
  });
  after(async () => {
    db?.closeSync();
    await rm(dir, { recursive: true, force: true });
  });

  test('hive_partitioning decodes layer=<escaped> to the original name', async () => {
    const reader = await db.runAndReadAll(
      `SELECT id, original, layer FROM read_parquet(${sql(`${dir}/run/references/*/*.parquet`)}, hive_partitioning = true) ORDER BY id`,
    );
    const rows = reader.getRowObjectsJson();
    assert.equal(rows.length, layers.length);
    for (const row of rows) assert.equal(row.layer, row.original);
  });

  test('a filter on the decoded name prunes to that partition', async () => {
    const layer = layers[0]!;
    const reader = await db.runAndReadAll(
      `SELECT count(*)::INTEGER AS n FROM read_parquet(${sql(`${dir}/run/references/*/*.parquet`)}, hive_partitioning = true) WHERE layer = ${sql(layer)}`,
    );
    assert.deepEqual(reader.getRowObjectsJson(), [{ n: 1 }]);
  });

  test("DuckDB's own PARTITION_BY folder names decode with unescapeKeySegment-compatible percent-decoding", async () => {
    const out = join(dir, 'duck-written');
    const name = '/layer1/x y=100%';
    await db.run(
      `COPY (SELECT 1 AS v, ${sql(name)} AS layer) TO ${sql(out)} (FORMAT parquet, PARTITION_BY (layer))`,
    );
    const keys = await openStore(out).list('');
    assert.equal(keys.length, 1);
    const folder = keys[0]!.split('/')[0]!;
    assert.ok(folder.startsWith('layer='), folder);
    assert.equal(decodeURIComponent(folder.slice('layer='.length)), name);
    // Ours is the canonical form of the same value.
    assert.equal(unescapeKeySegment(escapeKeySegment(name)), name);
  });
});
