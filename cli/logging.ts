import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DefaultLogger, type LogLevel, Runtime } from '@temporalio/worker';

/**
 * Where the Temporal SDK's worker logs go. A long-running `pure worker` is a service: its logs belong on
 * stderr. `pure run` is a command in a terminal: its workers' logs (retries with task tokens, shutdown
 * chatter) go to a file, so the terminal shows progress and the run's own messages only.
 * PURE_LOG_LEVEL=INFO or DEBUG adds detail. Must run before any worker or native connection is created.
 */
export function installTemporalLogging(target: { file: string } | 'stderr'): void {
  const write =
    target === 'stderr'
      ? (line: string) => process.stderr.write(line)
      : (() => {
          mkdirSync(dirname(target.file), { recursive: true });
          return (line: string) => appendFileSync(target.file, line);
        })();
  const level = (process.env.PURE_LOG_LEVEL ?? 'WARN') as LogLevel;
  Runtime.install({
    // The native core logs to the console by default, whatever `logger` says: forward it here too.
    telemetryOptions: { logging: { filter: { core: level, other: 'ERROR' }, forward: {} } },
    logger: new DefaultLogger(level, (entry) => {
      // The inference worker deliberately runs no workflows; the SDK's warning about that is noise.
      if (entry.message.startsWith('No workflows registered')) return;
      const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
      write(
        `${time} [temporal] ${entry.level} ${entry.message}${entry.meta ? ` ${JSON.stringify(entry.meta)}` : ''}\n`,
      );
    }),
  });
}
