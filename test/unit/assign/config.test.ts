import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ASSIGN_DEFAULTS,
  type AssignConfig,
  defaultAssignId,
  defaultAssignRoot,
  validateAssignConfig,
} from '../../../core/compute/assign/config.js';
import {
  formatNeuronList,
  parseCountChoice,
  parseNeuronList,
  selectsAnyOf,
  selectsNeuron,
} from '../../../core/compute/assign/selection.js';
import { assignKeys } from '../../../core/compute/run/layout.js';
import { assignWorkflowId } from '../../../core/compute/run/temporal-names.js';
import { testConfig } from '../../support/config.js';

describe('what pure assign covers', () => {
  test('--neurons lists and ranges, sorted and merged', () => {
    assert.deepEqual(parseNeuronList('31, 0-15,16,40-41'), [
      { first: 0, end: 17 },
      { first: 31, end: 32 },
      { first: 40, end: 42 },
    ]);
    assert.equal(formatNeuronList(parseNeuronList('3,1-2,7')), '1-3,7');
    assert.throws(() => parseNeuronList('5-3'), /ends before it starts/);
    assert.throws(() => parseNeuronList('a'), /expected channel indices/);
    const selection = parseNeuronList('4-7');
    assert.deepEqual(
      [3, 4, 7, 8].map((n) => selectsNeuron(selection, n)),
      [false, true, true, false],
    );
    assert.equal(selectsNeuron(null, 1000), true);
    assert.equal(selectsAnyOf(selection, { first: 0, end: 4 }), false);
    assert.equal(selectsAnyOf(selection, { first: 7, end: 16 }), true);
  });

  test('--count: chosen, best or a positive integer', () => {
    assert.equal(parseCountChoice('chosen'), 'chosen');
    assert.equal(parseCountChoice(' best '), 'best');
    assert.equal(parseCountChoice('3'), 3);
    for (const bad of ['0', '2.5', '', 'all']) assert.throws(() => parseCountChoice(bad), /--count must be/);
  });
});

describe('the assignment’s identity and layout', () => {
  const run = testConfig({
    runId: 'r',
    modelUri: '/m.onnx',
    dataUri: '/data',
    outUri: '/out',
    layers: ['/a', '/b', '/c'],
    preprocess: { resizeShortSide: 32, cropSize: 32, mean: [0, 0, 0], std: [1, 1, 1] },
  });
  const base = {
    runUri: '/out/r',
    run,
    dataUri: 's3://bucket/new images/',
    layers: ['/b', '/c'],
    neurons: null,
    ...ASSIGN_DEFAULTS,
  };

  test('the id is the images folder plus a hash of what changes results, and nothing else', () => {
    const id = defaultAssignId(base);
    assert.match(id, /^new-images-[0-9a-f]{10}$/);
    assert.equal(defaultAssignId({ ...base, window: 9, batchSize: 3, retryWindowMinutes: 60 }), id);
    for (const changed of [
      { count: 'best' as const },
      { minActivation: 0.5 },
      { layers: ['/c'] },
      { neurons: [{ first: 0, end: 4 }] },
      { run: { ...run, k: 50 } },
    ]) {
      assert.notEqual(defaultAssignId({ ...base, ...changed }), id, JSON.stringify(changed));
    }
    assert.equal(defaultAssignRoot('/out/r/'), '/out/r/assign');
    assert.equal(assignWorkflowId(id), `pure-assign-${id}`);
    assert.equal(assignWorkflowId(assignWorkflowId(id)), `pure-assign-${id}`);
    assert.equal(
      assignKeys.assignments('/b', { first: 0, end: 256 }),
      'assignments/layer=%2Fb/part-0000000-0000255.parquet',
    );
  });

  test('validation names every problem', () => {
    const config: AssignConfig = { ...base, assignId: 'x', assignUri: '/out/r/assign/x' };
    assert.equal(validateAssignConfig(config), config);
    assert.throws(
      () => validateAssignConfig({ ...config, layers: ['/a'], shardSize: 0, count: 0 }),
      /\/a is not an explained layer[\s\S]*shardSize must be an integer >= 1[\s\S]*count must be/,
    );
  });
});
