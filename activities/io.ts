import { type ObjectStore, openStore } from '../core/adapters/storage/index.js';
import { fromParquet, toParquet } from '../core/adapters/tables/parquet.js';
import type { SweepConfig } from '../core/compute/run/config.js';
import { runUri } from '../core/compute/run/layout.js';
import type { TableSchema } from '../core/compute/tables/schema.js';

/** The store of one run: `<out>/<run>/`, where every activity reads and writes its parts. */
export function runStore(config: Pick<SweepConfig, 'outUri' | 'runId'>): ObjectStore {
  return openStore(runUri(config.outUri, config.runId));
}

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

/**
 * A per-process cache of promises: the first caller starts the work, later callers share it, a failure is
 * forgotten so the next call retries. Workers use it for models, sessions and tables read many times.
 * Bounded (least recently used out first, `dispose` called on it): a long-lived worker serves run after
 * run, nightly checkpoint after checkpoint, and must not keep every session it ever opened.
 */
export function promiseCache<T>(
  maxEntries = 8,
  dispose?: (value: T) => Promise<void> | void,
): (key: string, load: () => Promise<T>) => Promise<T> {
  const entries = new Map<string, Promise<T>>();
  return (key, load) => {
    let entry = entries.get(key);
    if (entry) {
      entries.delete(key); // re-insert: Map order is recency order
      entries.set(key, entry);
      return entry;
    }
    entry = load();
    entries.set(key, entry);
    entry.catch(() => entries.delete(key));
    while (entries.size > maxEntries) {
      const [oldestKey, oldest] = entries.entries().next().value as [string, Promise<T>];
      entries.delete(oldestKey);
      if (dispose) oldest.then(dispose).catch(() => undefined);
    }
    return entry;
  };
}

/**
 * Runs `work` while heartbeating every few seconds, so the server notices a dead worker within the
 * heartbeat timeout (30 s) even when one step (an onnxruntime call, a k-means batch) takes longer.
 * The SDK throttles heartbeats, so this costs nothing on the server.
 */
export async function withHeartbeat<T>(
  heartbeat: (details?: unknown) => void,
  work: () => Promise<T>,
  details: () => unknown = () => undefined,
  everyMs = 5000,
): Promise<T> {
  heartbeat(details());
  const timer = setInterval(() => heartbeat(details()), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
