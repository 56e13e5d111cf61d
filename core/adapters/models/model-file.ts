import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type onnxProto from 'onnx-proto';
import { InputError } from '../../compute/errors.js';
import { decodeModel, encodeModel, type ModelProto } from '../../compute/onnx/model.js';
import { modelDigestOf } from '../../compute/run/config.js';
import { readUri } from '../storage/blob.js';
import { isS3Uri } from '../storage/index.js';

/**
 * A local file for a model URI, since onnxruntime and the graph tools read files: the one way a worker,
 * `pure layers` and `pure report` open a model, so the digest is checked in one place.
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

/** A checkpoint overwritten after its run was configured: retrying cannot help, a new run can. */
export class ModelChangedError extends InputError {
  constructor(
    readonly uri: string,
    readonly found: string,
    readonly expected: string,
  ) {
    super(
      'ModelChanged',
      `the model at ${uri} changed since the run was configured (${found}, expected ${expected}); start a new run for the new checkpoint`,
    );
  }
}

/** Reads and decodes an ONNX file, with errors that name the file. */
export async function loadModel(path: string): Promise<ModelProto> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`cannot read ONNX model '${path}': ${(e as Error).message}`);
  }
  try {
    return decodeModel(bytes);
  } catch (e) {
    throw new Error(`'${path}' is not a valid ONNX model: ${(e as Error).message}`);
  }
}

export async function saveModel(model: onnxProto.onnx.IModelProto, path: string): Promise<void> {
  await writeFile(path, encodeModel(model));
}
