import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { scheduleCreateCommand, scheduleDeleteCommand } from '../../cli/schedule.js';
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../../core/adapters/analytics/views.js';
import { generatePlanted, type PlantedTruth } from '../../core/adapters/planted/index.js';
import { openStore } from '../../core/adapters/storage/index.js';
import { CONFIG_DEFAULTS } from '../../core/compute/run/config.js';
import { runUri } from '../../core/compute/run/layout.js';
import { compareRuns } from '../../core/stages/compare.js';
import { configureSweep, type SweepRequest } from '../../core/stages/configure.js';
import { writeComparePage } from '../../report/compare-page.js';
import type { ScheduledSweepResult } from '../../workflows/scheduled.js';
import { sweepWorkflow } from '../../workflows/sweep.js';
import { scaleConvChannel } from '../support/scale-channel.js';
import { fireSchedule } from '../support/schedules.js';
import { s3TestEnv } from '../support/services.js';
import { startTestWorkers, type TestWorkers } from '../support/workers.js';

/** The scaled lower channel: the red-disc detector, an input of one polysemantic and one monosemantic neuron. */
const SCALED_FEATURE = 'red_disc';
const FACTOR = 3;

interface CompareRowRead {
  layer: string;
  neuron: number;
  changed: number;
  reasons: string;
  reference_jaccard: number | null;
  value_ratio: number | null;
}

/**
 * `pure compare` on real runs (docs/outputs.md, "compare"): the planted model (docs/planted.md) swept by a
 * real Temporal schedule with --compare-previous, first as it is, then with one lower channel's weights and
 * bias tripled (a new checkpoint at the same path). Two runs of the same model compare as unchanged; the
 * scaled run shows that channel's neuron changed and, in the layer above, only neurons that read it.
 */
