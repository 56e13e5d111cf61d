/** An object that does not exist; `uri` is its full URI (`file:///abs/out/k` or `s3://bucket/prefix/k`). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  readonly uri: string;
  constructor(uri: string, options?: { cause?: unknown }) {
    super(`object not found: ${uri}`, options);
    this.uri = uri;
  }
}

export { InvalidKeyError } from '../../compute/run/keys.js';

/**
 * Any other failure of a back end, with the operation and the object's URI in the message. `permanent`
 * names failures that retrying cannot fix (denied credentials, a missing bucket, a read-only or full
 * disk): the activity layer fails them at once instead of retrying through the outage window.
 */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly uri: string;
  /** The HTTP status of an S3 failure, when the server answered. */
  readonly status: number | undefined;
  /** A short PascalCase kind when retrying cannot help (e.g. 'S3AccessDenied'); undefined otherwise. */
  readonly permanent: string | undefined;
  constructor(
    message: string,
    uri: string,
    options?: { cause?: unknown; status?: number; permanent?: string },
  ) {
    super(message, options);
    this.uri = uri;
    this.status = options?.status;
    this.permanent = options?.permanent;
  }
}

/** Local file-system errors that no retry fixes, with what to do about each. */
const PERMANENT_FS_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  ENOTDIR: 'a file stands where a folder should be',
};

/** The permanent kind of a local file-system error, if it is one (see StorageError.permanent). */
export function permanentFsError(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code in PERMANENT_FS_ERRORS ? `Local${code}` : undefined;
}

/** True for NotFoundError, also across module copies (checks the name, not the prototype). */
export function isNotFound(e: unknown): e is NotFoundError {
  return e instanceof NotFoundError || (e instanceof Error && e.name === 'NotFoundError');
}
