import { isAbsolute, resolve } from 'node:path';
import type { SweepConfig } from '../../compute/run/config.js';
import { runUri } from '../../compute/run/layout.js';
import { InvalidKeyError } from './errors.js';
import { ensureLocalRoot, LocalStore } from './local.js';
import { S3Store } from './s3.js';
import type { ObjectStore, S3Options } from './types.js';

export {
  compareKeys,
  escapeKeySegment,
  joinKey,
  normalizePrefix,
  unescapeKeySegment,
  validateKey,
} from '../../compute/run/keys.js';
export { InvalidKeyError, isNotFound, NotFoundError, StorageError } from './errors.js';
export { LocalStore } from './local.js';
export { parseS3Uri, type ResolvedS3Options, resolveS3Options, S3Store } from './s3.js';
export type { ObjectStore, PutOptions, S3Options } from './types.js';

/** True for 's3://...' URIs. */
export function isS3Uri(uri: string): boolean {
  return uri.startsWith('s3://');
}

/**
 * The local folder a local store URI names: 'file:///abs' (taken literally, not percent-decoded, so escaped key
 * segments such as 'layer=%2Fa' stay as they are), '/abs', or a path relative to the working directory.
 */
export function localRootOf(uri: string): string {
  if (uri.startsWith('file://')) {
    let rest = uri.slice('file://'.length);
    if (rest.startsWith('localhost/')) rest = rest.slice('localhost'.length);
    if (!rest.startsWith('/')) {
      throw new InvalidKeyError(`file URIs must be absolute (file:///abs/path), got ${JSON.stringify(uri)}`);
    }
    return resolve(rest);
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(uri);
  if (scheme) {
    throw new InvalidKeyError(
      `unsupported storage URI scheme '${scheme[1]}:' in ${JSON.stringify(uri)} (use a path, file:///abs/path or s3://bucket/prefix)`,
    );
  }
  if (uri === '') throw new InvalidKeyError('empty storage URI');
  return isAbsolute(uri) ? resolve(uri) : resolve(process.cwd(), uri);
}

/**
 * Opens the store rooted at `uri`: 's3://bucket/prefix' -> S3 (options default from the environment, see
 * S3Options); 'file:///x', '/abs/path' or 'relative/path' -> a local folder. Opening does no I/O.
 */
export function openStore(uri: string, opts?: S3Options): ObjectStore {
  if (isS3Uri(uri)) return new S3Store(uri, opts);
  return new LocalStore(localRootOf(uri));
}

/**
 * Makes sure the store's container exists: for S3 the bucket (created when missing; an existing bucket of ours
 * is fine), for a local store the root folder.
 */
export async function ensureBucket(uri: string, opts?: S3Options): Promise<void> {
  if (isS3Uri(uri)) {
    await new S3Store(uri, opts).ensureBucket();
    return;
  }
  await ensureLocalRoot(localRootOf(uri));
}

/** The store of one run: `<out>/<run>/`, where every stage reads and writes its parts. */
export function runStore(config: Pick<SweepConfig, 'outUri' | 'runId'>): ObjectStore {
  return openStore(runUri(config.outUri, config.runId));
}
