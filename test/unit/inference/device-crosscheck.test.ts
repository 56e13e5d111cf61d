import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AttributionEngine } from '../../../core/adapters/onnxruntime/attribution.js';
import {
  activeRows,
  cifarImages,
  circuitRowsOn,
  cosine,
  crosscheckDevices,
  RESNET20_CUT,
} from '../../support/device-crosscheck.js';

describe('the device crosscheck (scripts/gpu-check.sh compares CUDA with the CPU this way)', () => {
  const cpu = { intraOpNumThreads: 1, executionProviders: ['cpu'] };
  const engine = new AttributionEngine(cpu);
  after(() => engine.release());

  test('cosine: 1 for the same direction, 0 for orthogonal rows or one all-zero row, 1 for two zero rows', () => {
    const v = (...x: number[]) => Float32Array.from(x);
    assert.ok(Math.abs(cosine(v(1, 2, 3), v(2, 4, 6)) - 1) < 1e-12);
    assert.equal(cosine(v(1, 0), v(0, 1)), 0);
    assert.ok(Math.abs(cosine(v(1, 1), v(1, 0)) - Math.SQRT1_2) < 1e-12);
    assert.equal(cosine(v(0, 0), v(1, 0)), 0);
    assert.equal(cosine(v(0, 0), v(0, 0)), 1);
  });

  test('every picked row is an active channel with a non-zero circuit', async () => {
    const images = await cifarImages(4);
    assert.deepEqual(images.dims, [4, 3, 32, 32]);
    const rows = await activeRows(engine, RESNET20_CUT, images, 3);
    assert.deepEqual(rows.imageOfRow, [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    assert.equal(new Set(rows.channels.slice(0, 3)).size, 3, 'three different channels of image 0');
    const run = await circuitRowsOn(cpu, RESNET20_CUT, images, rows);
    for (let r = 0; r < 12; r++) {
      const sum = run.vectors
        .subarray(r * run.lowerChannels, (r + 1) * run.lowerChannels)
        .reduce((s, x) => s + Math.abs(x), 0);
      assert.ok(Math.abs(sum - 1) < 1e-4, `row ${r}: |R| sums to ${sum}, not 1`);
    }
  });

  test('CPU against CPU: the same vectors, cosine 1 on every row', async () => {
    const result = await crosscheckDevices(cpu, cpu, { images: 8, perImage: 4 });
    assert.equal(result.rows, 32);
    assert.equal(result.lowerChannels, 32);
    assert.equal(result.maxAbsDiff, 0);
    assert.ok(result.minCosine > 1 - 1e-9, `min cosine ${result.minCosine}`);
  });
});
