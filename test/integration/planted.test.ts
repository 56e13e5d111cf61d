import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDuckDB } from '../../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../../core/adapters/analytics/views.js';
import { generatePlanted, type PlantedTruth } from '../../core/adapters/planted/index.js';
import { adjustedRandIndex } from '../../core/compute/clustering/index.js';
import type { SweepConfig } from '../../core/compute/run/config.js';
import { runUri } from '../../core/compute/run/layout.js';
import { type SweepResult, sweepWorkflow } from '../../workflows/sweep.js';
import { plantedSweepConfig } from '../support/config.js';

/**
 * The method's promise on ground truth: on the planted model (core/compute/planted, docs/planted.md), the whole
 * pipeline on real Temporal recovers each polysemantic neuron's planted split (ARI >= 0.9) where the
 * Activation baseline does not, and the automatic choice gives monosemantic neurons one cluster.
 */
import { startTestWorkers, type TestWorkers } from '../support/workers.js';

describe('planted polysemanticity through the whole pipeline', () => {
  let dir: string;
  let truth: PlantedTruth;
  let result: SweepResult;
  let root: string;
  let workers: TestWorkers;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-planted-'));
    truth = await generatePlanted({ outDir: join(dir, 'planted'), seed: 3, imagesPerFeature: 40 });
    workers = await startTestWorkers('planted');
    const config: SweepConfig = plantedSweepConfig(dir, truth, { window: 2 });
    root = runUri(config.outUri, config.runId);
    result = await workers.client.workflow.execute(sweepWorkflow, {
      taskQueue: workers.queues.cpu,
      workflowId: `planted-${workers.queuePrefix}`,
      args: [{ config, taskQueues: workers.queues }],
    });
  });

  after(async () => {
    await workers?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function clusterings(neuron: number, method: 'pure' | 'activation', clusters: number) {
    const db = await openDuckDB();
    await createRunViews(db, root);
    const rows = (
      await db.runAndReadAll(
        `SELECT sample_index, cluster FROM clusters WHERE layer = '${truth.layers.upper}' AND neuron = ${neuron}
         AND method = '${method}' AND n_clusters = ${clusters} ORDER BY rank`,
      )
    ).getRows();
    const features = rows.map((r) => truth.images[Number(r[0])]!.feature);
    return { predicted: rows.map((r) => Number(r[1])), features };
  }

  test('PURE recovers every planted split (ARI >= 0.9), the Activation baseline does not', async () => {
    assert.equal(result.numSamples, truth.images.length);
    const polysemantic = truth.upperNeurons.filter((n) => n.kind === 'polysemantic');
    assert.ok(polysemantic.length >= 2);
    for (const neuron of polysemantic) {
      const pure = await clusterings(neuron.channel, 'pure', neuron.expectedClusters!);
      assert.equal(pure.predicted.length, 30);
      assert.ok(
        new Set(pure.features).size === neuron.features.length,
        `${neuron.name}: references show every planted feature`,
      );
      const pureAri = adjustedRandIndex(pure.predicted, pure.features);
      const baseline = await clusterings(neuron.channel, 'activation', neuron.expectedClusters!);
      const baselineAri = adjustedRandIndex(baseline.predicted, baseline.features);
      assert.ok(pureAri >= 0.9, `${neuron.name}: PURE ARI ${pureAri}`);
      assert.ok(baselineAri < 0.5, `${neuron.name}: Activation ARI ${baselineAri} should fail`);
    }
  });

  test('the automatic choice: one cluster for monosemantic neurons, the planted count for polysemantic ones', async () => {
    const db = await openDuckDB();
    await createRunViews(db, root);
    const chosen = new Map(
      (await db.runAndReadAll(`SELECT neuron, n_clusters, polysemanticity FROM neurons`))
        .getRows()
        .map((r) => [Number(r[0]), [Number(r[1]), Number(r[2])]]),
    );
    for (const neuron of truth.upperNeurons) {
      const [clusters, score] = chosen.get(neuron.channel)!;
      if (neuron.kind === 'monosemantic') {
        assert.equal(clusters, 1, `${neuron.name} is monosemantic`);
        assert.ok(score! < 0.1, `${neuron.name}: polysemanticity ${score}`);
      }
      if (neuron.kind === 'polysemantic') {
        assert.equal(clusters, neuron.expectedClusters, `${neuron.name}`);
        assert.ok(score! > 0.5, `${neuron.name}: polysemanticity ${score}`);
      }
    }
  });
});
