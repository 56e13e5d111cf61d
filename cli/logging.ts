import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DefaultLogger, type LogLevel, Runtime } from '@temporalio/worker';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** `--log-format`, else PURE_LOG_FORMAT, else text. */
export function logFormat(value = process.env.PURE_LOG_FORMAT): LogFormat {
  if (value === undefined || value === '') return 'text';
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat;
  throw new Error(`the log format is text or json; got ${value} (--log-format or PURE_LOG_FORMAT)`);
}

/** One log line of ours (`pure`) or of the Temporal SDK (`temporal`). */
export interface LogRecord {
  time: Date;
  level: string;
  logger: 'pure' | 'temporal';
  message: string;
  fields?: Record<string, unknown>;
}

/**
 * One line, newline included. Text is for people (unchanged from before JSON existed); JSON is one object
 * per line for log collectors (Loki, Elasticsearch, CloudWatch): `time`, `level`, `logger`, `msg`, then
 * the fields, named alike for both loggers (`workflowId`, `runId`, `activityType`, `attempt`, ...).
 */
export function formatLogRecord(record: LogRecord, format: LogFormat): string {
  if (format === 'text') {
    if (record.logger === 'pure') return `[pure] ${record.message}\n`;
    const meta = record.fields && Object.keys(record.fields).length > 0 ? ` ${safeJson(record.fields)}` : '';
    return `${record.time.toISOString()} [temporal] ${record.level} ${record.message}${meta}\n`;
  }
  const line: Record<string, unknown> = {
    time: record.time.toISOString(),
    level: record.level.toLowerCase(),
    logger: record.logger,
    msg: record.message,
  };
  for (const [key, value] of Object.entries(renamed(record.fields ?? {}))) {
    if (!(key in line) && value !== undefined) line[key] = value;
  }
  return `${safeJson(line)}\n`;
}

/**
 * The SDK's activity logs say `workflowRunId`, its workflow logs `runId`: both become `runId`. The task
 * token is dropped: long, and whoever holds it can complete the activity.
 */
function renamed(fields: Record<string, unknown>): Record<string, unknown> {
  const { workflowRunId, taskToken: _taskToken, ...rest } = fields;
  return workflowRunId === undefined ? rest : { ...rest, runId: workflowRunId };
}

/** JSON.stringify that survives what logs carry: errors (as name, message, stack), bigints, cycles. */
function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v)) return '[Circular]';
    seen.add(v);
    if (!(v instanceof Error)) return v;
    const { name, message, stack, cause } = v;
    const failure = v as Error & { type?: string; nonRetryable?: boolean };
    return { name, message, type: failure.type, nonRetryable: failure.nonRetryable, stack, cause };
  });
}

interface Sink {
  write: (line: string) => void;
  format: LogFormat;
}

let sink: Sink = { write: (line) => process.stderr.write(line), format: 'text' };

/**
 * pure's own operational lines (worker started, metrics address, shutting down), in the format of the
 * SDK's lines and to the same place. Always written: PURE_LOG_LEVEL filters the SDK's logs only.
 */
export function log(
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
): void {
  sink.write(
    formatLogRecord(
      { time: new Date(), level, logger: 'pure', message, ...(fields ? { fields } : {}) },
      sink.format,
    ),
  );
}

export interface TemporalRuntimeOptions {
  target: { file: string } | 'stderr';
  format?: LogFormat;
  /** Serve the Temporal SDK's own metrics (Rust core: polls, slots, schedule-to-start) on this port. */
  sdkMetricsPort?: number;
}

/**
 * The Temporal SDK's runtime: where its worker logs go, in which format, and its own metrics. A
 * long-running `pure worker` is a service: its logs belong on stderr. `pure run` is a command in a
 * terminal: its workers' logs (retries with task tokens, shutdown chatter) go to a file, so the terminal
 * shows progress and the run's own messages only. PURE_LOG_LEVEL=INFO or DEBUG adds detail. Must run
 * before any worker or native connection is created (the SDK allows one runtime per process).
 */
export function installTemporalRuntime(options: TemporalRuntimeOptions): void {
  const { target } = options;
  const write =
    target === 'stderr'
      ? (line: string) => process.stderr.write(line)
      : (() => {
          mkdirSync(dirname(target.file), { recursive: true });
          return (line: string) => appendFileSync(target.file, line);
        })();
  sink = { write, format: options.format ?? logFormat() };
  const level = (process.env.PURE_LOG_LEVEL ?? 'WARN') as LogLevel;
  Runtime.install({
    telemetryOptions: {
      // The native core logs to the console by default, whatever `logger` says: forward it here too.
      logging: { filter: { core: level, other: 'ERROR' }, forward: {} },
      ...(options.sdkMetricsPort === undefined
        ? {}
        : { metrics: { prometheus: { bindAddress: `0.0.0.0:${options.sdkMetricsPort}` } } }),
    },
    logger: new DefaultLogger(level, (entry) => {
      // The inference worker deliberately runs no workflows; the SDK's warning about that is noise.
      if (entry.message.startsWith('No workflows registered')) return;
      const time = new Date(Number(entry.timestampNanos / 1_000_000n));
      write(
        formatLogRecord(
          { time, level: entry.level, logger: 'temporal', message: entry.message, fields: entry.meta },
          sink.format,
        ),
      );
    }),
  });
}

/**
 * Shuts the native Temporal runtime down once the command is done with it. Workers shut it down when the
 * last one stops; a command that ran none (`--no-worker`) would otherwise keep the process alive forever
 * after printing its result.
 */
export async function releaseTemporalRuntime(): Promise<void> {
  await Runtime._instance?.shutdown();
}
