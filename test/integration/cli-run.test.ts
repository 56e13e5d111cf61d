import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../../core/adapters/analytics/views.js';
import { projectRoot, sharedDataset, sharedModel } from '../support/paths.js';

/**
 * The README's main job as a user runs it: `pure run` with no TEMPORAL_ADDRESS starts its own Temporal
 * dev server and worker, finishes the sweep, prints the summary, and a second identical command resumes
 * the same run (here: finds everything done).
 */
test('pure run on the embedded default, then the same command again', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pure-cli-run-'));
  const { TEMPORAL_ADDRESS: _unused, ...env } = process.env;
  const pureRun = () =>
    promisify(execFile)(
      process.execPath,
      [
        join(projectRoot, 'dist', 'cli', 'main.js'),
        'run',
        '--model',
        sharedModel('resnet20-cifar10.onnx'),
        '--data',
        sharedDataset('cifar10-test'),
        '--layers',
        'auto',
        '--limit',
        '200',
        '-k',
        '10',
        '--out',
        join(dir, 'out'),
        '--state-dir',
        join(dir, 'state'),
      ],
      { env, timeout: 240_000 },
    );
  try {
    const first = await pureRun();
    assert.match(first.stderr, /embedded dev server/);
    assert.match(
      first.stdout,
      /Done: 200 images, 3 layers, 0 images skipped \(1 shards computed, 0 reused\)/,
    );
    assert.match(first.stdout, /\/layer3\/layer3\.2\/Relu_1_output_0: \d+ of 64 neurons split/);
    assert.match(first.stdout, /Report: npx pure report \S+resnet20-cifar10-[0-9a-f]{10}/);
    const runs = await readdir(join(dir, 'out'));
    assert.equal(runs.length, 1);
    assert.match(runs[0]!, /^resnet20-cifar10-[0-9a-f]{10}$/);

    const db = await openDuckDB();
    await createRunViews(db, join(dir, 'out', runs[0]!));
    const counts = (
      await db.runAndReadAll('SELECT (SELECT count(*) FROM refs), (SELECT count(*) FROM neurons)')
    ).getRows()[0]!;
    assert.deepEqual(counts.map(Number), [(16 + 32 + 64) * 10, 32 + 64]);

    const second = await pureRun();
    assert.match(second.stdout, /\(0 shards computed, 1 reused\)/);
    assert.deepEqual(await readdir(join(dir, 'out')), runs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
