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