describe('pure compare (planted model, real Temporal schedule)', () => {
  let dir: string;
  let truth: PlantedTruth;
  let workers: TestWorkers;
  let request: SweepRequest;
  const scheduleId = `compare-${randomUUID()}`;
  const firings: ScheduledSweepResult[] = [];
  let sameModelRun: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-compare-'));
    truth = await generatePlanted({ outDir: join(dir, 'planted'), seed: 3, imagesPerFeature: 40 });
    workers = await startTestWorkers('compare');
    await copyFile(join(dir, 'planted', truth.files.model), join(dir, 'latest.onnx'));
    request = {
      ...CONFIG_DEFAULTS,
      clusters: [2, 3],
      model: join(dir, 'latest.onnx'),
      data: join(dir, 'planted', truth.files.images),
      layers: `${truth.layers.lower},${truth.layers.upper}`,
      out: join(dir, 'out'),
      k: 30,
      preprocess: JSON.stringify(truth.preprocess),
      shardSize: 160,
      neuronBatch: 7,
      window: 2,
    };
    await scheduleCreateCommand(scheduleId, {
      ...request,
      cron: ['0 0 1 1 *'],
      temporal: workers.address,
      namespace: 'default',
      queuePrefix: workers.queuePrefix,
      comparePrevious: true,
    });
    firings.push(await fire(workers.client, 1));
    // The same model again, as another run (another output root): for "unchanged".
    const again = { ...(await configureSweep(request)), outUri: join(dir, 'again') };
    await workers.client.workflow.execute(sweepWorkflow, {
      taskQueue: workers.queues.cpu,
      workflowId: `compare-again-${workers.queuePrefix}`,
      args: [{ config: again, taskQueues: workers.queues }],
    });
    sameModelRun = runUri(again.outUri, again.runId);
    // Tonight's checkpoint: the red-disc detector's weights and bias tripled.
    const lowerChannel = truth.features.find((f) => f.name === SCALED_FEATURE)!.lowerChannel;
    const original = await readFile(join(dir, 'planted', truth.files.model));
    await writeFile(
      join(dir, 'latest.onnx'),
      scaleConvChannel(original, '/lower/Conv', lowerChannel, FACTOR),
    );
    firings.push(await fire(workers.client, 2));
    firings.push(await fire(workers.client, 3));
  });

  after(async () => {
    await scheduleDeleteCommand(scheduleId, { temporal: workers?.address, namespace: 'default' }).catch(
      () => undefined,
    );
    await workers?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const fire = (client: Client, firing: number) =>
    fireSchedule<ScheduledSweepResult>(client, scheduleId, workers.address, firing);

  async function readCompare(root: string): Promise<CompareRowRead[]> {
    const db = await openDuckDB();
    try {
      await createRunViews(db, root);
      const rows = await db.runAndReadAll(
        'SELECT layer, neuron, changed, reasons, reference_jaccard, value_ratio FROM compare ORDER BY layer, neuron',
      );
      return rows.getRowObjectsJson() as unknown as CompareRowRead[];
    } finally {
      db.closeSync();
    }
  }

  test('two runs of the same model compare as unchanged, every neuron of both layers', async () => {
    const first = firings[0]!.runUri;
    const result = await compareRuns(first, sameModelRun, { out: join(dir, 'same') });
    assert.equal(result.images.same, true);
    assert.deepEqual(
      result.layers.map((l) => [l.layer, l.compared, l.changed, l.note]),
      [
        [truth.layers.lower, truth.lowerChannels.length, 0, 'first layer: references only'],
        [truth.layers.upper, truth.upperNeurons.length, 0, null],
      ],
    );
    const rows = await readCompare(join(dir, 'same'));
    assert.equal(rows.length, truth.lowerChannels.length + truth.upperNeurons.length);
    assert.ok(rows.every((r) => r.changed === 0 && r.reasons === '' && r.reference_jaccard === 1));
  });

  test('the schedule compared each new run with the previous one, and skipped the first and the repeat', () => {
    const [first, second, third] = firings;
    assert.deepEqual(
      [first!.previous?.comparison, first!.previous?.skipped],
      [null, 'the first run of the schedule'],
    );
    assert.notEqual(second!.runUri, first!.runUri, 'a new checkpoint is a new run');
    assert.equal(second!.previous?.previousRunId, first!.runUri.split('/').pop());
    assert.ok(second!.previous?.comparison);
    assert.equal(third!.runUri, second!.runUri, 'the same checkpoint again is the same run');
    assert.equal(third!.previous?.skipped, 'the same run as the previous firing');
  });

  test('the scaled channel changed; above it, only the neurons that read it', async () => {
    const scaled = truth.features.find((f) => f.name === SCALED_FEATURE)!.lowerChannel;
    const rows = await readCompare(firings[1]!.runUri);
    const lower = rows.filter((r) => r.layer === truth.layers.lower);
    assert.deepEqual(
      lower.filter((r) => r.changed === 1).map((r) => [r.neuron, r.reasons]),
      [[scaled, 'values']],
      'its references are the same images, their activation tripled',
    );
    assert.ok(Math.abs(lower.find((r) => r.neuron === scaled)!.value_ratio! - FACTOR) < 1e-3);
    const downstream = new Set(
      truth.upperNeurons.filter((n) => n.lowerChannels.includes(scaled)).map((n) => n.channel),
    );
    const changed = rows
      .filter((r) => r.layer === truth.layers.upper && r.changed === 1)
      .map((r) => r.neuron);
    assert.ok(
      changed.every((n) => downstream.has(n)),
      `changed ${changed} are all downstream of channel ${scaled} (${[...downstream]})`,
    );
    const polysemantic = truth.upperNeurons.find(
      (n) => n.kind === 'polysemantic' && n.lowerChannels.includes(scaled),
    )!;
    assert.ok(changed.includes(polysemantic.channel), `${polysemantic.name} changed`);
    const reasons = rows.find(
      (r) => r.layer === truth.layers.upper && r.neuron === polysemantic.channel,
    )!.reasons;
    assert.match(
      reasons,
      /references/,
      `${polysemantic.name}: the tripled feature takes over its references`,
    );
  });

  test('the comparison reads back from S3 and writes its tables and page there', async () => {
    const s3 = await s3TestEnv();
    process.env.PURE_S3_ENDPOINT = s3.endpoint;
    process.env.PURE_S3_ACCESS_KEY = s3.accessKeyId;
    process.env.PURE_S3_SECRET_KEY = s3.secretAccessKey;
    const [a, b] = [firings[0]!.runUri, firings[1]!.runUri];
    const [s3a, s3b] = [`${s3.uri}/a`, `${s3.uri}/b`];
    await upload(a, s3a);
    await upload(b, s3b);
    const result = await compareRuns(s3a, s3b);
    const local = await compareRuns(a, b, { out: join(dir, 'local') });
    assert.deepEqual(
      result.layers.map((l) => [l.changed, l.byReason]),
      local.layers.map((l) => [l.changed, l.byReason]),
    );
    const page = await writeComparePage(s3b, result.against);
    const html = new TextDecoder().decode(await openStore(s3b).get(page.key));
    assert.match(html, /<h1>Comparison · a → b<\/h1>/);
    assert.ok(html.includes(`<code>${truth.layers.upper}</code>`), 'the layer table names the upper layer');
  });
});

/** Copies a local run folder to an S3 prefix, key for key. */
async function upload(localRun: string, s3Run: string): Promise<void> {
  const store = openStore(s3Run);
  for (const entry of await readdir(localRun, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    await store.put(relative(localRun, path).split('\\').join('/'), await readFile(path));
  }
}
