import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { InputError } from '../../compute/errors.js';
import { resolveS3Settings } from '../settings/s3.js';

const projectRoot = resolve(fileURLToPath(new URL('../../../..', import.meta.url)));

/**
 * DuckDB's httpfs extension, for reading s3:// outputs. DuckDB would download it at run time, which air-gapped
 * machines cannot; infra/tools.sh installs the PyPI package that carries the binary for our DuckDB version.
 */
export function findHttpfsExtension(): string | undefined {
  const candidates = [
    process.env.PURE_DUCKDB_HTTPFS,
    join(process.env.PURE_TOOLS_DIR ?? join(projectRoot, '.tools'), 'duckdb', 'httpfs.duckdb_extension'),
  ].filter((p): p is string => Boolean(p));
  return candidates.find((p) => existsSync(p));
}

/** What DuckDB needs to read s3:// outputs: an endpoint and explicit keys. */
export interface DuckDBS3Settings {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
}

/**
 * S3 settings for DuckDB, resolved exactly as the object store resolves them (core/adapters/settings/s3.ts),
 * or undefined when there is no endpoint or no explicit keys (DuckDB cannot use the AWS SDK's chain here).
 */
export function s3SettingsFromEnv(env: NodeJS.ProcessEnv = process.env): DuckDBS3Settings | undefined {
  const { endpoint, region, credentials } = resolveS3Settings({}, env);
  if (!endpoint || !credentials) return undefined;
  return { endpoint, region, ...credentials };
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * An in-memory DuckDB connection that can read pure's Parquet outputs, local or on S3
 * (`read_parquet('s3://bucket/run/references/*\/*.parquet')`).
 */
export async function openDuckDB(s3?: DuckDBS3Settings): Promise<DuckDBConnection> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  if (s3) {
    const httpfs = findHttpfsExtension();
    if (!httpfs) {
      // Not retryable: a worker without the extension (the worker images carry none) will not grow one.
      throw new InputError(
        'MissingDuckDBExtension',
        "DuckDB's httpfs extension is needed to read s3:// outputs and was not found; install it with " +
          '`bash infra/tools.sh install duckdb` (or set PURE_DUCKDB_HTTPFS to the .duckdb_extension file)',
      );
    }
    await connection.run(`LOAD ${sqlString(httpfs)}`);
    const url = new URL(s3.endpoint);
    await connection.run(
      `CREATE OR REPLACE SECRET pure_s3 (TYPE s3, KEY_ID ${sqlString(s3.accessKeyId)}, SECRET ${sqlString(
        s3.secretAccessKey,
      )},${s3.sessionToken ? ` SESSION_TOKEN ${sqlString(s3.sessionToken)},` : ''} REGION ${sqlString(s3.region)}, ENDPOINT ${sqlString(url.host)}, URL_STYLE 'path', USE_SSL ${
        url.protocol === 'https:' ? 'true' : 'false'
      })`,
    );
  }
  return connection;
}
