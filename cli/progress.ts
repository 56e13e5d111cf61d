import cliProgress from 'cli-progress';
import type { SweepProgress } from '../workflows/sweep.js';

export interface ProgressView {
  update(progress: SweepProgress): void;
  stop(): void;
}

/**
 * Progress bars on a terminal; on a pipe or in CI (no TTY) one line per stage change at most every
 * few seconds, so logs stay readable.
 */
export function progressView(stream: NodeJS.WriteStream = process.stderr): ProgressView {
  if (stream.isTTY) {
    const multibar = new cliProgress.MultiBar(
      {
        stream,
        format: ' {stage} |{bar}| {value}/{total} {unit} | {percentage}% | eta {eta_formatted}',
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    const bars = new Map<string, cliProgress.SingleBar>();
    return {
      update(progress) {
        for (const s of progress.stages) {
          let bar = bars.get(s.stage);
          if (!bar) {
            bar = multibar.create(s.total, 0, { stage: s.stage.padEnd(16), unit: s.unit });
            bars.set(s.stage, bar);
          }
          bar.setTotal(s.total);
          bar.update(s.done, { stage: s.stage.padEnd(16), unit: s.unit });
        }
      },
      stop: () => multibar.stop(),
    };
  }
  let last = '';
  let lastAt = 0;
  return {
    update(progress) {
      const line = progress.stages.map((s) => `${s.stage} ${s.done}/${s.total} ${s.unit}`).join(', ');
      const now = Date.now();
      if (line && line !== last && (now - lastAt > 5000 || progress.state === 'done')) {
        stream.write(`[pure] ${line}\n`);
        last = line;
        lastAt = now;
      }
    },
    stop() {},
  };
}
