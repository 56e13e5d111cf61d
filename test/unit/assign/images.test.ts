/**
 * `pure assign`'s per-image work (core/stages/assign.ts) on ResNet-20, without Temporal: its circuits are
 * the sweep's own numbers (each image lands on a centroid made of its own sweep circuit, at distance ~0),
 * its activations are each neuron's max over space, silent pairs and unreadable images are recorded.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import { type Dataset, openDataset } from '../../../core/adapters/datasets/dataset.js';
import { preprocessImage } from '../../../core/adapters/datasets/preprocess.js';
import { openActivationModel } from '../../../core/adapters/onnxruntime/activations.js';
import { AttributionEngine } from '../../../core/adapters/onnxruntime/attribution.js';
import { virtualNeuronSets } from '../../../core/compute/assign/nearest.js';
import { PREPROCESS_PRESETS } from '../../../core/compute/images/preprocess.js';
import type { ReferenceRow, SampleRow } from '../../../core/compute/tables/schemas.js';
import { assignImages } from '../../../core/stages/assign.js';
import { channelMax, computeCircuits } from '../../../core/stages/circuits.js';
import { sharedDataset, sharedModel } from '../../support/paths.js';

const LOWER = '/layer2/layer2.2/Relu_1_output_0';
const UPPER = '/layer3/layer3.2/Relu_1_output_0';
const NEURONS = [5, 41];
const IDS = ['cat/0000.jpg', 'ship/0003.jpg', 'frog/0007.jpg', 'dog/0012.jpg'];
const engine = new AttributionEngine({ intraOpNumThreads: 1 });
after(() => engine.release());

/** The shared CIFAR-10 folder, with one sample whose bytes are not an image. */
function datasetWithBadImage(): Dataset {
  const dataset = openDataset(sharedDataset('cifar10-test'));
  return {
    ...dataset,
    readSample: (id) =>
      id === 'bad.png' ? Promise.resolve(new Uint8Array([1, 2, 3])) : dataset.readSample(id),
  };
}

describe('assignImages (ResNet-20, layer2 -> layer3 stage outputs)', async () => {
  const dataset = datasetWithBadImage();
  const listed = (await openDataset(sharedDataset('cifar10-test')).listSamples()).filter((s) =>
    IDS.includes(s.sampleId),
  );
  const samples: SampleRow[] = [
    ...listed,
    { sampleIndex: 99, sampleId: 'bad.png', sampleUri: '/nowhere/bad.png', label: null },
  ];
  const modelPath = sharedModel('resnet20-cifar10.onnx');
  const preprocess = PREPROCESS_PRESETS.cifar10;
  // Each image as a "reference" of each neuron, with its circuit as the sweep computes it.
  const references: ReferenceRow[] = NEURONS.flatMap((neuron) =>
    listed.map((s, i) => ({ ...s, layer: UPPER, neuron, rank: i + 1, value: 1, h: 0, w: 0 })),
  );
  const sweep = await computeCircuits({
    engine,
    modelPath,
    lowerLayer: LOWER,
    upperLayer: UPPER,
    references,
    dataset,
    preprocess,
  });
  // One virtual neuron per image: cluster i is image i's own circuit.
  const sets = virtualNeuronSets(
    sweep.relevance.map((r) => ({
      layer: UPPER,
      lowerLayer: LOWER,
      neuron: r.neuron,
      nClusters: listed.length,
      cluster: r.rank - 1,
      size: 1,
      meanDistance: 0,
      centroid: r.relevance,
    })),
  );
  const layer = { layer: { layer: UPPER, lowerLayer: LOWER, channels: 64 }, virtualNeurons: sets };
  const assign = (minActivation: number, batchSize = 2) =>
    assignImages({
      engine,
      modelPath,
      dataset,
      preprocess,
      samples,
      layers: [layer],
      minActivation,
      batchSize,
    });

  test('each image lands on its own sweep circuit, at distance ~0, with its max-over-space activation', async () => {
    const { rows, skipped } = await assign(0);
    const layerRows = rows.get(UPPER)!;
    assert.deepEqual(
      layerRows.map((r) => [r.neuron, r.sampleIndex]),
      NEURONS.flatMap((n) => listed.map((s) => [n, s.sampleIndex])),
      'one row per (neuron, usable image), in (neuron, sample_index) order',
    );
    const model = await openActivationModel(await readFile(modelPath), [UPPER]);
    const pixels = await Promise.all(
      listed.map(async (s) => preprocessImage(await dataset.readSample(s.sampleId), preprocess)),
    );
    const batch = new Float32Array(pixels.length * pixels[0]!.length);
    pixels.forEach((p, i) => {
      batch.set(p, i * p.length);
    });
    const upper = (await model.run(batch, pixels.length)).get(UPPER)!;
    await model.release();
    for (const row of layerRows) {
      const image = listed.findIndex((s) => s.sampleIndex === row.sampleIndex);
      const expected = channelMax(upper, image, row.neuron);
      assert.ok(
        Math.abs(row.activation - expected) <= 1e-5 * Math.max(1, Math.abs(expected)),
        `${row.activation} vs ${expected}`,
      );
      if (row.virtualNeuron === null) {
        assert.ok(row.activation <= 0, 'only a silent neuron is left unassigned');
        continue;
      }
      assert.equal(row.virtualNeuron, image, `neuron ${row.neuron}, ${row.sampleId}`);
      assert.ok(row.distance! < 1e-6, `distance ${row.distance}`);
      assert.ok(row.margin! > 1e-3, `margin ${row.margin}`);
      assert.equal(row.nClusters, listed.length);
    }
    assert.ok(layerRows.filter((r) => r.virtualNeuron !== null).length >= 6, 'most pairs fire');
    assert.deepEqual(
      skipped.map((s) => [s.stage, s.sampleId]),
      [['assign', 'bad.png']],
    );
    assert.match(skipped[0]!.error, /could not decode image/);
  });

  test('below the minimum activation a pair keeps its activation and gets no virtual neuron', async () => {
    const { rows } = await assign(1e9, 8);
    const layerRows = rows.get(UPPER)!;
    assert.equal(layerRows.length, NEURONS.length * listed.length);
    assert.ok(layerRows.every((r) => r.virtualNeuron === null && r.distance === null && r.margin === null));
    assert.ok(layerRows.some((r) => r.activation > 0));
  });
});
