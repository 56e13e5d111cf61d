/**
 * For schedules made with `--compare-previous`: after each firing's sweep, compare its run with the run of
 * the schedule's previous firing. The schedule remembers its last run in one small JSON object beside its
 * runs (`<out>/_schedules/<schedule id>.json`), updated only after the comparison is written, so a firing
 * whose sweep or comparison fails leaves the next one comparing with the last good run.
 */
import { isNotFound, openStore } from '../adapters/storage/index.js';
import { readJson, writeJson } from '../adapters/tables/io.js';
import { InputError } from '../compute/errors.js';
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
  const outcome = last ? await compareOrSkip(runUri(outUri, last.runId), runUri(outUri, runId)) : null;
  await writeJson(store, key, { runId } satisfies LastRun);
  return {
    previousRunId: last?.runId ?? null,
    comparison: outcome?.comparison ?? null,
    skipped: outcome ? outcome.skipped : 'the first run of the schedule',
  };
}

/**
 * The comparison, or why not: a previous run that is no longer a run (deleted, say) is skipped, and the
 * schedule moves on to this run, instead of failing every later firing on the same missing run.
 */
async function compareOrSkip(
  previous: string,
  current: string,
): Promise<{ comparison: ComparisonResult | null; skipped: string | null }> {
  try {
    return { comparison: await compareRuns(previous, current), skipped: null };
  } catch (error) {
    if (!(error instanceof InputError && error.kind === 'InvalidRun' && error.message.startsWith(previous))) {
      throw error;
    }
    return { comparison: null, skipped: `the previous run is gone: ${error.message}` };
  }
}
