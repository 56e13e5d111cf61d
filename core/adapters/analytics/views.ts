import type { DuckDBConnection } from '@duckdb/node-api';
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
} as const;

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * Creates one DuckDB view per table the run has written (`references`, `neurons`, ...), so users query
 * a run by table name. Returns the names of the views created.
 */
export async function createRunViews(connection: DuckDBConnection, runUri: string): Promise<string[]> {
  const store = openStore(runUri);
  const root = isS3Uri(runUri) ? runUri.replace(/\/+$/, '') : store.uri.replace(/^file:\/\//, '');
  const created: string[] = [];
  for (const [name, glob] of Object.entries(RUN_TABLES)) {
    const folder = glob.split('/')[0]!;
    const depth = glob.split('/').length;
    const parts = (await store.list(folder)).filter(
      (k) => k.endsWith('.parquet') && k.split('/').length === depth,
    );
    if (parts.length === 0) continue;
    // The parts by name, not a glob: DuckDB would expand '*', '?' and '[' in a run id or folder name
    // and mix in a sibling run. union_by_name: parts written by different versions may differ in
    // optional columns.
    const files = parts.map((k) => sqlString(`${root}/${k}`)).join(', ');
    await connection.run(
      `CREATE OR REPLACE VIEW "${name}" AS SELECT * FROM read_parquet([${files}], union_by_name = true)`,
    );
    created.push(name);
    // REFERENCES is an SQL keyword: `refs` spares users the quotes ("references" works too).
    if (name === 'references') {
      await connection.run('CREATE OR REPLACE VIEW refs AS SELECT * FROM "references"');
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
