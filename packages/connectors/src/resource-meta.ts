import { zodIssueLines } from '@flyte/idl';
import type { z } from 'zod';
import { InvalidResourceMetaError } from './errors';

const encoder = new TextEncoder();
// fatal: invalid UTF-8 is an error, not silently replaced characters.
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes connector metadata as UTF-8 JSON bytes: the `resource_meta` encoding of flyte-sdk's
 * Python connectors (`json.dumps(asdict(meta)).encode("utf-8")`), so either side can decode it.
 *
 * @param connector - Named in the error when the value cannot be encoded.
 * @throws InvalidResourceMetaError when the metadata is not a JSON object (a bigint, a cycle).
 */
export function encodeResourceMeta(meta: unknown, connector: string): Uint8Array {
  let json: string | undefined;
  try {
    json = JSON.stringify(meta);
  } catch (cause) {
    throw new InvalidResourceMetaError(
      `Connector "${connector}": its resource metadata cannot be encoded as JSON (${(cause as Error).message}). Keep metadata to strings, numbers, booleans, arrays and plain objects.`,
      { connector },
      { cause },
    );
  }
  if (json === undefined || !json.startsWith('{')) {
    throw new InvalidResourceMetaError(
      `Connector "${connector}": resource metadata must be a JSON object, got ${json === undefined ? typeof meta : json.slice(0, 40)}. Return an object such as { jobId } from create().`,
      { connector },
    );
  }
  return encoder.encode(json);
}

/**
 * Decodes `resource_meta` bytes (UTF-8 JSON) and validates them with the connector's schema.
 *
 * @throws InvalidResourceMetaError naming the connector, saying whether the bytes were not
 * UTF-8, not JSON, or not the expected shape (with zod's issues).
 */
export function decodeResourceMeta<M>(
  bytes: Uint8Array,
  schema: z.ZodType<M>,
  connector: string,
): M {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (cause) {
    throw new InvalidResourceMetaError(
      `Connector "${connector}": resource_meta (${bytes.byteLength} bytes) is not UTF-8 text; it must be the UTF-8 JSON this connector's create() returned.`,
      { connector },
      { cause },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidResourceMetaError(
      `Connector "${connector}": resource_meta (${bytes.byteLength} bytes) is not JSON; it must be the UTF-8 JSON this connector's create() returned.`,
      { connector },
      { cause },
    );
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = zodIssueLines(result.error, 'meta');
    throw new InvalidResourceMetaError(
      `Connector "${connector}": resource_meta does not match its metadata schema: ${issues.join('; ')}. Was it created by another connector or an older version?`,
      { connector, issues },
      { cause: result.error },
    );
  }
  return result.data;
}
