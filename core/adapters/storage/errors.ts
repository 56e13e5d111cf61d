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

/** Any other failure of a back end, with the operation and the object's URI in the message. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly uri: string;
  constructor(message: string, uri: string, options?: { cause?: unknown }) {
    super(message, options);
    this.uri = uri;
  }
}

/** True for NotFoundError, also across module copies (checks the name, not the prototype). */
export function isNotFound(e: unknown): e is NotFoundError {
  return e instanceof NotFoundError || (e instanceof Error && e.name === 'NotFoundError');
}
