import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { connectTemporal, temporalAddress } from '../core/adapters/settings/temporal.js';
import { sweepWorkflowId } from '../core/compute/run/temporal-names.js';
import type { sweepWorkflow } from '../workflows/sweep.js';
import { sweepStages } from './progress.js';

export interface StatusOptions {
  temporal?: string;
  namespace: string;
}

/** `pure status <run id>`: the progress of a sweep on a Temporal server, from any machine. */
export async function statusCommand(run: string, options: StatusOptions): Promise<void> {
  const address = temporalAddress(options.temporal);
  if (!address)
    throw new Error(
      'pass --temporal host:port or set TEMPORAL_ADDRESS (the embedded server lives only as long as its `pure run`)',
    );
  const connection = await connectTemporal(address, (o) => Connection.connect(o));
  try {
    const client = new Client({ connection, namespace: options.namespace });
    const workflowId = sweepWorkflowId(run);
    const handle = client.workflow.getHandle<typeof sweepWorkflow>(workflowId);
    let description: Awaited<ReturnType<typeof handle.describe>>;
    try {
      description = await handle.describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError)
        throw new Error(`no sweep ${workflowId} on ${address} (namespace ${options.namespace})`);
      throw error;
    }
    process.stdout.write(
      `${workflowId}: ${description.status.name}, started ${description.startTime.toISOString()}\n`,
    );
    if (description.status.name === 'COMPLETED') {
      const result = await handle.result();
      process.stdout.write(`  ${result.numSamples} images, outputs under ${result.runUri}/\n`);
      for (const v of result.virtualNeurons) {
        process.stdout.write(`  ${v.layer}: ${v.polysemantic} of ${v.neurons} neurons split\n`);
      }
      return;
    }
    let stages: Awaited<ReturnType<typeof sweepStages>>;
    try {
      stages = await sweepStages(client, handle);
    } catch (error) {
      throw new Error(
        `cannot read the progress of ${workflowId} (${(error as Error).message}); ` +
          `is a worker serving its task queue (${description.taskQueue})?`,
      );
    }
    for (const stage of stages) {
      const percent = stage.total > 0 ? Math.floor((100 * stage.done) / stage.total) : 0;
      process.stdout.write(
        `  ${stage.stage.padEnd(36)} ${String(stage.done).padStart(7)}/${stage.total} ${stage.unit} (${percent} %)\n`,
      );
    }
  } finally {
    await connection.close();
  }
}
