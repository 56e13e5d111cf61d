import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { asTemporalFailure } from '../../../activities/failures.js';
import { activitiesOf } from '../../../activities/index.js';
import { asInputError, InputError } from '../../../core/compute/errors.js';
import { sweepWorkflowId, taskQueues } from '../../../core/compute/run/temporal-names.js';

describe('activities per task queue', () => {
  const inference = Object.keys(activitiesOf.inference()).sort();
  const cpu = Object.keys(activitiesOf.cpu()).sort();

  test('the inference queue runs the model, the CPU queue everything else', () => {
    assert.deepEqual(inference, [
      'assignShard',
      'circuits',
      'crops',
      'embeddings',
      'prepareSweep',
      'referencesShard',
    ]);
    assert.deepEqual(cpu, [
      'assignCentroids',
      'compareWithPrevious',
      'configureScheduledSweep',
      'evaluate',
      'finishAssign',
      'finishLayer',
      'finishReferences',
      'mergeReferences',
      'prepareAssign',
      'virtualNeurons',
    ]);
  });

  test('no activity is registered on both queues', () => {
    assert.deepEqual(
      inference.filter((name) => cpu.includes(name)),
      [],
    );
  });
});

describe('failures', () => {
  test('an InputError fails at once, with its kind; other errors stay retryable', () => {
    const failure = asTemporalFailure(new InputError('InvalidDataset', 'no images under /x'));
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.type, 'InvalidDataset');
    assert.equal(failure.message, 'no images under /x');
    const network = new Error('ECONNRESET');
    assert.equal(asTemporalFailure(network), network);
  });

  test('asInputError labels foreign errors and keeps the kind of InputErrors', async () => {
    await assert.rejects(
      asInputError('InvalidModel', () => {
        throw new Error('protobuf: bad wire type');
      }),
      (e: unknown) => e instanceof InputError && e.kind === 'InvalidModel' && /bad wire type/.test(e.message),
    );
    await assert.rejects(
      asInputError('InvalidModel', async () => {
        throw new InputError('ModelChanged', 'changed');
      }),
      (e: unknown) => e instanceof InputError && e.kind === 'ModelChanged',
    );
  });
});

describe('names on the Temporal server', () => {
  test('queues and workflow ids', () => {
    assert.deepEqual(taskQueues('nightly'), { inference: 'nightly-inference', cpu: 'nightly-cpu' });
    assert.equal(sweepWorkflowId('resnet-abc'), 'pure-sweep-resnet-abc');
    assert.equal(sweepWorkflowId('pure-sweep-resnet-abc'), 'pure-sweep-resnet-abc');
  });
});
