import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  InvalidKeyError,
  openStore,
  parseS3Uri,
  resolveS3Options,
  S3Store,
} from '../../../core/adapters/storage/index.js';

describe('S3 URIs and options (no server needed)', () => {
  test('parseS3Uri splits bucket and prefix', () => {
    assert.deepEqual(parseS3Uri('s3://bucket'), { bucket: 'bucket', prefix: '' });
    assert.deepEqual(parseS3Uri('s3://bucket/'), { bucket: 'bucket', prefix: '' });
    assert.deepEqual(parseS3Uri('s3://my.bucket-1/a/b/'), { bucket: 'my.bucket-1', prefix: 'a/b' });
    assert.throws(() => parseS3Uri('s3://'), InvalidKeyError);
    assert.throws(() => parseS3Uri('s3://Bad_Bucket/x'), /invalid S3 bucket name/);
    assert.throws(() => parseS3Uri('s3://bucket/a/../b'), InvalidKeyError);
    assert.throws(() => parseS3Uri('s3://bucket//a'), InvalidKeyError);
  });

  test('openStore gives an S3 store with a normalised URI, without I/O', () => {
    const s = openStore('s3://bucket/run/out/', {
      endpoint: 'http://127.0.0.1:1',
      accessKeyId: 'a',
      secretAccessKey: 'b',
    });
    assert.ok(s instanceof S3Store);
    assert.equal(s.uri, 's3://bucket/run/out');
    assert.equal(openStore('s3://bucket', { region: 'us-east-1' }).uri, 's3://bucket');
  });

  test('resolveS3Options: explicit options, then PURE_S3_*, then AWS_*; path style when an endpoint is set', () => {
    const env = {
      PURE_S3_ENDPOINT: 'http://127.0.0.1:9000',
      PURE_S3_ACCESS_KEY: 'pure-key',
      PURE_S3_SECRET_KEY: 'pure-secret',
      AWS_ENDPOINT_URL: 'http://aws-endpoint:1',
      AWS_ACCESS_KEY_ID: 'aws-key',
      AWS_SECRET_ACCESS_KEY: 'aws-secret',
      AWS_REGION: 'eu-central-1',
    };
    const fromEnv = resolveS3Options({}, env);
    assert.equal(fromEnv.endpoint, 'http://127.0.0.1:9000');
    assert.deepEqual(fromEnv.credentials, { accessKeyId: 'pure-key', secretAccessKey: 'pure-secret' });
    assert.equal(fromEnv.region, 'eu-central-1');
    assert.equal(fromEnv.forcePathStyle, true);
    assert.equal(fromEnv.multipartThreshold, 16 * 1024 * 1024);

    const aws = resolveS3Options(
      {},
      { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' },
    );
    assert.equal(aws.endpoint, undefined);
    assert.equal(aws.forcePathStyle, false, 'virtual-hosted style on AWS');
    assert.equal(aws.region, 'us-east-1');
    assert.deepEqual(aws.credentials, { accessKeyId: 'k', secretAccessKey: 's', sessionToken: 't' });

    assert.equal(resolveS3Options({}, {}).credentials, undefined, 'the SDK default chain (roles, profiles)');

    const explicit = resolveS3Options(
      { endpoint: 'http://x:1', region: 'r', accessKeyId: 'a', secretAccessKey: 'b', forcePathStyle: false },
      env,
    );
    assert.deepEqual(
      [explicit.endpoint, explicit.region, explicit.credentials?.accessKeyId, explicit.forcePathStyle],
      ['http://x:1', 'r', 'a', false],
    );
    assert.throws(() => resolveS3Options({ accessKeyId: 'a' }, {}), /both accessKeyId and secretAccessKey/);
    assert.throws(() => resolveS3Options({ partSize: 1024 }, {}), /partSize/);
    assert.throws(() => resolveS3Options({ multipartThreshold: -1 }, {}), /multipartThreshold/);
  });
});
