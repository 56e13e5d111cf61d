import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelDigestOf } from '../../compute/run/config.js';
import { readUri } from '../storage/blob.js';
import { isS3Uri } from '../storage/index.js';

/**
 * A local file for a model URI, since onnxruntime and the graph tools read files.
 * - Without a digest: local paths as they are; s3:// objects downloaded once per host into a cache folder.
 * - With the run's digest: the bytes are checked against it and kept in the cache under (URI, digest), so a
 *   long-lived worker never mixes up two checkpoints written to the same path (sessions are cached by file).
 */
export async function localModelFile(
  uri: string,
  digest?: string,
  cacheDir = join(tmpdir(), 'pure-models'),
): Promise<string> {
  if (!digest && !isS3Uri(uri)) return uri.startsWith('file://') ? new URL(uri).pathname : uri;
  const name = `${createHash('sha256')
    .update(`${uri}\n${digest ?? ''}`)
    .digest('hex')
    .slice(0, 16)}.onnx`;
  const path = join(cacheDir, name);
  if (existsSync(path)) return path;
  const bytes = await readUri(uri);
  if (digest && modelDigestOf(bytes) !== digest) {
    throw new ModelChangedError(uri, modelDigestOf(bytes), digest);
  }
  await mkdir(cacheDir, { recursive: true });
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, bytes);
  await rename(partial, path);
  return path;
}

export class ModelChangedError extends Error {
  constructor(
    readonly uri: string,
    readonly found: string,
    readonly expected: string,
  ) {
    super(
      `the model at ${uri} changed since the run was configured (${found}, expected ${expected}); start a new run for the new checkpoint`,
    );
    this.name = 'ModelChanged';
  }
}
