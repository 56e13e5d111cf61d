import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureBucket, type S3Options } from '../../core/adapters/storage/index.js';
import { projectRoot } from './paths.js';

/**
 * Private copies of the real services for fault tests (test/integration/faults.test.ts): each on free
 * ports with its own state, in its own process group, so a test can stop and restart it without touching
 * the shared servers that scripts/test.sh starts on the default ports. Every process started here is
 * killed (whole group, SIGKILL) when the test process exits, whatever happened to the test.
 */

const toolsBin = join(process.env.PURE_TOOLS_DIR ?? join(projectRoot, '.tools'), 'bin');
export const TEMPORAL_BIN = join(toolsBin, 'temporal');
export const MINIO_BIN = join(toolsBin, 'minio');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Process groups still alive; the exit hook kills what a test's `after` did not get to. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function killLeftovers(): void {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  liveGroups.clear();
}
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', killLeftovers);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killLeftovers();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** A free TCP port on 127.0.0.1 (closed again: the caller binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process in a process group of its own. */
export class GroupProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;

  constructor(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; logFile?: string }) {
    installExitHook();
    const fd = options.logFile ? openSync(options.logFile, 'a') : undefined;
    this.child = spawn(command, args, {
      detached: true,
      env: options.env ?? process.env,
      stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    });
    if (fd !== undefined) {
      closeSync(fd);
      // A server must never keep the test process alive (node --test would wait for it forever): the
      // exit hook kills whatever is left when the process exits.
      this.child.unref();
    }
    const pid = this.child.pid;
    if (pid !== undefined) liveGroups.add(pid);
    this.exited = new Promise<Exit>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.child.once('error', (error) => {
        // Not started at all (e.g. no such binary): say why in the log.
        if (pid === undefined) process.stderr.write(`could not start ${command}: ${error.message}\n`);
        this.exit ??= { code: null, signal: null };
        resolve(this.exit);
      });
    }).then((exit) => {
      // The leader is gone; anything left in its group dies with it.
      this.signalGroup('SIGKILL');
      if (pid !== undefined) liveGroups.delete(pid);
      return exit;
    });
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  signalGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Sends `signal` to the group; SIGKILL after `graceMs`. Resolves once the leader has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<Exit> {
    if (!this.running) return this.exited;
    this.signalGroup(signal);
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

async function until(what: string, timeoutMs: number, ready: () => Promise<boolean>, alive: () => boolean) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready().catch(() => false)) return;
    if (!alive()) throw new Error(`${what} exited before it was ready`);
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

