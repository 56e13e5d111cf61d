import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { scheduleKeys } from '../../../core/compute/run/layout.js';
import { compareWithPrevious } from '../../../core/stages/compare-previous.js';

/** The schedule's memory of its last run; the comparisons themselves: test/integration/compare.test.ts. */
describe('compareWithPrevious: which run a firing is compared with', () => {
  let out: string;
  const lastRun = async () => JSON.parse(await readFile(join(out, scheduleKeys.lastRun('nightly')), 'utf8'));

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'pure-previous-'));
    for (const run of ['first', 'second']) {
      await mkdir(join(out, run));
      await writeFile(join(out, run, 'config.json'), JSON.stringify({ runId: run, layers: ['l1', 'l2'] }));
    }
  });

  after(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  test('the first firing has nothing to compare and remembers its run', async () => {
    const result = await compareWithPrevious(out, 'nightly', 'first');
    assert.deepEqual(result, {
      previousRunId: null,
      comparison: null,
      skipped: 'the first run of the schedule',
    });
    assert.deepEqual(await lastRun(), { runId: 'first' });
  });

  test('the same run again (an unchanged checkpoint) is not compared with itself', async () => {
    const result = await compareWithPrevious(out, 'nightly', 'first');
    assert.equal(result.skipped, 'the same run as the previous firing');
  });

  test('a previous run that is gone is skipped, and the schedule moves on', async () => {
    await rm(join(out, 'first'), { recursive: true });
    const result = await compareWithPrevious(out, 'nightly', 'second');
    assert.equal(result.previousRunId, 'first');
    assert.match(result.skipped ?? '', /^the previous run is gone: .*first is not a run/);
    assert.deepEqual(await lastRun(), { runId: 'second' });
  });
});
