import { openDuckDB, s3SettingsFromEnv } from '../core/adapters/analytics/duckdb.js';
import { createRunViews } from '../core/adapters/analytics/views.js';
import { isS3Uri } from '../core/adapters/storage/index.js';

export interface QueryOptions {
  format: 'table' | 'csv' | 'json';
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  if (typeof value === 'object')
    return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  return String(value);
}

/** `pure query <run> "<sql>"`: the run's tables as DuckDB views, one query, printed. */
export async function queryCommand(
  run: string,
  sql: string | undefined,
  options: QueryOptions,
): Promise<void> {
  const s3 = isS3Uri(run) ? s3SettingsFromEnv() : undefined;
  if (isS3Uri(run) && !s3) {
    throw new Error(
      'querying s3:// needs PURE_S3_ENDPOINT (or AWS_ENDPOINT_URL) and credentials in the environment',
    );
  }
  const db = await openDuckDB(s3);
  const views = await createRunViews(db, run);
  if (!sql) {
    process.stdout.write(`tables: ${views.join(', ')}\n`);
    return;
  }
  const reader = await db.runAndReadAll(sql);
  const columns = reader.columnNames();
  const rows = reader.getRowsJson() as unknown[][];
  if (options.format === 'json') {
    process.stdout.write(
      `${JSON.stringify(rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]]))))}\n`,
    );
    return;
  }
  if (options.format === 'csv') {
    const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    process.stdout.write(
      `${[columns, ...rows.map((r) => r.map(cell))].map((r) => r.map(quote).join(',')).join('\n')}\n`,
    );
    return;
  }
  const text = [columns, ...rows.map((r) => r.map(cell))];
  const widths = columns.map((_, i) => Math.min(60, Math.max(...text.map((r) => r[i]!.length))));
  const line = (r: string[]) =>
    r
      .map((v, i) => (v.length > 60 ? `${v.slice(0, 57)}...` : v).padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(columns)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of text.slice(1)) process.stdout.write(`${line(r)}\n`);
  process.stdout.write(`(${rows.length} row${rows.length === 1 ? '' : 's'})\n`);
}
