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
  const result = await db.stream(sql);
  const columns = result.columnNames();
  const chunks = result.yieldRowsJson() as AsyncIterableIterator<unknown[][]>;
  const out = (text: string) => process.stdout.write(text);
  if (options.format === 'json') await writeJson(columns, chunks, out);
  else if (options.format === 'csv') await writeCsv(columns, chunks, out);
  else await writeTable(columns, chunks, out);
}

// Results stream chunk by chunk (DuckDB's 2,048 rows), so any number of rows prints in bounded memory.

async function writeJson(columns: string[], chunks: AsyncIterable<unknown[][]>, out: (s: string) => void) {
  let first = true;
  out('[');
  for await (const rows of chunks) {
    for (const r of rows) {
      out(`${first ? '' : ','}${JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, r[i]])))}`);
      first = false;
    }
  }
  out(']\n');
}

async function writeCsv(columns: string[], chunks: AsyncIterable<unknown[][]>, out: (s: string) => void) {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  out(`${columns.map(quote).join(',')}\n`);
  for await (const rows of chunks) {
    out(rows.map((r) => `${r.map((v) => quote(cell(v))).join(',')}\n`).join(''));
  }
}

/**
 * Column widths come from the first chunk (at most 60 characters; longer cells are cut): a later, wider
 * cell shifts its row instead of being cut, so no value is ever lost below the cap.
 */
async function writeTable(columns: string[], chunks: AsyncIterable<unknown[][]>, out: (s: string) => void) {
  let widths: number[] | undefined;
  let count = 0;
  const line = (r: string[]) =>
    r
      .map((v, i) => (v.length > 60 ? `${v.slice(0, 57)}...` : v).padEnd(widths![i]!))
      .join('  ')
      .trimEnd();
  const header = (rows: string[][]) => {
    widths = columns.map((c, i) =>
      Math.min(
        60,
        rows.reduce((w, r) => Math.max(w, r[i]!.length), c.length),
      ),
    );
    out(`${line(columns)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  };
  for await (const rows of chunks) {
    const text = rows.map((r) => r.map(cell));
    if (!widths) header(text);
    out(text.map((r) => `${line(r)}\n`).join(''));
    count += rows.length;
  }
  if (!widths) header([]);
  out(`(${count} row${count === 1 ? '' : 's'})\n`);
}
