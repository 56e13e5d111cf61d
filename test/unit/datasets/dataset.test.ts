import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { openDataset } from '../../../core/adapters/datasets/dataset.js';

test('a local dataset lists its images by id, with labels and plain absolute paths as sample_uri', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pure dataset '));
  try {
    const root = join(dir, 'my images%20');
    for (const file of ['b cls/2.png', 'a/1.jpg', 'a/0.JPG', 'flat.webp', 'README.md']) {
      await mkdir(join(root, file, '..'), { recursive: true });
      await writeFile(join(root, file), 'not decoded here');
    }
    // A relative --data is resolved to an absolute path.
    const samples = await openDataset(relative(process.cwd(), root)).listSamples();
    assert.deepEqual(samples, [
      { sampleIndex: 0, sampleId: 'a/0.JPG', sampleUri: join(root, 'a', '0.JPG'), label: 'a' },
      { sampleIndex: 1, sampleId: 'a/1.jpg', sampleUri: join(root, 'a', '1.jpg'), label: 'a' },
      { sampleIndex: 2, sampleId: 'b cls/2.png', sampleUri: join(root, 'b cls', '2.png'), label: 'b cls' },
      { sampleIndex: 3, sampleId: 'flat.webp', sampleUri: join(root, 'flat.webp'), label: null },
    ]);
    assert.deepEqual(await openDataset(`file://${root}`).listSamples(), samples);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
