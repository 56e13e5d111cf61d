import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { connectTemporal, temporalAddress } from '../core/adapters/settings/temporal.js';
import { taskQueues } from '../core/compute/run/temporal-names.js';
import { configureSweepWithModel, normaliseUri, type SweepRequest } from '../core/stages/configure.js';
import { preflightSweep } from '../core/stages/preflight.js';
import { WORKFLOW_TASK_TIMEOUT } from '../workflows/activity-options.js';
import { scheduledSweepWorkflow } from '../workflows/scheduled.js';

export interface ScheduleConnectionOptions {
  temporal?: string;
  namespace: string;
}

export interface ScheduleCreateOptions extends SweepRequest, ScheduleConnectionOptions {
  cron: string[];
  queuePrefix: string;
  paused?: boolean;
  /** After each firing's sweep, compare its run with the previous firing's (docs/outputs.md, "compare"). */
  comparePrevious?: boolean;
}

async function withClient<T>(
  options: ScheduleConnectionOptions,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  const address = temporalAddress(options.temporal);
  if (!address) {
    throw new Error(
      'schedules live on a long-running Temporal server, not the embedded one: start one ' +
        '(bash infra/temporal.sh start) and pass --temporal host:port or set TEMPORAL_ADDRESS; ' +
        'run workers with `pure worker` against it',
    );
  }
  const connection = await connectTemporal(address, (o) => Connection.connect(o));
  try {
    return await work(new Client({ connection, namespace: options.namespace }));
  } finally {
    await connection.close();
  }
}

/**
 * `pure schedule create <id> --cron "0 2 * * *" --model s3://.../latest.onnx ...`: a Temporal schedule
 * that starts scheduledSweepWorkflow, which reads the checkpoint at each firing (a new checkpoint is a new
 * run, an unchanged one a no-op). A firing while the previous sweep still runs is skipped.
 */
export async function scheduleCreateCommand(id: string, options: ScheduleCreateOptions): Promise<void> {
  const { cron, queuePrefix, paused, comparePrevious, temporal: _t, namespace: _n, ...rest } = options;
  const request: SweepRequest = {
    ...rest,
    // Workers resolve paths on their own machines: store absolute ones.
    model: normaliseUri(rest.model),
    data: normaliseUri(rest.data),
    out: normaliseUri(rest.out),
    ...(rest.evaluator ? { evaluator: normaliseUri(rest.evaluator) } : {}),
  };
  // The first firing may be hours away: a set-up mistake is reported now, while the user is here.
  const { config, model } = await configureSweepWithModel(request);
  await preflightSweep(config, model, request.preprocess);
  await withClient(options, async (client) => {
    const queues = taskQueues(queuePrefix);
    await client.schedule.create({
      scheduleId: id,
      spec: { cronExpressions: cron },
      action: {
        type: 'startWorkflow',
        workflowType: scheduledSweepWorkflow,
        workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
        workflowId: `pure-scheduled-${id}`,
        taskQueue: queues.cpu,
        args: [
          {
            request,
            taskQueues: queues,
            ...(comparePrevious ? { comparePrevious: { scheduleId: id } } : {}),
          },
        ],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      state: { paused: Boolean(paused), note: `pure sweep of ${request.model}` },
    });
    const compare = comparePrevious ? ', each run compared with the previous one' : '';
    process.stdout.write(
      `schedule ${id} created: ${cron.join(', ')} (UTC) -> sweep of ${request.model}${compare}\n`,
    );
  });
}

export async function scheduleListCommand(options: ScheduleConnectionOptions): Promise<void> {
  await withClient(options, async (client) => {
    for await (const schedule of client.schedule.list()) {
      const next = schedule.info.nextActionTimes[0]?.toISOString() ?? '-';
      const last = schedule.info.recentActions.at(-1);
      process.stdout.write(
        `${schedule.scheduleId}  ${schedule.state.paused ? 'paused' : 'active'}  next ${next}  ` +
          `last ${last ? `${last.takenAt.toISOString()} (${last.action.workflow.workflowId})` : '-'}\n`,
      );
    }
  });
}

export async function scheduleTriggerCommand(id: string, options: ScheduleConnectionOptions): Promise<void> {
  await withClient(options, async (client) => {
    await client.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.SKIP);
    process.stdout.write(`schedule ${id} triggered\n`);
  });
}

export async function scheduleDeleteCommand(id: string, options: ScheduleConnectionOptions): Promise<void> {
  await withClient(options, async (client) => {
    await client.schedule.getHandle(id).delete();
    process.stdout.write(`schedule ${id} deleted\n`);
  });
}
