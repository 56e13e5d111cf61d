import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { s3SettingsFromEnv } from '../../../core/adapters/analytics/duckdb.js';
import { resolveS3Settings } from '../../../core/adapters/settings/s3.js';
import { resolveS3Options } from '../../../core/adapters/storage/index.js';

// Environments a user may have: ours only, AWS's only, both (ours must win on both sides), the
// S3-specific endpoint variable, session tokens.
const ENVIRONMENTS: Record<string, NodeJS.ProcessEnv> = {
  pure: { PURE_S3_ENDPOINT: 'http://127.0.0.1:9000', PURE_S3_ACCESS_KEY: 'pk', PURE_S3_SECRET_KEY: 'ps' },
  aws: {
    AWS_ENDPOINT_URL: 'http://aws.example:9000',
    AWS_ACCESS_KEY_ID: 'ak',
    AWS_SECRET_ACCESS_KEY: 'as',
    AWS_REGION: 'eu-west-1',
  },
  both: {
    PURE_S3_ENDPOINT: 'http://ours:9000',
    PURE_S3_ACCESS_KEY: 'pk',
    PURE_S3_SECRET_KEY: 'ps',
    PURE_S3_REGION: 'eu-central-1',
    AWS_ENDPOINT_URL: 'http://theirs:9000',
    AWS_ACCESS_KEY_ID: 'ak',
    AWS_SECRET_ACCESS_KEY: 'as',
    AWS_REGION: 'us-west-2',
  },
  's3-specific endpoint': {
    AWS_ENDPOINT_URL_S3: 'http://s3-only:9000',
    AWS_ENDPOINT_URL: 'http://generic:9000',
    AWS_ACCESS_KEY_ID: 'ak',
    AWS_SECRET_ACCESS_KEY: 'as',
    AWS_DEFAULT_REGION: 'ap-south-1',
  },
  'session token': {
    AWS_ENDPOINT_URL: 'http://aws.example:9000',
    AWS_ACCESS_KEY_ID: 'ak',
    AWS_SECRET_ACCESS_KEY: 'as',
    AWS_SESSION_TOKEN: 'tok',
  },
};

describe('S3 settings: the writer and the query side agree', () => {
  for (const [name, env] of Object.entries(ENVIRONMENTS)) {
    test(name, () => {
      const store = resolveS3Options({}, env);
      const duckdb = s3SettingsFromEnv(env);
      assert.ok(duckdb, 'DuckDB gets settings whenever the store has an endpoint and keys');
      assert.equal(duckdb.endpoint, store.endpoint);
      assert.equal(duckdb.region, store.region);
      assert.equal(duckdb.accessKeyId, store.credentials?.accessKeyId);
      assert.equal(duckdb.secretAccessKey, store.credentials?.secretAccessKey);
      assert.equal(duckdb.sessionToken, store.credentials?.sessionToken);
    });
  }

  test('the documented precedence', () => {
    const both = resolveS3Settings({}, ENVIRONMENTS.both);
    assert.equal(both.endpoint, 'http://ours:9000');
    assert.equal(both.region, 'eu-central-1');
    assert.equal(both.credentials?.accessKeyId, 'pk');
    assert.equal(resolveS3Settings({}, ENVIRONMENTS['s3-specific endpoint']).endpoint, 'http://s3-only:9000');
    assert.equal(resolveS3Settings({}, {}).region, 'us-east-1');
    assert.equal(
      resolveS3Settings({ endpoint: 'http://flag:1' }, ENVIRONMENTS.both).endpoint,
      'http://flag:1',
    );
  });

  test('no keys: the store falls back to the SDK chain, DuckDB gets nothing rather than wrong keys', () => {
    const env = { PURE_S3_ENDPOINT: 'http://127.0.0.1:9000' };
    assert.equal(resolveS3Options({}, env).credentials, undefined);
    assert.equal(s3SettingsFromEnv(env), undefined);
  });
});
