/** Log lines (cli/logging.ts, docs/operations.md "Logs"): text for people, one JSON object per line for collectors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { formatLogRecord, logFormat } from '../../../cli/logging.js';

const time = new Date('2026-12-02T06:00:00.123Z');

/** What the SDK attaches to an activity's log lines (activityLogAttributes), plus the failure. */
const activityMeta = {
  isLocal: false,
  attempt: 3,
  namespace: 'pure',
  taskToken: 'c2VjcmV0LXRhc2stdG9rZW4=',
  activityId: '12',
  activityType: 'circuits',
  taskQueue: 'pure-inference',
  workflowId: 'pure-layer-run-1',
  workflowRunId: '0193-run',
  workflowType: 'layerWorkflow',
  sdkComponent: 'worker',
  error: ApplicationFailure.nonRetryable('s3://b/k: 403 AccessDenied', 'S3AccessDenied'),
  durationMs: 1234,
};

test('JSON: one object per line with time, level, logger, msg and the run, activity and attempt', () => {
  const line = formatLogRecord(
    { time, level: 'WARN', logger: 'temporal', message: 'Activity failed', fields: activityMeta },
    'json',
  );
  assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'exactly one line');
  const entry = JSON.parse(line);
  assert.deepEqual(Object.keys(entry).slice(0, 4), ['time', 'level', 'logger', 'msg']);
  assert.equal(entry.time, '2026-12-02T06:00:00.123Z');
  assert.equal(entry.level, 'warn');
  assert.equal(entry.logger, 'temporal');
  assert.equal(entry.msg, 'Activity failed');
  assert.equal(entry.workflowId, 'pure-layer-run-1');
  assert.equal(entry.runId, '0193-run');
  assert.equal(entry.activityType, 'circuits');
  assert.equal(entry.attempt, 3);
  assert.equal(entry.workflowRunId, undefined, 'renamed to runId');
  assert.equal(entry.taskToken, undefined, 'task tokens are not logged');
  assert.equal(entry.error.type, 'S3AccessDenied');
  assert.equal(entry.error.nonRetryable, true);
  assert.match(entry.error.message, /403 AccessDenied/);
  assert.match(entry.error.stack, /ApplicationFailure/);
});

test("JSON: pure's own lines, and values JSON.stringify alone would throw on or lose", () => {
  const cycle: Record<string, unknown> = { name: 'a' };
  cycle.self = cycle;
  const fields = { metricsPort: 9464, big: 2n ** 70n, cycle, msg: 'cannot override', time: 'nor this' };
  const entry = JSON.parse(
    formatLogRecord({ time, level: 'info', logger: 'pure', message: 'metrics at', fields }, 'json'),
  );
  assert.equal(entry.msg, 'metrics at');
  assert.equal(entry.time, '2026-12-02T06:00:00.123Z');
  assert.equal(entry.logger, 'pure');
  assert.equal(entry.metricsPort, 9464);
  assert.equal(entry.big, '1180591620717411303424');
  assert.equal(entry.cycle.self, '[Circular]');
  const workflowLine = formatLogRecord(
    {
      time,
      level: 'INFO',
      logger: 'temporal',
      message: 'Workflow started',
      fields: { workflowId: 'w', runId: 'r' },
    },
    'json',
  );
  assert.equal(JSON.parse(workflowLine).runId, 'r', "workflow logs' runId kept");
});

test('text: unchanged for people', () => {
  assert.equal(
    formatLogRecord(
      { time, level: 'info', logger: 'pure', message: 'worker serving pure-cpu at t:7233' },
      'text',
    ),
    '[pure] worker serving pure-cpu at t:7233\n',
  );
  assert.equal(
    formatLogRecord(
      { time, level: 'WARN', logger: 'temporal', message: 'Activity failed', fields: { attempt: 2 } },
      'text',
    ),
    '2026-12-02T06:00:00.123Z [temporal] WARN Activity failed {"attempt":2}\n',
  );
});

test('the format: text by default, json, and nothing else', () => {
  assert.equal(logFormat(undefined), 'text');
  assert.equal(logFormat(''), 'text');
  assert.equal(logFormat('json'), 'json');
  assert.throws(() => logFormat('yaml'), /text or json; got yaml/);
});
