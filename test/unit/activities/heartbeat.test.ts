/**
 * Heartbeats report progress, not liveness of a timer (docs/reliability.md): an attempt whose work
 * stops making progress is failed (and so retried) instead of being kept alive for hours.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StalledError, withHeartbeat } from '../../../activities/io.js';
import { noteProgress, withProgressClock } from '../../../core/adapters/progress.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a call that never returns fails the attempt after the stall window, and heartbeats stop', async () => {
  let beats = 0;
  const started = Date.now();
  await assert.rejects(
    withProgressClock((lastProgress) =>
      withHeartbeat(
        () => beats++,
        () => new Promise<never>(() => undefined),
        { lastProgress, everyMs: 20, stallMs: 200 },
      ),
    ),
    StalledError,
  );
  const took = Date.now() - started;
  assert.ok(took >= 200 && took < 2000, `failed after ${took} ms`);
  assert.ok(beats >= 5 && beats <= 12, `${beats} heartbeats`); // ~200/20, not one after the stall
});

test('work that keeps noting progress runs past the stall window and returns its result', async () => {
  let beats = 0;
  const result = await withProgressClock((lastProgress) =>
    withHeartbeat(
      () => beats++,
      async () => {
        for (let i = 0; i < 12; i++) {
          await sleep(50);
          noteProgress(); // e.g. a table read, an onnxruntime run, a neuron clustered
        }
        return 'done';
      },
      { lastProgress, everyMs: 20, stallMs: 200 },
    ),
  );
  assert.equal(result, 'done');
  assert.ok(beats > 10, `${beats} heartbeats over 600 ms of progress`);
});

test('progress clocks are per activity: progress in one does not keep another alive', async () => {
  const quiet = withProgressClock((lastProgress) =>
    withHeartbeat(
      () => undefined,
      () => new Promise<never>(() => undefined),
      {
        lastProgress,
        everyMs: 20,
        stallMs: 200,
      },
    ),
  );
  const busy = withProgressClock(async () => {
    for (let i = 0; i < 10; i++) {
      await sleep(40);
      noteProgress();
    }
  });
  await assert.rejects(quiet, StalledError);
  await busy;
  noteProgress(); // outside any activity: a no-op, not an error
});
