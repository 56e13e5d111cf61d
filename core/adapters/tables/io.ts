/**
 * Tables and small JSON documents in an object store: every stage reads and writes its parts through
 * these, so a part is always one Parquet object written atomically.
 */
import type { TableSchema } from '../../compute/tables/schema.js';
import type { ObjectStore } from '../storage/index.js';
import { fromParquet, toParquet } from './parquet.js';

/** Writes rows as one Parquet object (atomic in both back ends: a reader never sees half a part). */
export async function writeTable<Row>(
  store: ObjectStore,
  key: string,
  schema: TableSchema<Row>,
  rows: readonly Row[],
): Promise<void> {
  await store.put(key, toParquet(schema.toArrow(rows), { metadata: { 'pure.table': schema.name } }), {
    contentType: 'application/vnd.apache.parquet',
  });
}

export async function readTable<Row>(
  store: ObjectStore,
  key: string,
  schema: TableSchema<Row>,
): Promise<Row[]> {
  return schema.fromArrow(fromParquet(await store.get(key)));
}

export async function writeJson(store: ObjectStore, key: string, value: unknown): Promise<void> {
  await store.put(key, new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`), {
    contentType: 'application/json',
  });
}

export async function readJson<T>(store: ObjectStore, key: string): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await store.get(key))) as T;
}
