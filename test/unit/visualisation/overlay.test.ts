import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { heatOverlay } from '../../../core/compute/visualisation/overlay.js';

describe('heatOverlay', () => {
  const grey = new Uint8Array(4 * 3).fill(100);

  test('a silent neuron leaves the image as it is', () => {
    assert.deepEqual(heatOverlay(grey, [0, 0, 0, 0]), grey);
  });

  test('positive heat is red, negative blue, opacity in proportion to |heat| (75 % at the maximum)', () => {
    const out = heatOverlay(grey, [2, -1, 0, 1]);
    // max |heat| 2: pixel 0 at opacity 0.75 red, pixel 1 at 0.375 blue, pixel 3 at 0.375 red.
    assert.deepEqual([...out.subarray(0, 3)], [Math.round(0.25 * 100 + 0.75 * 255), 25, 25]);
    assert.deepEqual([...out.subarray(3, 6)], [63, 63, Math.round(0.625 * 100 + 0.375 * 255)]);
    assert.deepEqual([...out.subarray(6, 9)], [100, 100, 100]);
    assert.deepEqual([...out.subarray(9, 12)], [Math.round(0.625 * 100 + 0.375 * 255), 63, 63]);
  });

  test('the overlay does not depend on the scale of the heat', () => {
    const plane = [0.3, -0.1, 0.05, 0.2];
    assert.deepEqual(
      heatOverlay(grey, plane),
      heatOverlay(
        grey,
        plane.map((x) => x * 1e-6),
      ),
    );
  });

  test('a plane that does not fit the image is an error', () => {
    assert.throws(() => heatOverlay(grey, [1, 2, 3]), /heat plane of 3 pixels for an image of 4/);
  });
});
