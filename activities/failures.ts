import { ApplicationFailure } from '@temporalio/common';
import { NotFoundError, StorageError } from '../core/adapters/storage/errors.js';
import { InputError } from '../core/compute/errors.js';

/**
 * The one place where errors become Temporal failures (docs/reliability.md). Fail at once, without
 * retries, with a kind as the failure type: an InputError (bad input, changed model) and a permanent
 * storage failure (denied credentials, a missing bucket, a read-only or full disk; the HTTP status is in
 * the message). Anything else (a refused or reset connection, a timeout, a 5xx, throttling, a killed
 * worker) is rethrown as it is and retried with backoff through the outage window.
 */
export function asTemporalFailure(error: unknown): unknown {
  if (error instanceof InputError) return ApplicationFailure.nonRetryable(error.message, error.kind);
  // A part an earlier stage wrote (the workflow only moves on once it is written) is gone: the run's
  // output was deleted or moved under a running sweep. Retrying cannot bring it back.
  if (error instanceof NotFoundError) {
    return ApplicationFailure.nonRetryable(
      `${error.message}: a file an earlier stage of this run wrote is gone (was the run's output deleted or ` +
        'moved while its sweep ran?); run the same command again to start it over',
      'MissingPart',
    );
  }
  if (error instanceof StorageError && error.permanent) {
    return ApplicationFailure.nonRetryable(error.message, error.permanent);
  }
  return error;
}
