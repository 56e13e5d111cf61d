import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isS3Uri } from '../storage/index.js';
import { readUri } from './blob.js';

/**
 * A local file for a model URI: local paths as they are, s3:// objects downloaded once per process
 * host into a cache folder (keyed by the URI), since onnxruntime and the graph tools read files.
 */
export async function localModelFile(uri: string, cacheDir = join(tmpdir(), 'pure-models')): Promise<string> {
  if (!isS3Uri(uri)) return uri.startsWith('file://') ? new URL(uri).pathname : uri;
  const name = `${createHash('sha256').update(uri).digest('hex').slice(0, 16)}.onnx`;
  const path = join(cacheDir, name);
  if (existsSync(path)) return path;
  await mkdir(cacheDir, { recursive: true });
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, await readUri(uri));
  await rename(partial, path);
  return path;
}
