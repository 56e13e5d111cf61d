/**
 * Tables and small JSON documents in an object store: every stage reads and writes its parts through
 * these, so a part is always one Parquet object written atomically. Each completed read or write is
 * progress of the activity it runs in (../progress.ts).
 */
import type { TableSchema } from '../../compute/tables/schema.js';
import { noteProgress } from '../progress.js';
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
  noteProgress();
}

export async function readTable<Row>(
  store: ObjectStore,
  key: string,
  schema: TableSchema<Row>,
): Promise<Row[]> {
  const rows = schema.fromArrow(fromParquet(await store.get(key)));
  noteProgress();
  return rows;
}

export async function writeJson(store: ObjectStore, key: string, value: unknown): Promise<void> {
  await store.put(key, new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`), {
    contentType: 'application/json',
  });
  noteProgress();
}

export async function readJson<T>(store: ObjectStore, key: string): Promise<T> {
  const value = JSON.parse(new TextDecoder().decode(await store.get(key))) as T;
  noteProgress();
  return value;
}
