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

/** An activity attempt that made no progress for this long is failed and retried (docs/reliability.md). */
export const STALL_MS = 90_000;

export interface HeartbeatOptions {
  /** What each heartbeat carries. */
  details?: () => unknown;
  everyMs?: number;
  /** When the work last made progress (ms since the epoch); without it, every tick counts as progress. */
  lastProgress?: () => number;
  stallMs?: number;
}

/** An attempt that made no progress for `stallMs`: retryable, so the activity runs again. */
export class StalledError extends Error {
  override readonly name = 'StalledError';
}

/**
 * Runs `work` while heartbeating every few seconds, so the server notices a dead worker within the
 * heartbeat timeout (30 s) even when one step (an onnxruntime call, a k-means batch) takes longer.
 * Heartbeats stop, and the attempt fails with StalledError, once the work has made no progress for
 * `stallMs`: a call that hangs must not be kept alive by a timer. The SDK throttles heartbeats, so this
 * costs nothing on the server.
 */
export async function withHeartbeat<T>(
  heartbeat: (details?: unknown) => void,
  work: () => Promise<T>,
  options: HeartbeatOptions = {},
): Promise<T> {
  const { details = () => undefined, everyMs = 5000, lastProgress = Date.now, stallMs = STALL_MS } = options;
  heartbeat(details());
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const idle = Date.now() - lastProgress();
      if (idle < stallMs) {
        heartbeat(details());
        return;
      }
      reject(
        new StalledError(
          `no progress for ${Math.round(idle / 1000)} s (a call that never returns?); failing this attempt so it is retried`,
        ),
      );
    }, everyMs);
  });
  try {
    return await Promise.race([work(), stalled]);
  } finally {
    clearInterval(timer);
  }
}
