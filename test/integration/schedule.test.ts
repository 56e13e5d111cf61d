import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { scheduleCreateCommand, scheduleDeleteCommand } from '../../cli/schedule.js';
import { CONFIG_DEFAULTS } from '../../core/compute/run/config.js';
import type { SweepResult } from '../../workflows/sweep.js';
import { sharedDataset, sharedModel } from '../support/paths.js';
import { fireSchedule } from '../support/schedules.js';
import { startTestWorkers, type TestWorkers } from '../support/workers.js';

/**
 * Nightly runs on new checkpoints: a schedule whose every firing reads the checkpoint at a fixed path.
 * Firing twice on the same checkpoint is one run (the second a no-op); a new checkpoint is a new run.
 */
describe('scheduled sweeps (real Temporal schedules)', () => {
  let dir: string;
  let address: string;
  let workers: TestWorkers;
  const id = `nightly-${randomUUID()}`;

  before(async () => {
    workers = await startTestWorkers('schedule');
    address = workers.address;
    dir = await mkdtemp(join(tmpdir(), 'pure-schedule-'));
  });

  after(async () => {
    await scheduleDeleteCommand(id, { temporal: address, namespace: 'default' }).catch(() => undefined);
    await workers?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const fire = (client: Client, firing: number) => fireSchedule<SweepResult>(client, id, address, firing);

  test('one run per checkpoint: same checkpoint twice is a no-op, a new one is a new run', async () => {
    const latest = join(dir, 'latest.onnx');
    await copyFile(sharedModel('resnet20-cifar10.onnx'), latest);
    await scheduleCreateCommand(id, {
      ...CONFIG_DEFAULTS,
      clusters: [2, 3],
      model: latest,
      data: sharedDataset('cifar10-test'),
      layers: 'auto',
      out: join(dir, 'out'),
      k: 5,
      limit: 50,
      neuronBatch: 64,
      cron: ['0 0 1 1 *'],
      temporal: address,
      namespace: 'default',
      queuePrefix: workers.queuePrefix,
    });
    const { client } = workers;

    const first = await fire(client, 1);
    assert.equal(first.shardsComputed, 1);
    assert.deepEqual(
      first.layers.map((l) => l.name),
      [
        '/layer1/layer1.2/Relu_1_output_0',
        '/layer2/layer2.2/Relu_1_output_0',
        '/layer3/layer3.2/Relu_1_output_0',
      ],
    );
    const again = await fire(client, 2);
    assert.equal(again.runUri, first.runUri);
    assert.deepEqual([again.shardsComputed, again.shardsReused], [0, 1]);

    // Tonight's checkpoint: another model at the same path; --layers auto follows it.
    await copyFile(sharedModel('resnet56-cifar10.onnx'), latest);
    const next = await fire(client, 3);
    assert.notEqual(next.runUri, first.runUri);
    assert.equal(next.shardsComputed, 1);
    assert.equal(next.layers[2]!.name, '/layer3/layer3.8/Relu_1_output_0');
    assert.equal(next.virtualNeurons.length, 2);
    assert.equal((await readdir(join(dir, 'out'))).length, 2);
  });
});
