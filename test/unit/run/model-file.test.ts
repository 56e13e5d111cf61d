import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { localModelFile, ModelChangedError } from '../../../core/adapters/models/model-file.js';
import { modelDigestOf } from '../../../core/compute/run/config.js';

test('a checkpoint overwritten at the same path is refused by digest, and cached apart from the old one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pure-model-file-'));
  try {
    const model = join(dir, 'latest.onnx');
    const cache = join(dir, 'cache');
    const first = new TextEncoder().encode('checkpoint 1');
    await writeFile(model, first);
    const firstDigest = modelDigestOf(first);
    const firstCopy = await localModelFile(model, firstDigest, cache);
    assert.deepEqual(new Uint8Array(await readFile(firstCopy)), first);

    const second = new TextEncoder().encode('checkpoint 2');
    await writeFile(model, second);
    // The old run's digest now names a file that no longer exists at the path: its cached copy stays valid,
    // a fresh worker (empty cache) must refuse the new bytes.
    assert.equal(await localModelFile(model, firstDigest, cache), firstCopy);
    await assert.rejects(localModelFile(model, firstDigest, join(dir, 'fresh-cache')), ModelChangedError);
    const secondCopy = await localModelFile(model, modelDigestOf(second), cache);
    assert.notEqual(secondCopy, firstCopy);
    assert.deepEqual(new Uint8Array(await readFile(secondCopy)), second);
    // Without a digest a local path is used in place.
    assert.equal(await localModelFile(model, undefined, cache), model);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a cache hit is checked against the digest: a planted or truncated file is replaced, not run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pure-model-file-'));
  try {
    const model = join(dir, 'model.onnx');
    const cache = join(dir, 'cache');
    const bytes = new TextEncoder().encode('the real checkpoint');
    await writeFile(model, bytes);
    const digest = modelDigestOf(bytes);
    const copy = await localModelFile(model, digest, cache);
    assert.equal((await stat(cache)).mode & 0o777, 0o700);
    await writeFile(copy, 'planted by someone else');
    assert.equal(await localModelFile(model, digest, cache), copy);
    assert.deepEqual(new Uint8Array(await readFile(copy)), bytes);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('old cache entries are removed: unused for two weeks, or beyond the newest 16', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pure-model-file-'));
  try {
    const cache = join(dir, 'cache');
    await mkdir(cache);
    const old = new Date(Date.now() - 15 * 24 * 3600 * 1000);
    await writeFile(join(cache, 'stale.onnx'), 'x');
    await utimes(join(cache, 'stale.onnx'), old, old);
    for (let i = 0; i < 17; i++) {
      const model = join(dir, `m${i}.onnx`);
      const bytes = new TextEncoder().encode(`checkpoint ${i}`);
      await writeFile(model, bytes);
      await localModelFile(model, modelDigestOf(bytes), cache);
      // distinct mtimes, oldest first
      const at = new Date(Date.now() - (17 - i) * 60_000);
      await utimes(await localModelFile(model, modelDigestOf(bytes), cache), at, at);
    }
    const left = (await readdir(cache)).filter((f) => f.endsWith('.onnx'));
    assert.equal(left.length, 16);
    assert.ok(!left.includes('stale.onnx'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
