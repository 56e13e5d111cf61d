import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { openDataset } from '../../../core/adapters/datasets/dataset.js';
import { preprocessImage } from '../../../core/adapters/datasets/preprocess.js';
import { AttributionEngine } from '../../../core/adapters/onnxruntime/attribution.js';
import { PREPROCESS_PRESETS } from '../../../core/compute/images/preprocess.js';
import { computeCircuits } from '../../../core/stages/circuits.js';
import { circuitByFiniteDifferences } from '../../support/circuit-fd.js';
import { maxAbsDifference } from '../../support/differences.js';
import { sharedDataset, sharedModel } from '../../support/paths.js';
import { referenceRowsOf } from '../../support/rows.js';

const LOWER = '/layer2/layer2.2/Relu_1_output_0';
const UPPER = '/layer3/layer3.2/Relu_1_output_0';
const engine = new AttributionEngine({ intraOpNumThreads: 1 });
after(() => engine.release());

/** The circuits of the pipeline against float64 finite differences of the whole model (circuit-fd.ts). */
describe('computeCircuits (ResNet-20, layer2 -> layer3 stage outputs)', () => {
  test('relevance equals float64 finite differences of the whole model, per lower channel', async () => {
    const dataset = openDataset(sharedDataset('cifar10-test'));
    const samples = (await dataset.listSamples()).filter((s) =>
      ['cat/0000.jpg', 'ship/0003.jpg', 'frog/0007.jpg'].includes(s.sampleId),
    );
    // Two neurons sharing reference images: each image is forwarded once, used in two rows.
    const references = referenceRowsOf(UPPER, [5, 41], samples);
    const modelPath = sharedModel('resnet20-cifar10.onnx');
    const circuits = (imagesPerChunk?: number) =>
      computeCircuits({
        engine,
        modelPath,
        lowerLayer: LOWER,
        upperLayer: UPPER,
        references,
        dataset,
        preprocess: PREPROCESS_PRESETS.cifar10,
        ...(imagesPerChunk ? { imagesPerChunk } : {}),
      });
    const result = await circuits();
    assert.equal(result.relevance.length, 6);
    assert.equal(result.features.length, 3);
    assert.deepEqual(result.skipped, []);
    // One image per chunk (the memory bound) gives the same rows as one chunk.
    const chunked = await circuits(1);
    assert.deepEqual(
      chunked.relevance.map((r) => [r.neuron, r.rank, r.sampleIndex]),
      result.relevance.map((r) => [r.neuron, r.rank, r.sampleIndex]),
    );
    chunked.relevance.forEach((r, i) => {
      const worst = Math.max(
        ...Array.from(r.relevance, (v, j) => Math.abs(v - result.relevance[i]!.relevance[j]!)),
      );
      assert.ok(worst < 1e-5, `row ${i} differs by ${worst} when chunked`);
    });

    for (const row of result.relevance) {
      const chw = await preprocessImage(await dataset.readSample(row.sampleId), PREPROCESS_PRESETS.cifar10);
      const fd = await circuitByFiniteDifferences(
        modelPath,
        'input',
        LOWER,
        UPPER,
        chw,
        [3, 32, 32],
        row.neuron,
      );
      const worst = maxAbsDifference(fd.relevance, row.relevance);
      assert.ok(worst < 1e-3, `neuron ${row.neuron} on ${row.sampleId}: max |R - R_fd| = ${worst}`);
      assert.ok(Math.abs(row.relevance.reduce((s, v) => s + Math.abs(v), 0) - 1) < 1e-5);

      const upperData = fd.upper.data as Float64Array;
      const plane = upperData.length / 64;
      // The Activation baseline's features: mean over space of ReLU(a_L), every channel.
      const features = result.features.find((f) => f.sampleIndex === row.sampleIndex)!.features;
      for (let c = 0; c < 64; c++) {
        let sum = 0;
        for (let i = 0; i < plane; i++) sum += Math.max(0, upperData[c * plane + i]!);
        assert.ok(Math.abs(features[c]! - sum / plane) < 1e-4 * Math.max(1, sum / plane), `feature ${c}`);
      }
    }
  });
});
