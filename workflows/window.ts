export interface WindowOptions {
  /** Checked before each new item starts: once true, no more items start (those in flight finish). */
  stopWhen?: () => boolean;
}

/**
 * Runs `task` over `items` with at most `window` in flight, resolving to results in input order (entries
 * after a stop are missing). Deterministic under Temporal replay: it only awaits promises created from
 * workflow APIs and starts items in input order.
 */
export async function mapWindowed<T, R>(
  items: readonly T[],
  window: number,
  task: (item: T, index: number) => Promise<R>,
  onDone?: (result: R, index: number) => void,
  options: WindowOptions = {},
): Promise<{ results: R[]; started: number }> {
  const results: R[] = new Array(items.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < items.length && !options.stopWhen?.()) {
      const index = next++;
      const result = await task(items[index]!, index);
      results[index] = result;
      onDone?.(result, index);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(window, items.length)) }, lane));
  return { results, started: next };
}
