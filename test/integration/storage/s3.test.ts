import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, beforeEach, describe, test } from 'node:test';
import {
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  ensureBucket,
  escapeKeySegment,
  isNotFound,
  NotFoundError,
  type ObjectStore,
  openStore,
  S3Store,
} from '../../../core/adapters/storage/index.js';
import { type S3TestEnv, s3TestEnv } from '../../support/services.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const MiB = 1024 * 1024;

/** The S3 back end against the real S3-compatible server (MinIO from infra/minio.sh). Never skipped. */
describe('S3Store on a real S3 server', () => {
  let env: S3TestEnv;
  let store: ObjectStore;
  let raw: S3Client;
  // Set up once, awaited by every test: when S3 is not configured or not running, each test fails with the
  // message that says how to start it (a failing before() would only show up as cancelled tests).
  let ready: Promise<void> | undefined;
  beforeEach(async () => {
    ready ??= (async () => {
      env = await s3TestEnv();
      store = openStore(env.uri, env.options);
      raw = new S3Client({
        endpoint: env.endpoint,
        region: env.region,
        forcePathStyle: true,
        credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
      });
    })();
    await ready;
  });
  after(async () => {
    // Leave nothing behind under this run's prefix (DeleteObjects: up to 1,000 keys a request).
    if (store && raw) {
      const keys = await store.list('');
      for (let i = 0; i < keys.length; i += 1000) {
        const Objects = keys.slice(i, i + 1000).map((k) => ({ Key: `${env.prefix}/${k}` }));
        await raw.send(new DeleteObjectsCommand({ Bucket: env.bucket, Delete: { Objects, Quiet: true } }));
      }
      assert.deepEqual(await store.list(''), []);
    }
    raw?.destroy();
  });

  test('ensureBucket is idempotent', async () => {
    await ensureBucket(`s3://${env.bucket}`, env.options);
    await ensureBucket(env.uri, env.options);
  });

  test('put / get / stat / exists / delete', async () => {
    assert.equal(store.uri, env.uri);
    assert.equal(store.localPath, undefined);
    assert.ok(store instanceof S3Store);
    await store.put('a/b/c.json', enc('{"x":1}'), { contentType: 'application/json' });
    assert.equal(dec(await store.get('a/b/c.json')), '{"x":1}');
    assert.deepEqual(await store.stat('a/b/c.json'), { size: 7 });
    assert.equal(await store.exists('a/b/c.json'), true);
    assert.equal(await store.exists('a/b'), false);
    assert.equal(await store.stat('a/b/missing'), undefined);
    await store.put('a/b/c.json', enc('replaced'));
    assert.equal(dec(await store.get('a/b/c.json')), 'replaced');
    await store.delete('a/b/c.json');
    assert.equal(await store.exists('a/b/c.json'), false);
    await store.delete('a/b/c.json'); // missing: not an error
  });

  test('missing objects raise NotFoundError with the full s3:// URI', async () => {
    const err = await store.get('no/such/key').then(
      () => assert.fail('expected NotFoundError'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof NotFoundError);
    assert.ok(isNotFound(err));
    assert.equal(err.uri, `${env.uri}/no/such/key`);
    assert.match(err.message, /s3:\/\/.*\/no\/such\/key/);
    await assert.rejects(store.getRange('no/such/key', 0, 10), NotFoundError);
    await assert.rejects(store.getRange('no/such/key', 3, 3), NotFoundError);
  });

  test('ranged get returns [start, end) clamped to the size', async () => {
    const body = randomBytes(100_000);
    await store.put('range.bin', body);
    assert.deepEqual(Buffer.from(await store.getRange('range.bin', 1234, 5678)), body.subarray(1234, 5678));
    assert.deepEqual(Buffer.from(await store.getRange('range.bin', 99_990, 200_000)), body.subarray(99_990));
    assert.equal((await store.getRange('range.bin', 100_000, 100_010)).length, 0);
    assert.equal((await store.getRange('range.bin', 7, 7)).length, 0);
    await assert.rejects(store.getRange('range.bin', 10, 5), RangeError);
  });

  test('list paginates past 1,000 keys, sorted, relative to the root, under folder prefixes only', async () => {
    const n = 1050;
    const keys = Array.from({ length: n }, (_, i) => `many/part-${String(i).padStart(5, '0')}.bin`);
    const body = new Uint8Array([1]);
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < n) await store.put(keys[next++]!, body);
      }),
    );
    await store.put('manyx/other', body);
    const listed = await store.list('many');
    assert.equal(listed.length, n);
    assert.deepEqual(listed, keys);
    assert.deepEqual(await store.list('many/'), keys);
    assert.ok((await store.list('')).includes('manyx/other'));
    assert.deepEqual(await store.list('nothing/here'), []);
  });

  test('escaped layer names as key segments survive the round trip', async () => {
    const layer = '/layer1/layer1.2/Relu_1_output_0 (100%)';
    const key = `run/references/layer=${escapeKeySegment(layer)}/part-0-99.parquet`;
    await store.put(key, enc('p'));
    assert.deepEqual(await store.list('run/references'), [key]);
    assert.equal(dec(await store.get(key)), 'p');
  });

  test('multipart upload above the threshold, completed only at the end', async () => {
    const mp = openStore(`${env.uri}/mp`, { ...env.options, multipartThreshold: 1 * MiB, partSize: 5 * MiB });
    const body = randomBytes(11 * MiB + 123); // 3 parts: 5 + 5 + 1 MiB
    await mp.put('big.bin', body, { contentType: 'application/octet-stream' });
    const got = await mp.get('big.bin');
    assert.equal(got.length, body.length);
    assert.ok(Buffer.from(got).equals(body));
    // A multipart object's ETag is '<md5 of part md5s>-<part count>'.
    const head = await raw.send(
      new HeadObjectCommand({ Bucket: env.bucket, Key: `${env.prefix}/mp/big.bin` }),
    );
    assert.match(head.ETag ?? '', /-3"?$/);
    // No upload is left open.
    const open = await raw.send(
      new ListMultipartUploadsCommand({ Bucket: env.bucket, Prefix: `${env.prefix}/` }),
    );
    assert.equal(open.Uploads?.length ?? 0, 0);
    // Below the threshold: a single PUT (plain MD5 ETag).
    await mp.put('small.bin', body.subarray(0, 1000));
    const small = await raw.send(
      new HeadObjectCommand({ Bucket: env.bucket, Key: `${env.prefix}/mp/small.bin` }),
    );
    assert.match(small.ETag ?? '', /^"?[0-9a-f]{32}"?$/);
  });

  test('multipart: a too small partSize is refused, a failed upload names the operation', async () => {
    // partSize below S3's 5 MiB minimum is refused before anything is sent.
    assert.throws(() => openStore(env.uri, { ...env.options, partSize: 1024 }), /partSize/);
    const noBucket = openStore(`s3://pure-no-such-bucket-${randomBytes(4).toString('hex')}/x`, {
      ...env.options,
      multipartThreshold: 0,
    });
    await assert.rejects(noBucket.put('k', enc('x')), /multipart upload .*NoSuchBucket/);
  });

  test('a server that does not answer gives an error naming the endpoint and how to start one', async () => {
    const dead = openStore(`s3://${env.bucket}/x`, { ...env.options, endpoint: 'http://127.0.0.1:1' });
    await assert.rejects(dead.get('k'), /127\.0\.0\.1:1.*infra\/minio\.sh start/s);
  });
});