/** A Temporal dev server (`temporal server start-dev`) on a free port with its own SQLite file. */
export class PrivateTemporal {
  readonly address: string;
  readonly dbFile: string;
  readonly logFile: string;
  private process: GroupProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly inMemory: boolean,
  ) {
    this.address = `127.0.0.1:${port}`;
    this.dbFile = join(dir, 'temporal.db');
    this.logFile = join(dir, 'server.log');
  }

  /** `inMemory`: no database file (faster; a restart loses everything). */
  static async start(dir: string, options: { inMemory?: boolean } = {}): Promise<PrivateTemporal> {
    mkdirSync(dir, { recursive: true });
    const server = new PrivateTemporal(await freePort(), dir, options.inMemory ?? false);
    try {
      await server.start();
    } catch (error) {
      await server.stop('SIGKILL');
      throw error;
    }
    return server;
  }

  /** Starts it (again: same port, same database) and waits until the frontend answers. */
  async start(): Promise<void> {
    if (this.process?.running) throw new Error(`Temporal at ${this.address} is already running`);
    const proc = new GroupProcess(
      TEMPORAL_BIN,
      [
        ...['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(this.port)],
        ...(this.inMemory ? [] : ['--db-filename', this.dbFile]),
        ...['--log-level', 'warn'],
      ],
      { logFile: this.logFile },
    );
    this.process = proc;
    await until(
      `the Temporal dev server at ${this.address} (log ${this.logFile})`,
      60_000,
      () => this.healthy(),
      () => proc.running,
    );
  }

  async healthy(): Promise<boolean> {
    await promisify(execFile)(
      TEMPORAL_BIN,
      [
        ...['operator', 'cluster', 'health', '--address', this.address],
        ...['--disable-config-env', '--disable-config-file'],
        ...['--client-connect-timeout', '2s', '--command-timeout', '3s'],
      ],
      { timeout: 10_000 },
    );
    return true;
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit | undefined> {
    return this.process?.stop(signal);
  }
}

/** A MinIO server on free ports with its own data folder, and a bucket. */
export class PrivateMinio {
  static readonly accessKeyId = 'faultsadmin';
  static readonly secretAccessKey = 'faultsadmin-secret';
  static readonly region = 'us-east-1';
  readonly endpoint: string;
  readonly dataDir: string;
  readonly logFile: string;
  private process: GroupProcess | undefined;

  private constructor(
    readonly port: number,
    readonly consolePort: number,
    readonly dir: string,
  ) {
    this.endpoint = `http://127.0.0.1:${port}`;
    this.dataDir = join(dir, 'data');
    this.logFile = join(dir, 'server.log');
  }

  static async start(dir: string, bucket: string): Promise<PrivateMinio> {
    mkdirSync(join(dir, 'data'), { recursive: true });
    const server = new PrivateMinio(await freePort(), await freePort(), dir);
    try {
      await server.start();
      // Healthy is not always ready for S3 calls yet (a 503 right after start was seen): retry briefly.
      await until(
        `a bucket on MinIO at ${server.endpoint}`,
        30_000,
        async () => {
          await ensureBucket(`s3://${bucket}`, server.options());
          return true;
        },
        () => server.running,
      );
    } catch (error) {
      await server.stop('SIGKILL');
      throw error;
    }
    return server;
  }

  /** Client options for this server (or for a proxy in front of it, at `endpoint`). */
  options(endpoint = this.endpoint): S3Options {
    return {
      endpoint,
      region: PrivateMinio.region,
      accessKeyId: PrivateMinio.accessKeyId,
      secretAccessKey: PrivateMinio.secretAccessKey,
      forcePathStyle: true,
    };
  }

  /** What `pure run` needs in its environment to use this server (or a proxy in front of it). */
  env(endpoint = this.endpoint): NodeJS.ProcessEnv {
    return {
      PURE_S3_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: PrivateMinio.accessKeyId,
      AWS_SECRET_ACCESS_KEY: PrivateMinio.secretAccessKey,
      AWS_REGION: PrivateMinio.region,
    };
  }

  /** Starts it (again: same ports, same data) and waits until it is healthy. */
  async start(): Promise<void> {
    if (this.process?.running) throw new Error(`MinIO at ${this.endpoint} is already running`);
    const proc = new GroupProcess(
      MINIO_BIN,
      [
        'server',
        this.dataDir,
        '--address',
        `127.0.0.1:${this.port}`,
        '--console-address',
        `127.0.0.1:${this.consolePort}`,
      ],
      {
        logFile: this.logFile,
        env: {
          ...process.env,
          MINIO_ROOT_USER: PrivateMinio.accessKeyId,
          MINIO_ROOT_PASSWORD: PrivateMinio.secretAccessKey,
          MINIO_BROWSER: 'off',
          MINIO_UPDATE: 'off',
          MINIO_REGION: PrivateMinio.region,
        },
      },
    );
    this.process = proc;
    await until(
      `MinIO at ${this.endpoint} (log ${this.logFile})`,
      60_000,
      () => this.healthy(),
      () => proc.running,
    );
  }

  async healthy(): Promise<boolean> {
    // `cluster`, not `live`: live answers before the server takes writes.
    const res = await fetch(`${this.endpoint}/minio/health/cluster`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit | undefined> {
    return this.process?.stop(signal);
  }
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  live: boolean;
}

/**
 * A TCP proxy that forwards to a target until it is switched to blackhole mode. Then it still accepts
 * connections and reads what clients send, but never forwards a byte and never answers, on new and on
 * already open connections alike: a server that is "up" but silent.
 */
export class BlackholeProxy {
  private mode: 'forward' | 'blackhole' = 'forward';
  private readonly pairs = new Set<Pair>();
  private readonly server: Server;
  private port = 0;

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(target: { host: string; port: number }): Promise<BlackholeProxy> {
    const proxy = new BlackholeProxy(target);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = proxy.server.address();
    if (typeof address !== 'object' || !address) throw new Error('the proxy has no port');
    proxy.port = address.port;
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private accept(client: Socket): void {
    const pair: Pair = { client, upstream: undefined, live: this.mode === 'forward' };
    this.pairs.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => {
      this.pairs.delete(pair);
      pair.upstream?.destroy();
    });
    if (!pair.live) {
      client.on('data', () => undefined); // read and dropped; never answered
      return;
    }
    const upstream = connect({ host: this.target.host, port: this.target.port });
    pair.upstream = upstream;
    upstream.on('error', () => undefined);
    client.on('data', (chunk) => {
      if (pair.live) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (pair.live) client.write(chunk);
    });
    upstream.on('close', () => {
      if (pair.live) client.destroy();
    });
  }

  /** From now on nothing is forwarded, either way, and nothing is answered. */
  blackhole(): void {
    this.mode = 'blackhole';
    for (const pair of this.pairs) {
      if (!pair.live) continue;
      pair.live = false;
      pair.upstream?.destroy(); // the client's side stays open and hears nothing more
    }
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.live = false;
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A `pure` command run as a user runs it: its own process group, output collected as it comes. */
export class PureProcess {
  stdout = '';
  stderr = '';
  readonly startedAt = Date.now();
  private readonly process: GroupProcess;
  readonly exited: Promise<Exit & { stdout: string; stderr: string; seconds: number }>;

  constructor(cli: string, args: string[], env: NodeJS.ProcessEnv) {
    this.process = new GroupProcess(process.execPath, [cli, ...args], { env });
    this.process.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.process.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = this.process.exited.then(async (exit) => {
      await sleep(50); // let the pipes drain
      return {
        ...exit,
        stdout: this.stdout,
        stderr: this.stderr,
        seconds: (Date.now() - this.startedAt) / 1000,
      };
    });
  }

  get running(): boolean {
    return this.process.running;
  }

  /** Resolves once stderr matches; rejects when the command exits first or after `timeoutMs`. */
  async waitForStderr(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stderr)) {
      if (!this.running) throw new Error(`pure exited before stderr matched ${pattern}:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`stderr did not match ${pattern} within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  kill(): Promise<Exit> {
    return this.process.stop('SIGKILL', 0);
  }
}
