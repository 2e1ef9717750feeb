const FLYTE_ERROR_BRAND = Symbol.for('@flyte/error');

/** Options shared by every {@link FlyteError}. */
export interface FlyteErrorOptions {
  /** The error that caused this one, kept for the stack and for `instanceof` checks upstream. */
  cause?: unknown;
  /** Structured fields a program can read instead of parsing the message. */
  details?: Record<string, unknown>;
}

/**
 * The base of every error thrown by a `@flyte/*` package.
 *
 * Each package subclasses it once per failure kind, in its own `errors.ts`. `code` is a stable,
 * machine-readable identifier (for example `"literal_mismatch"`); `details` carries the values
 * that explain the failure. Use {@link FlyteError.isInstance} rather than `instanceof` when a
 * value may come from another copy of this package (duplicate installs, worker threads).
 */
export class FlyteError extends Error {
  /** A stable, machine-readable code: what went wrong, independent of the wording. */
  readonly code: string;
  /** Structured fields that explain the failure (the offending value, a path, a limit). */
  readonly details: Readonly<Record<string, unknown>>;

  /**
   * @param code - Stable machine-readable code, snake_case.
   * @param message - What was wrong, with which value, and what to do about it.
   * @param options - The cause and structured details.
   */
  constructor(code: string, message: string, options: FlyteErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...options.details });
    Object.defineProperty(this, FLYTE_ERROR_BRAND, { value: true });
  }

  /**
   * Whether `value` is a FlyteError from any copy of the `@flyte/*` packages. Called on a
   * subclass, it also checks the subclass by name (a class from another copy is a different
   * object, but keeps its name).
   */
  static isInstance(value: unknown): value is FlyteError {
    if (typeof value !== 'object' || value === null) return false;
    if ((value as Record<symbol, unknown>)[FLYTE_ERROR_BRAND] !== true) return false;
    if (this === FlyteError) return true;
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

/**
 * A value did not match the schema it was converted with, or a literal did not match its type.
 * `details.path` is where in the value (for example `inputs.rows[3].id`), `details.expected` the
 * type that was wanted, `details.received` a short rendering of what was there.
 */
export class LiteralConversionError extends FlyteError {
  constructor(
    message: string,
    details: { path: string; expected: string; received?: string },
    options: Omit<FlyteErrorOptions, 'details'> = {},
  ) {
    super('literal_conversion', message, { ...options, details });
  }
}

/** A schema uses a zod feature that has no flyteidl2 literal type (for example a function). */
export class UnsupportedSchemaError extends FlyteError {
  constructor(message: string, details: { path: string; schemaType: string }) {
    super('unsupported_schema', message, { details });
  }
}
