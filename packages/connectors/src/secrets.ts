import { FlyteError } from '@flyte/idl';
import { MissingSecretError } from './errors';

/** Where a run's secrets come from. */
export interface SecretSources {
  /** Secret values by name. */
  secrets?: Readonly<Record<string, string>> | undefined;
  /** Secret names to read from environment variables: `{ api_key: 'WAREHOUSE_API_KEY' }`. */
  secretEnv?: Readonly<Record<string, string>> | undefined;
  /** The environment to read `secretEnv` from; defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/**
 * Resolves the secrets a connector receives: the explicit map, then each named environment
 * variable.
 *
 * @throws MissingSecretError naming the secret and the variable (never a value) when an
 * environment variable is unset or empty.
 */
export function resolveSecrets(sources: SecretSources): Record<string, string> {
  const resolved: Record<string, string> = { ...sources.secrets };
  const env = sources.env ?? process.env;
  for (const [name, variable] of Object.entries(sources.secretEnv ?? {})) {
    const value = env[variable];
    if (value === undefined || value === '') {
      throw new MissingSecretError(
        `Secret "${name}" is read from environment variable ${variable}, which is not set. Set ${variable}, or pass the secret in the secrets map.`,
        { secret: name, environmentVariable: variable },
      );
    }
    resolved[name] = value;
  }
  return resolved;
}

/** What replaces a secret value wherever it would show. */
export const REDACTED = '[REDACTED]';

/** How deep {@link SecretRedactor.value} reads nested arrays and objects before replacing them whole. */
export const MAX_REDACTION_DEPTH = 64;

/**
 * Replaces every secret value in strings (and, deeply, in arrays and plain objects) with
 * {@link REDACTED}. Values are tried longest first, so a secret that contains another is
 * replaced whole.
 */
export class SecretRedactor {
  readonly #values: string[];

  /** @param secrets - The secrets to hide; empty values are ignored. */
  constructor(secrets: Readonly<Record<string, string>>) {
    this.#values = [...new Set(Object.values(secrets))]
      .filter((v) => v.length > 0)
      .sort((a, b) => b.length - a.length);
  }

  /** Whether there is anything to hide. */
  get active(): boolean {
    return this.#values.length > 0;
  }

  /** `text` with every secret value replaced. */
  text(text: string): string {
    let out = text;
    for (const value of this.#values)
      if (out.includes(value)) out = out.split(value).join(REDACTED);
    return out;
  }

  /**
   * A copy of a JSON-like value with secrets replaced in every string, keys included. Past
   * {@link MAX_REDACTION_DEPTH} levels of arrays and objects a nested value is replaced by
   * `[REDACTED]` whole: nothing is let through unread.
   */
  value<T>(value: T, depth = 0): T {
    if (!this.active) return value;
    if (typeof value === 'string') return this.text(value) as T;
    const isArray = Array.isArray(value);
    const isPlain =
      value !== null &&
      typeof value === 'object' &&
      Object.getPrototypeOf(value) === Object.prototype;
    if ((isArray || isPlain) && depth >= MAX_REDACTION_DEPTH) return REDACTED as T;
    if (isArray) return (value as unknown[]).map((v) => this.value(v, depth + 1)) as T;
    if (isPlain) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as object)) {
        // Defined, not assigned: a "__proto__" key stays a key.
        Object.defineProperty(out, this.text(k), {
          value: this.value(v, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out as T;
    }
    return value;
  }

  /**
   * Removes secrets from an error in place (message, stack, FlyteError details) and from its
   * `cause` chain, then returns it: a connector may have put a token in an error message.
   */
  error<E>(error: E): E {
    if (!this.active) return error;
    const seen = new Set<unknown>();
    for (let e: unknown = error; e instanceof Error && !seen.has(e); e = e.cause) {
      seen.add(e);
      e.message = this.text(e.message);
      if (e.stack) e.stack = this.text(e.stack);
      if (FlyteError.isInstance(e)) {
        Object.defineProperty(e, 'details', {
          value: Object.freeze(this.value({ ...e.details })),
          enumerable: true,
        });
      }
    }
    return error;
  }
}
