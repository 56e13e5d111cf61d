import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { type TaskQueues, taskQueues } from '../../core/compute/run/temporal-names.js';
import { createPureWorkers, runWorkers } from '../../workers/create.js';
import { temporalAddress } from './services.js';

export interface TestWorkers {
  address: string;
  client: Client;
  connection: Connection;
  /** Task queues of their own, so tests never pick up each other's work. */
  queues: TaskQueues;
  queuePrefix: string;
  stop(): Promise<void>;
}

/** pure's workers for both queues, in this process, on the real Temporal server the tests use. */
export async function startTestWorkers(name: string): Promise<TestWorkers> {
  const address = await temporalAddress();
  const connection = await Connection.connect({ address });
  const workerConnection = await NativeConnection.connect({ address });
  const queuePrefix = `${name}-${randomUUID()}`;
  const queues = taskQueues(queuePrefix);
  const abort = new AbortController();
  const done = runWorkers(
    await createPureWorkers({
      connection: workerConnection,
      roles: ['inference', 'cpu'],
      taskQueues: queues,
    }),
    abort.signal,
  );
  return {
    address,
    client: new Client({ connection }),
    connection,
    queues,
    queuePrefix,
    async stop() {
      abort.abort();
      await done;
      await workerConnection.close();
      await connection.close();
    },
  };
}
