import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, RetryState } from '@temporalio/common';
import { startPolling } from '../../../cli/progress.js';
import { failureChain } from '../../../cli/run.js';
import { temporalConnectionOptions } from '../../../core/adapters/settings/temporal.js';

test('Temporal connection settings follow the Temporal CLI variables (plain, API key, mTLS)', async () => {
  assert.deepEqual(temporalConnectionOptions('127.0.0.1:7233', {}), { address: '127.0.0.1:7233' });
  assert.deepEqual(temporalConnectionOptions('ns.acct.tmprl.cloud:7233', { TEMPORAL_API_KEY: 'k' }), {
    address: 'ns.acct.tmprl.cloud:7233',
    tls: {},
    apiKey: 'k',
  });
  const dir = await mkdtemp(join(tmpdir(), 'pure-tls-'));
  try {
    await writeFile(join(dir, 'c.pem'), 'CERT');
    await writeFile(join(dir, 'k.pem'), 'KEY');
    const mtls = temporalConnectionOptions('h:7233', {
      TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'c.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'k.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'h.example',
    });
    assert.equal(String(mtls.tls && typeof mtls.tls === 'object' && mtls.tls.clientCertPair?.crt), 'CERT');
    assert.equal(mtls.tls && typeof mtls.tls === 'object' && mtls.tls.serverNameOverride, 'h.example');
    assert.throws(
      () => temporalConnectionOptions('h:7233', { TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'c.pem') }),
      /needs both/,
    );
    assert.throws(
      () =>
        temporalConnectionOptions('h:7233', {
          TEMPORAL_TLS_CLIENT_CERT_PATH: '/missing.pem',
          TEMPORAL_TLS_CLIENT_KEY_PATH: '/missing.key',
        }),
      /cannot read the TLS client certificate at \/missing\.pem/,
    );
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('a nested Temporal failure is reported root cause first, then where', () => {
  const root = ApplicationFailure.nonRetryable(
    'the model at /m.onnx changed since the run was configured',
    'ModelChanged',
  );
  const activity = new ActivityFailure(
    'Activity task failed',
    'circuits',
    '4',
    RetryState.NON_RETRYABLE_FAILURE,
    'w',
    root,
  );
  const child = new ChildWorkflowFailure(
    'default',
    { workflowId: 'pure-sweep-r/layer-2', runId: 'x' },
    'layerWorkflow',
    RetryState.RETRY_POLICY_NOT_SET,
    activity,
  );
  const error = new WorkflowFailedError('Workflow execution failed', child, RetryState.RETRY_POLICY_NOT_SET);
  assert.equal(
    failureChain(error),
    'the model at /m.onnx changed since the run was configured (Child Workflow execution failed <- Activity task failed)',
  );
  assert.equal(failureChain(new Error('plain')), 'plain');

  // A retryable error keeps its cause (the SDK's): ours comes first, the SDK's text after it.
  const sdk = ApplicationFailure.create({ message: 'socket timed out after 3000 ms', type: 'TimeoutError' });
  const ours = ApplicationFailure.create({
    message: 'S3 PutObject s3://b/run/x failed',
    type: 'StorageError',
    cause: sdk,
  });
  const shard = new ActivityFailure(
    'Activity task failed',
    'referencesShard',
    '7',
    RetryState.MAXIMUM_ATTEMPTS_REACHED,
    'w',
    ours,
  );
  assert.equal(
    failureChain(
      new WorkflowFailedError('Workflow execution failed', shard, RetryState.RETRY_POLICY_NOT_SET),
    ),
    'S3 PutObject s3://b/run/x failed [cause: socket timed out after 3000 ms] (Activity task failed); ' +
      'retried until the retry window (--retry-window) ran out',
  );
});

test('the progress poller never overlaps refreshes, ignores failures, and stop() waits for the one in flight', async () => {
  let running = 0;
  let maxRunning = 0;
  let calls = 0;
  let finished = 0;
  const poller = startPolling(async () => {
    calls++;
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((r) => setTimeout(r, 30));
    running--;
    finished++;
    if (calls % 2 === 0) throw new Error('query failed'); // ignored: the next tick retries
  }, 5);
  await new Promise((r) => setTimeout(r, 100));
  await poller.stop();
  assert.equal(maxRunning, 1);
  assert.ok(calls >= 2, `expected several refreshes, got ${calls}`);
  assert.equal(finished, calls, 'stop() returned while a refresh was still running');
  const after = calls;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(calls, after, 'a refresh started after stop()');
});
