import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** Who holds a state folder: the `pure` process and the server it started. */
interface StateLock {
  pid: number;
  serverPid?: number;
  startedAt: string;
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One `pure run` per state folder: the dev server's SQLite database allows one server. A second run
 * gets a message that says who holds the folder instead of "database is locked" in a log. A lock left
 * by a process that died (kill -9) is taken over, and a server it left running is stopped.
 */
function lockStateDir(stateDir: string): { update(serverPid: number): void; release(): void } {
  const lockFile = join(stateDir, 'lock.json');
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lockFile, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }), {
        flag: 'wx',
      });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      let held: Partial<StateLock> = {};
      try {
        held = JSON.parse(readFileSync(lockFile, 'utf8')) as StateLock;
      } catch {
        // unreadable: a lock written half by a process that died; take it over
      }
      if (held.pid !== process.pid && alive(held.pid)) {
        throw new Error(
          `another \`pure run\` (pid ${held.pid}, started ${held.startedAt}) is using ${stateDir}; ` +
            'wait for it to finish or stop it (Ctrl-C), or give this run its own --state-dir',
        );
      }
      if (alive(held.serverPid)) process.kill(held.serverPid!, 'SIGTERM');
      rmSync(lockFile, { force: true });
    }
  }
  return {
    update(serverPid) {
      const lock: StateLock = { pid: process.pid, serverPid, startedAt: new Date().toISOString() };
      writeFileSync(lockFile, JSON.stringify(lock));
    },
    release: () => rmSync(lockFile, { force: true }),
  };
}

/**
 * Starts a private Temporal dev server for one `pure run` (headless, free port, SQLite state under
 * `stateDir`), waits until its frontend accepts connections, and stops it with the process.
 *
 * The server runs in its own process group, so a Ctrl-C on the terminal reaches `pure run` only: the
 * run then stops its sweep through the server before it stops the server (cli/run.ts).
 */
export async function startEmbeddedTemporal(stateDir: string, timeoutMs = 90_000): Promise<EmbeddedTemporal> {
  const binary = findTemporalBinary();
  mkdirSync(stateDir, { recursive: true });
  const lock = lockStateDir(stateDir);
  const address = `127.0.0.1:${await freePort()}`;
  const logFile = join(stateDir, 'temporal.log');
  const child = spawnDevServer(binary, stateDir, address, logFile);
  if (child.pid) lock.update(child.pid);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  const stopChild = () => {
    if (child.exitCode === null && !child.killed) child.kill('SIGTERM');
    lock.release();
  };
  process.once('exit', stopChild);
  try {
    await waitUntilServing(address, timeoutMs, () => exited);
  } catch (error) {
    stopChild();
    throw new Error(`the embedded Temporal dev server ${(error as Error).message}; see ${logFile}`);
  }
  return {
    address,
    logFile,
    stop: async () => {
      process.removeListener('exit', stopChild);
      if (child.exitCode === null) {
        const done = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await done;
        clearTimeout(timer);
      }
      lock.release();
    },
  };
}

/** `temporal server start-dev`, headless, on `address`, with its SQLite state and log in `stateDir`. */
function spawnDevServer(binary: string, stateDir: string, address: string, logFile: string): ChildProcess {
  const [ip, port] = address.split(':') as [string, string];
  const log = openSync(logFile, 'a');
  const args = ['server', 'start-dev', '--headless', '--ip', ip, '--port', port];
  args.push('--db-filename', join(stateDir, 'temporal.db'), '--log-level', 'warn');
  return spawn(binary, args, { stdio: ['ignore', log, log], detached: true });
}

/** Resolves once the frontend accepts connections; rejects when the server exits or the time is up. */
async function waitUntilServing(address: string, timeoutMs: number, exited: () => string | undefined) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = exited();
    if (gone) throw new Error(gone);
    try {
      const connection = await NativeConnection.connect({ address });
      await connection.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(
          `did not answer at ${address} within ${timeoutMs / 1000} s (${(error as Error).message})`,
        );
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}
