import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Progress of the activity the current code runs in (docs/reliability.md). Table reads and writes,
 * onnxruntime runs and per-batch callbacks note progress; the activity wrapper heartbeats only while
 * progress is recent, and fails an attempt that made none for a while, so a hung call (a silent
 * endpoint, a stuck file system) ends in a retry instead of a heartbeat that hides it for hours.
 * Outside an activity (the CLI, tests) noting progress does nothing.
 */
interface ProgressClock {
  last: number;
}

const clocks = new AsyncLocalStorage<ProgressClock>();

/** Marks that the current activity just made progress. */
export function noteProgress(): void {
  const clock = clocks.getStore();
  if (clock) clock.last = Date.now();
}

/** Runs `work` with a progress clock of its own; `lastProgress` reads it (ms since the epoch). */
export function withProgressClock<T>(work: (lastProgress: () => number) => Promise<T>): Promise<T> {
  const clock: ProgressClock = { last: Date.now() };
  return clocks.run(clock, () => work(() => clock.last));
}
