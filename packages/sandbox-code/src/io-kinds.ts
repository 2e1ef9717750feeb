import { type AnyObjectSchema, flyteKinds, literalTypeOf } from '@flyte/idl';
import { BlobType_BlobDimensionality, type LiteralType, SimpleType } from '@flyte/idl/core';
import type { z } from 'zod';

/**
 * How one input or output travels as a file under /var/inputs or /var/outputs:
 *
 * | kind | file content |
 * | --- | --- |
 * | `string` | the text, UTF-8, as is |
 * | `integer`, `number` | decimal text |
 * | `boolean` | `true` or `false` |
 * | `datetime` | ISO 8601 text (a time without an offset is read as UTC) |
 * | `duration` | milliseconds, decimal text |
 * | `bytes` | the bytes |
 * | `json` | JSON text (objects, arrays, records, enums of other kinds, unions) |
 * | `file`, `dir` | the file itself, or the folder itself |
 */
export type IoKind =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'datetime'
  | 'duration'
  | 'bytes'
  | 'json'
  | 'file'
  | 'dir';

/** The kind of every field of an object schema, by name. */
export type IoManifest = Record<string, IoKind>;

/** Whether a value of this kind is a file or folder (passed as itself, not as its text). */
export function isPathKind(kind: IoKind): kind is 'file' | 'dir' {
  return kind === 'file' || kind === 'dir';
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` can be both a file name and a variable in python, javascript and bash. */
export function isIoName(name: string): boolean {
  return IDENTIFIER.test(name);
}

function kindOfType(type: LiteralType, schema: z.ZodType): IoKind {
  const t = type.type;
  switch (t.case) {
    case 'simple':
      switch (t.value) {
        case SimpleType.STRING:
          return 'string';
        case SimpleType.INTEGER:
          return 'integer';
        case SimpleType.FLOAT:
          return 'number';
        case SimpleType.BOOLEAN:
          return 'boolean';
        case SimpleType.DATETIME:
          return 'datetime';
        case SimpleType.DURATION:
          return 'duration';
        case SimpleType.BINARY:
          return flyteKinds.get(schema)?.flyteKind === 'bytes' ? 'bytes' : 'json';
        default:
          return 'json';
      }
    case 'blob':
      return t.value.dimensionality === BlobType_BlobDimensionality.MULTIPART ? 'dir' : 'file';
    case 'enumType':
      return 'string';
    case 'unionType': {
      // x.optional() / x.nullable(): the kind of x; an absent value is an absent file.
      const others = t.value.variants.filter(
        (v) => !(v.type.case === 'simple' && v.type.value === SimpleType.NONE),
      );
      const only = others[0];
      if (others.length === 1 && only) return kindOfType(only, unwrap(schema));
      return 'json';
    }
    default:
      return 'json';
  }
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let i = 0; i < 8; i++) {
    const def = (current as unknown as { _zod: { def: { type: string; innerType?: z.ZodType } } })
      ._zod.def;
    if (!def.innerType) return current;
    current = def.innerType;
  }
  return current;
}

/**
 * The kind of each field of `schema` (see {@link IoKind}).
 *
 * @throws the `UnsupportedSchemaError` of `literalTypeOf` for fields with no flyteidl2 type.
 */
export function manifestOf(schema: AnyObjectSchema, stage: 'inputs' | 'outputs'): IoManifest {
  const manifest: IoManifest = {};
  for (const [name, field] of Object.entries(schema.shape)) {
    const fieldSchema = field as z.ZodType;
    manifest[name] = kindOfType(literalTypeOf(fieldSchema, `${stage}.${name}`), fieldSchema);
  }
  return manifest;
}
