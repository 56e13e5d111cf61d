/**
 * The PyTorch side of the attribution benchmark as a long-lived child process (attribution_torch.py,
 * its docstring has the line protocol), so that its runs can alternate with ours in one process tree.
 * Dev-only: it needs Debian's python3-torch and python3-torchvision under /usr/bin/python3.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../support/paths.js';

export const TORCH_PYTHON = process.env.PURE_BENCH_PYTHON ?? '/usr/bin/python3';
const SCRIPT = resolve(projectRoot, 'test', 'bench', 'attribution_torch.py');

export type TorchVariant = 'careful-shared' | 'careful-repeat' | 'authors';

export class TorchWorker {
  private readonly lines: AsyncIterator<string>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    /** The worker's first line: `ready torch <version> threads <n>`. */
    readonly banner: string,
    lines: AsyncIterator<string>,
  ) {
    this.lines = lines;
  }

  /** Starts the worker; resolves to the reason instead when Python or torch is missing. */
  static async start(threads: number): Promise<TorchWorker | string> {
    const child = spawn(TORCH_PYTHON, [SCRIPT, String(threads)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const failed = new Promise<string>((done) => {
      child.on('error', (e) => done(`${TORCH_PYTHON} did not start (${e.message})`));
      child.on('exit', (code) => done(`${TORCH_PYTHON} ${SCRIPT} exited with ${code}: ${stderr.trim()}`));
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await Promise.race([lines.next().then((r) => (r.done ? undefined : r.value)), failed]);
    if (first?.startsWith('ready ')) return new TorchWorker(child, first, lines);
    child.kill();
    return first ?? (await failed);
  }

  private async ask(line: string): Promise<number> {
    this.child.stdin.write(`${line}\n`);
    const reply = await this.lines.next();
    if (reply.done) throw new Error(`the torch worker exited while answering '${line}'`);
    const value = Number(reply.value);
    if (!Number.isFinite(value)) throw new Error(`the torch worker, asked '${line}': ${reply.value}`);
    return value;
  }

  /** Milliseconds of one run of `variant` over `rows` rows, K upper channels per image. */
  run(torchCase: string, variant: TorchVariant, rows: number, slots: number): Promise<number> {
    return this.ask(`run ${torchCase} ${variant} ${rows} ${slots}`);
  }

  /** The worker's peak resident memory in bytes. */
  async peakBytes(): Promise<number> {
    return (await this.ask('peak')) * 1024;
  }

  close(): void {
    this.child.stdin.end();
  }
}
