import { ApplicationFailure } from '@temporalio/common';
import { InputError } from '../core/compute/errors.js';

/**
 * The one place where errors become Temporal failures: an InputError (bad input, changed model) fails
 * the activity at once, without retries, with its kind as the failure type; any other error is rethrown
 * as it is and retried by the activity's retry policy.
 */
export function asTemporalFailure(error: unknown): unknown {
  if (error instanceof InputError) return ApplicationFailure.nonRetryable(error.message, error.kind);
  return error;
}
