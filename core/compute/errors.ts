/**
 * Errors that retrying cannot fix: a bad option, an unreadable dataset, a model that changed under a
 * run. Stages throw them with a kind; the activity layer turns every one into a non-retryable Temporal
 * failure of that kind (activities/failures.ts), so a user sees the message at once instead of after
 * five retries. Everything else (a network blip, a killed worker) stays retryable.
 */
export class InputError extends Error {
  constructor(
    /** A short PascalCase name, e.g. 'InvalidConfig'; Temporal reports it as the failure's type. */
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = kind;
  }
}

/** Runs `work`; whatever it throws becomes an InputError of `kind` (an InputError keeps its own kind). */
export async function asInputError<T>(kind: string, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(kind, error instanceof Error ? error.message : String(error));
  }
}
