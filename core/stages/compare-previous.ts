/**
 * For schedules made with `--compare-previous`: after each firing's sweep, compare its run with the run of
 * the schedule's previous firing. The schedule remembers its last run in one small JSON object beside its
 * runs (`<out>/_schedules/<schedule id>.json`), updated only after the comparison is written, so a firing
 * whose sweep or comparison fails leaves the next one comparing with the last good run.
 */
import { isNotFound, openStore } from '../adapters/storage/index.js';
import { readJson, writeJson } from '../adapters/tables/io.js';
import { runUri, scheduleKeys } from '../compute/run/layout.js';
import { type ComparisonResult, compareRuns } from './compare.js';

/** What the schedule remembers between firings. */
interface LastRun {
  runId: string;
}

export interface PreviousComparison {
  /** The run compared with: the previous firing's; null on the first firing. */
  previousRunId: string | null;
  /** The comparison; null when there was nothing to compare (first firing, or the same run again). */
  comparison: ComparisonResult | null;
  /** Why there was no comparison, in words; null when there was one. */
  skipped: string | null;
}

/** Compares run `runId` of a schedule with the schedule's previous run, all under `outUri`. */
export async function compareWithPrevious(
  outUri: string,
  scheduleId: string,
  runId: string,
): Promise<PreviousComparison> {
  const store = openStore(outUri);
  const key = scheduleKeys.lastRun(scheduleId);
  const last = await readJson<LastRun>(store, key).catch((error: unknown) => {
    if (isNotFound(error)) return null;
    throw error;
  });
  if (last?.runId === runId) {
    // An unchanged checkpoint gives the same run id: the run was compared when it was new.
    return { previousRunId: runId, comparison: null, skipped: 'the same run as the previous firing' };
  }
  const comparison = last ? await compareRuns(runUri(outUri, last.runId), runUri(outUri, runId)) : null;
  await writeJson(store, key, { runId } satisfies LastRun);
  return {
    previousRunId: last?.runId ?? null,
    comparison,
    skipped: last ? null : 'the first run of the schedule',
  };
}
