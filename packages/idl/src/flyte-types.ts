import { z } from 'zod';

/** The flyteidl2 kinds that have no natural zod type of their own. */
export type FlyteKind = 'duration' | 'bytes' | 'file' | 'dir' | 'dataframe';

/**
 * Marks zod schemas that stand for a flyteidl2 kind zod cannot express by itself. Literal
 * conversion consults it before looking at the schema's zod type.
 */
export const flyteKinds = z.registry<{ flyteKind: FlyteKind }>();

/** A reference to a file or folder in blob storage (or a local path, for local runs). */
export interface BlobReference {
  /** Where the data lives: `s3://...`, `gs://...`, `file:///...` or a local path. */
  uri: string;
  /** Free-form format name (`csv`, `parquet`); empty when unknown. */
  format?: string | undefined;
}

const blobReference = () =>
  z.object({
    uri: z.string().min(1, 'a blob reference needs a non-empty uri'),
    format: z.string().optional(),
  });

/**
 * A duration, as a number of milliseconds (fractions allowed, down to nanoseconds). Converts
 * to a flyteidl2 `DURATION` literal.
 */
export function duration() {
  return z.number().finite().register(flyteKinds, { flyteKind: 'duration' });
}

/** Raw bytes, as a `Uint8Array` (a Node `Buffer` is one too): a flyteidl2 `BINARY` literal. */
export function bytes() {
  return z.instanceof(Uint8Array).register(flyteKinds, { flyteKind: 'bytes' });
}

/** A single file in blob storage: a flyteidl2 blob literal with `SINGLE` dimensionality. */
export function fileRef() {
  return blobReference().register(flyteKinds, { flyteKind: 'file' });
}

/** A folder in blob storage: a flyteidl2 blob literal with `MULTIPART` dimensionality. */
export function dirRef() {
  return blobReference().register(flyteKinds, { flyteKind: 'dir' });
}

/** A data frame stored at a URI: a flyteidl2 structured dataset literal. */
export function dataFrameRef() {
  return blobReference().register(flyteKinds, { flyteKind: 'dataframe' });
}
