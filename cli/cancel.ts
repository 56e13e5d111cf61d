import { resolve } from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { connectTemporal } from '../core/adapters/settings/temporal.js';
import { sweepWorkflowId } from '../core/compute/run/temporal-names.js';
import { startEmbeddedTemporal } from './embedded-temporal.js';

export interface CancelOptions {
  temporal?: string;
  namespace: string;
  stateDir: string;
}

/**
 * `pure cancel <run>`: stops a sweep and its layer workflows, on a shared server (--temporal) or in the
 * embedded server's state folder. Finished parts stay where they are: the same `pure run` starts the
 * run again from them.
 */
export async function cancelCommand(run: string, options: CancelOptions): Promise<void> {
  const embedded = options.temporal
    ? undefined
    : await startEmbeddedTemporal(resolve(options.stateDir, 'embedded-temporal'));
  const address = options.temporal ?? embedded!.address;
  const where = embedded ? `the embedded server's state in ${options.stateDir}` : address;
  try {
    const connection = embedded
      ? await Connection.connect({ address })
      : await connectTemporal(address, (o) => Connection.connect(o));
    try {
      const client = new Client({ connection, namespace: options.namespace });
      const handle = client.workflow.getHandle(sweepWorkflowId(run));
      let status: string;
      try {
        status = (await handle.describe()).status.name;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError)
          throw new Error(`no sweep ${handle.workflowId} in ${where}`);
        throw error;
      }
      if (status !== 'RUNNING') {
        process.stdout.write(`${handle.workflowId} is not running (${status}); nothing to cancel\n`);
        return;
      }
      await handle.terminate('cancelled with pure cancel');
      process.stdout.write(
        `cancelled ${handle.workflowId} in ${where}; its finished parts are kept, and the same pure run command starts it again from them\n`,
      );
    } finally {
      await connection.close();
    }
  } finally {
    await embedded?.stop();
  }
}
