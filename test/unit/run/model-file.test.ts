import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
