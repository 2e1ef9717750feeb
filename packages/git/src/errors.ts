// @flyte/git depends on no other @flyte package (users install it alone), so it cannot extend
// FlyteError from @flyte/idl. GitError copies FlyteError's shape instead: `name`, `code`,
// `cause`, frozen `details` and the shared `Symbol.for('@flyte/error')` brand, so that
// `FlyteError.isInstance(error)` from @flyte/idl recognises it, and so does `GitError.isInstance`.
const FLYTE_ERROR_BRAND = Symbol.for('@flyte/error');

/** Options of a {@link GitError}. */
export interface GitErrorOptions {
  /** The error that caused this one. */
  cause?: unknown;
  /** Structured fields a program can read instead of parsing the message. */
  details?: Record<string, unknown>;
}

/**
 * The one error class thrown by `@flyte/git`. It is structurally a `FlyteError` (same fields, same
 * brand), so `FlyteError.isInstance` from `@flyte/idl` accepts it.
 *
 * Codes: `corrupt_index` (the index file cannot be parsed), `corrupt_repository` (a ref, a
 * `.git` file or an object cannot be read), `invalid_argument` (a caller passed a value this
 * package cannot use), `aborted` (the caller's `AbortSignal` fired).
 */
export class GitError extends Error {
  /** A stable, machine-readable code: what went wrong, independent of the wording. */
  readonly code: string;
  /** Structured fields that explain the failure (the offending path or value). */
  readonly details: Readonly<Record<string, unknown>>;

  /**
   * @param code - Stable machine-readable code, snake_case.
   * @param message - What was wrong, with which value, and what to do about it.
   * @param options - The cause and structured details.
   */
  constructor(code: string, message: string, options: GitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...options.details });
    Object.defineProperty(this, FLYTE_ERROR_BRAND, { value: true });
  }

  /**
   * Whether `value` is a GitError from any copy of this package (duplicate installs, worker
   * threads), checked by the shared brand and the class name rather than by `instanceof`.
   */
  static isInstance(value: unknown): value is GitError {
    if (typeof value !== 'object' || value === null) return false;
    if ((value as Record<symbol, unknown>)[FLYTE_ERROR_BRAND] !== true) return false;
    for (
      let proto = Object.getPrototypeOf(value);
      proto !== null;
      proto = Object.getPrototypeOf(proto)
    ) {
      if (proto.constructor?.name === this.name) return true;
    }
    return false;
  }
}

/** Throws a GitError with code `aborted` when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new GitError('aborted', `${what} was aborted by the caller's AbortSignal.`, {
      cause: signal.reason,
    });
  }
}
