import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ensureBucket,
  escapeKeySegment,
  InvalidKeyError,
  isNotFound,
  LocalStore,
  NotFoundError,
  type ObjectStore,
  openStore,
} from '../../../core/adapters/storage/index.js';
import { seededRandom } from '../../support/random.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe('LocalStore', () => {
  let dir: string;
  let store: ObjectStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-storage-'));
    store = openStore(`file://${dir}/root`);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('openStore: file URI, absolute and relative paths; other schemes are refused', () => {
    assert.equal(openStore(`file://${dir}/x`).uri, `file://${dir}/x`);
    assert.equal(openStore(`${dir}/x/`).uri, `file://${dir}/x`);
    assert.equal(openStore('file://localhost/tmp/x').uri, 'file:///tmp/x');
    const rel = openStore('some/rel');
    assert.equal(rel.uri, `file://${join(process.cwd(), 'some', 'rel')}`);
    assert.ok(openStore(dir) instanceof LocalStore);
    // Percent signs in a file URI are literal (escaped layer names stay escaped on disk).
    assert.equal(openStore(`file://${dir}/layer=%2Fa`).localPath?.('k'), join(dir, 'layer=%2Fa', 'k'));
    assert.throws(() => openStore('file://relative/x'), /absolute/);
    assert.throws(() => openStore('gs://bucket/x'), /unsupported storage URI scheme 'gs:'/);
    assert.throws(() => openStore(''), InvalidKeyError);
  });

  test('put / get / stat / exists / delete', async () => {
    await store.put('a/b/c.txt', enc('hello'));
    assert.equal(dec(await store.get('a/b/c.txt')), 'hello');
    assert.deepEqual(await store.stat('a/b/c.txt'), { size: 5 });
    assert.equal(await store.exists('a/b/c.txt'), true);
    assert.equal(await store.exists('a/b'), false, 'a folder is not an object');
    assert.equal(await store.stat('a/b/missing'), undefined);
    await store.put('a/b/c.txt', enc('replaced, longer'));
    assert.equal(dec(await store.get('a/b/c.txt')), 'replaced, longer');
    await store.delete('a/b/c.txt');
    assert.equal(await store.exists('a/b/c.txt'), false);
    await store.delete('a/b/c.txt'); // missing: not an error
  });

  test('missing objects raise NotFoundError with the full URI', async () => {
    const err = await store.get('no/such/key').then(
      () => assert.fail('expected NotFoundError'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof NotFoundError);
    assert.ok(isNotFound(err));
    assert.equal(err.uri, `file://${dir}/root/no/such/key`);
    assert.match(err.message, new RegExp(`file://${dir}/root/no/such/key`));
    await assert.rejects(store.getRange('no/such/key', 0, 1), NotFoundError);
    await store.put('d/x', enc('x'));
    await assert.rejects(store.get('d'), NotFoundError, 'a folder is not an object');
  });

  test('getRange returns [start, end) clamped to the size', async () => {
    const body = new Uint8Array(1000).map((_, i) => i % 251);
    await store.put('range.bin', body);
    assert.deepEqual(await store.getRange('range.bin', 10, 20), body.subarray(10, 20));
    assert.deepEqual(await store.getRange('range.bin', 990, 2000), body.subarray(990));
    assert.equal((await store.getRange('range.bin', 5, 5)).length, 0);
    assert.equal((await store.getRange('range.bin', 1000, 1010)).length, 0);
    await assert.rejects(store.getRange('range.bin', 20, 10), RangeError);
    await assert.rejects(store.getRange('range.bin', -1, 10), RangeError);
  });

  test('list: recursive, sorted, under a folder prefix, keys relative to the root', async () => {
    const s = openStore(join(dir, 'listing'));
    const layer = escapeKeySegment('/layer1/layer1.2/Relu_1_output_0');
    const keys = [
      `run/references/layer=${layer}/part-0-9.parquet`,
      'run/references/layer=b/p.parquet',
      'run/x',
      'runx/y',
      'z',
    ];
    for (const k of [...keys].reverse()) await s.put(k, enc(k));
    assert.deepEqual(await s.list(''), [...keys].sort());
    assert.deepEqual(await s.list('run'), keys.slice(0, 3).sort());
    assert.deepEqual(await s.list('run/'), keys.slice(0, 3).sort());
    assert.deepEqual(await s.list('run/references'), keys.slice(0, 2).sort());
    assert.deepEqual(await s.list('nothing/here'), []);
    assert.deepEqual(await openStore(join(dir, 'does-not-exist')).list(''), []);
    await assert.rejects(s.list('../x'), InvalidKeyError);
    // The on-disk layout is the key layout.
    assert.equal(relative(join(dir, 'listing'), s.localPath?.(keys[0]!) ?? ''), keys[0]);
  });

  test('list follows symbolic links to folders (datasets may be links) without looping', async () => {
    const target = join(dir, 'target');
    await mkdir(join(target, 'cls'), { recursive: true });
    await writeFile(join(target, 'cls', 'img.jpg'), 'x');
    const s = openStore(join(dir, 'linked'));
    await mkdir(join(dir, 'linked'), { recursive: true });
    await symlink(target, join(dir, 'linked', 'data'));
    await symlink(join(dir, 'linked'), join(target, 'cls', 'loop'));
    assert.deepEqual(await s.list(''), ['data/cls/img.jpg']);
  });

  test('keys are validated: no absolute keys, no ..', async () => {
    await assert.rejects(store.put('/etc/passwd', enc('x')), /relative/);
    await assert.rejects(store.put('a/../../escape', enc('x')), /'\.\.'/);
    await assert.rejects(store.get('..'), InvalidKeyError);
    assert.throws(() => store.localPath?.('a//b'), InvalidKeyError);
  });

  test('put is atomic: concurrent writers of one key leave one whole body and no temporary files', async () => {
    const s = openStore(join(dir, 'atomic'));
    const rand = seededRandom(3);
    const bodies = Array.from({ length: 8 }, (_, i) =>
      new Uint8Array(200_000 + Math.floor(rand() * 1000)).fill(i + 1),
    );
    await Promise.all(bodies.map((b) => s.put('k', b)));
    const got = await s.get('k');
    const first = got[0]!;
    assert.ok(first >= 1 && first <= 8);
    assert.equal(got.length, bodies[first - 1]!.length);
    assert.ok(
      got.every((v) => v === first),
      'no interleaved writes',
    );
    assert.deepEqual(await readdir(join(dir, 'atomic')), ['k']);
    assert.deepEqual(await s.list(''), ['k']);
  });

  test('ensureBucket creates the root folder', async () => {
    const root = join(dir, 'new', 'root');
    await ensureBucket(root);
    assert.deepEqual(await readdir(join(dir, 'new')), ['root']);
    await ensureBucket(`file://${root}`); // again: fine
  });
});
