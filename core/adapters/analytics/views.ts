import type { DuckDBConnection } from '@duckdb/node-api';
import { COMPARE_TABLES, compareKeys } from '../../compute/run/layout.js';
import { isS3Uri, openStore } from '../storage/index.js';

/** The run's tables and the glob of their Parquet parts (Hive-style: `<table>/<key>=<value>/*.parquet`). */
export const RUN_TABLES = {
  samples: 'samples/*.parquet',
  references: 'references/*/*.parquet',
  relevance: 'relevance/*/*.parquet',
  activations: 'activations/*/*.parquet',
  clusters: 'clusters/*/*.parquet',
  neurons: 'neurons/*/*.parquet',
  crops: 'crops/*/*.parquet',
  embeddings: 'embeddings/*/*.parquet',
  evaluation: 'evaluation/*/*.parquet',
  virtual_neurons: 'virtual_neurons/*/*.parquet',
  skipped: 'skipped/*/*.parquet',
  // `pure assign`'s own tables, in its folder <run>/assign/<id> (beside its samples and skipped).
  assignments: 'assignments/*/*.parquet',
  centroids: 'centroids/*/*.parquet',
  // `pure compare`: partitioned by the run compared with, then by layer (core/compute/run/layout.ts).
  compare: 'compare/*/*/*.parquet',
  compare_virtual_neurons: 'compare_virtual_neurons/*/*/*.parquet',
} as const;

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * Creates one DuckDB view per table the run has written (`references`, `neurons`, ...), so users query
 * a run by table name. Returns the names of the views created. With `schema`, the views are created in
 * that schema (`a.neurons`), so that two runs can be open in one database (`pure compare`).
 */
export async function createRunViews(
  connection: DuckDBConnection,
  runUri: string,
  schema?: string,
): Promise<string[]> {
  if (schema !== undefined) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a plain schema name: ${schema}`);
    await connection.run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  }
  const qualified = (view: string) => (schema === undefined ? `"${view}"` : `${schema}."${view}"`);
  const store = openStore(runUri);
  const created: string[] = [];
  for (const [name, glob] of Object.entries(RUN_TABLES)) {
    const folder = glob.split('/')[0]!;
    const depth = glob.split('/').length;
    const parts = (await store.list(folder)).filter(
      (k) => k.endsWith('.parquet') && k.split('/').length === depth,
    );
    if (parts.length === 0) continue;
    await createPartsView(connection, qualified(name), runUri, parts);
    created.push(name);
    // REFERENCES is an SQL keyword: `refs` spares users the quotes ("references" works too).
    if (name === 'references') {
      await connection.run(
        `CREATE OR REPLACE VIEW ${qualified('refs')} AS SELECT * FROM ${qualified('references')}`,
      );
      created.push('refs');
    }
  }
  if (created.length === 0) {
    throw new Error(
      `no pure tables under ${runUri}; point at <out>/<run>, the folder that holds references/ (or an assignment's folder)`,
    );
  }
  return created;
}

/**
 * A view over the given parts (keys relative to `rootUri`). The parts by name, not a glob: DuckDB would
 * expand '*', '?' and '[' in a run id or folder name and mix in a sibling run. union_by_name: parts
 * written by different versions may differ in optional columns.
 */
async function createPartsView(
  connection: DuckDBConnection,
  qualifiedName: string,
  rootUri: string,
  parts: readonly string[],
): Promise<void> {
  const root = isS3Uri(rootUri)
    ? rootUri.replace(/\/+$/, '')
    : openStore(rootUri).uri.replace(/^file:\/\//, '');
  const files = parts.map((k) => sqlString(`${root}/${k}`)).join(', ');
  await connection.run(
    `CREATE OR REPLACE VIEW ${qualifiedName} AS SELECT * FROM read_parquet([${files}], union_by_name = true)`,
  );
}

/**
 * The views `compare` and `compare_virtual_neurons` of one comparison only: the parts `pure compare`
 * wrote under `outUri` against run `against` (core/compute/run/layout.ts, compareKeys). Returns the names
 * of the views created (`compare_virtual_neurons` is absent when no layer had circuits to match).
 */
export async function createComparisonViews(
  connection: DuckDBConnection,
  outUri: string,
  against: string,
): Promise<string[]> {
  const store = openStore(outUri);
  const created: string[] = [];
  for (const table of COMPARE_TABLES) {
    const parts = (await store.list(compareKeys.partition(table, against))).filter((k) =>
      k.endsWith('.parquet'),
    );
    if (parts.length === 0) continue;
    await createPartsView(connection, `"${table}"`, outUri, parts);
    created.push(table);
  }
  if (!created.includes('compare')) {
    throw new Error(`no comparison with run ${against} under ${outUri} (pure compare writes it)`);
  }
  return created;
}
