import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection } from '@temporalio/worker';

const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The Temporal CLI: $PURE_TEMPORAL_BIN, the project's .tools/bin (infra/tools.sh), or PATH. */
export function findTemporalBinary(): string {
  const candidates = [
    process.env.PURE_TEMPORAL_BIN,
    join(process.env.PURE_TOOLS_BIN ?? join(projectRoot, '.tools', 'bin'), 'temporal'),
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'temporal')),
  ].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      'the Temporal CLI was not found (looked at $PURE_TEMPORAL_BIN, .tools/bin/temporal and PATH). ' +
        'Install it with `bash infra/tools.sh install temporal`, or point TEMPORAL_ADDRESS at a running server.',
    );
  }
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface EmbeddedTemporal {
  address: string;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts a private Temporal dev server for one `pure run` (headless, free port, SQLite state under
 * `stateDir`), waits until its frontend accepts connections, and stops it with the process.
 */
export async function startEmbeddedTemporal(stateDir: string, timeoutMs = 90_000): Promise<EmbeddedTemporal> {
  const binary = findTemporalBinary();
  mkdirSync(stateDir, { recursive: true });
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const logFile = join(stateDir, 'temporal.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    binary,
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--db-filename',
      join(stateDir, 'temporal.db'),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', log, log], detached: false },
  );
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  const stopChild = () => {
    if (child.exitCode === null && !child.killed) child.kill('SIGTERM');
  };
  process.once('exit', stopChild);
  // A signal ends Node without 'exit' handlers: stop the server first, or it outlives us holding its database.
  const onSignal = (signal: NodeJS.Signals) => {
    stopChild();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`the embedded Temporal dev server ${exited}; see ${logFile}`);
    try {
      const connection = await NativeConnection.connect({ address });
      await connection.close();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        stopChild();
        throw new Error(
          `the embedded Temporal dev server did not answer at ${address} within ${timeoutMs / 1000} s (${(error as Error).message}); see ${logFile}`,
        );
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return {
    address,
    logFile,
    stop: async () => {
      process.removeListener('exit', stopChild);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      if (child.exitCode !== null) return;
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}
