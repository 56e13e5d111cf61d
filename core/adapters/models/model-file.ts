import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type onnxProto from 'onnx-proto';
import { InputError } from '../../compute/errors.js';
import { decodeModel, encodeModel, type ModelProto } from '../../compute/onnx/model.js';
import { modelDigestOf } from '../../compute/run/config.js';
import { readUri } from '../storage/blob.js';
import { isS3Uri } from '../storage/index.js';

/** Cached models kept per host: the newest few, and none unused for longer than two weeks. */
const CACHE_KEEP = 16;
const CACHE_MAX_AGE_MS = 14 * 24 * 3600 * 1000;

/**
 * The per-user model cache: $PURE_MODEL_CACHE, else $XDG_CACHE_HOME/pure/models, else
 * ~/.cache/pure/models. Private (0700): a predictable path in a world-writable /tmp would let another
 * user plant a file that a worker then runs as the run's model.
 */
export function defaultModelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PURE_MODEL_CACHE) return env.PURE_MODEL_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pure', 'models');
}

/**
 * A local file for a model URI, since onnxruntime and the graph tools read files: the one way a worker,
 * `pure layers` and `pure report` open a model, so the digest is checked in one place.
 * - Without a digest: local paths as they are; s3:// objects downloaded into the cache (each time: with
 *   nothing to check a cached copy against, it is not trusted).
 * - With the run's digest: the bytes are checked against it and kept in the cache under (URI, digest);
 *   a cache hit is checked against the digest too (a truncated or replaced file is fetched again), so a
 *   long-lived worker never runs anything but the run's checkpoint.
 */
export async function localModelFile(
  uri: string,
  digest?: string,
  cacheDir = defaultModelCacheDir(),
): Promise<string> {
  if (!digest && !isS3Uri(uri)) return uri.startsWith('file://') ? new URL(uri).pathname : uri;
  const name = `${createHash('sha256')
    .update(`${uri}\n${digest ?? ''}`)
    .digest('hex')
    .slice(0, 16)}.onnx`;
  const path = join(cacheDir, name);
  if (digest && (await cachedCopyMatches(path, digest))) return path;
  const bytes = await readUri(uri);
  if (digest && modelDigestOf(bytes) !== digest) {
    throw new ModelChangedError(uri, modelDigestOf(bytes), digest);
  }
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const partial = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  await writeFile(partial, bytes, { mode: 0o600 });
  await rename(partial, path);
  await pruneCache(cacheDir, path).catch(() => undefined); // pruning is housekeeping, never fatal
  return path;
}

/** True when `path` holds exactly the bytes of `digest`; touches it, so pruning keeps what is used. */
async function cachedCopyMatches(path: string, digest: string): Promise<boolean> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    return false;
  }
  if (modelDigestOf(bytes) !== digest) return false;
  const now = new Date();
  await utimes(path, now, now).catch(() => undefined);
  return true;
}

/** Removes cached models unused for CACHE_MAX_AGE_MS, and all but the CACHE_KEEP most recently used. */
async function pruneCache(cacheDir: string, keep: string): Promise<void> {
  const files = await readdir(cacheDir);
  const dated = (names: string[]) =>
    Promise.all(
      names.map(async (f) => ({ path: join(cacheDir, f), mtime: (await stat(join(cacheDir, f))).mtimeMs })),
    );
  const models = (await dated(files.filter((f) => f.endsWith('.onnx')))).sort((a, b) => b.mtime - a.mtime);
  const now = Date.now();
  const stale = models.filter(
    (e, i) => e.path !== keep && (i >= CACHE_KEEP || now - e.mtime > CACHE_MAX_AGE_MS),
  );
  // A partial file may be another process's download in flight: only an old one is left over from a crash.
  stale.push(
    ...(await dated(files.filter((f) => f.endsWith('.partial')))).filter((e) => now - e.mtime > 3600_000),
  );
  await Promise.all(stale.map((e) => rm(e.path, { force: true })));
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
