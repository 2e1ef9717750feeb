import {
  type AnyObjectSchema,
  bytes,
  dataFrameRef,
  dirRef,
  duration,
  fileRef,
  LiteralConversionError,
} from '@flyte/idl';
import {
  BlobType_BlobDimensionality,
  type LiteralType,
  SimpleType,
  type TypedInterface,
} from '@flyte/idl/core';
import { z } from 'zod';

// The connector service receives a template's interface as flyteidl2 LiteralTypes, not zod
// schemas; these turn one into the other so @flyte/idl's conversion can do the work.

/**
 * The zod schema that decodes literals of a flyteidl2 `LiteralType` (integers become numbers,
 * structs plain objects, JSON-carrying binaries any JSON value).
 *
 * @throws LiteralConversionError for a literal type with no native counterpart here.
 */
export function schemaOfLiteralType(type: LiteralType | undefined, path: string): z.ZodType {
  const t = type?.type;
  switch (t?.case) {
    case 'simple':
      switch (t.value) {
        case SimpleType.STRING:
          return z.string();
        case SimpleType.INTEGER:
          return z.number().int();
        case SimpleType.FLOAT:
          return z.number();
        case SimpleType.BOOLEAN:
          return z.boolean();
        case SimpleType.DATETIME:
          return z.date();
        case SimpleType.DURATION:
          return duration();
        case SimpleType.STRUCT:
          return z.looseObject({});
        case SimpleType.BINARY:
          return z.unknown();
        default:
          break;
      }
      break;
    case 'collectionType':
      return z.array(schemaOfLiteralType(t.value, `${path}[]`));
    case 'mapValueType':
      return z.record(z.string(), schemaOfLiteralType(t.value, `${path}{}`));
    case 'enumType':
      if (t.value.values.length > 0) return z.enum(t.value.values as [string, ...string[]]);
      break;
    case 'blob':
      return t.value.dimensionality === BlobType_BlobDimensionality.MULTIPART
        ? dirRef()
        : fileRef();
    case 'structuredDatasetType':
      return dataFrameRef();
    case 'unionType': {
      const isNone = (v: LiteralType) =>
        v.type.case === 'simple' && v.type.value === SimpleType.NONE;
      const variants = t.value.variants
        .filter((v) => !isNone(v))
        .map((v, i) => schemaOfLiteralType(v, `${path}|${i}`));
      const nullable = t.value.variants.some(isNone);
      const [first, ...rest] = variants;
      if (!first) break;
      const union = rest.length === 0 ? first : z.union([first, ...rest]);
      return nullable ? union.nullable() : union;
    }
    default:
      break;
  }
  throw new LiteralConversionError(
    `${path}: the literal type ${t?.case ?? 'undefined'} is not supported by the TypeScript connector service.`,
    {
      path,
      expected: 'a supported flyteidl2 literal type',
      received: t?.case ?? 'undefined',
    },
  );
}

/** The zod object schema of a template's inputs, from its flyteidl2 `TypedInterface`. */
export function inputsSchemaOf(iface: TypedInterface | undefined): AnyObjectSchema {
  const shape: Record<string, z.ZodType> = {};
  for (const { key, value } of iface?.inputs?.variables ?? []) {
    shape[key] = schemaOfLiteralType(value?.type, `inputs.${key}`);
  }
  return z.object(shape);
}

/**
 * A zod schema that converts a native output value, chosen from the value itself (GetTask
 * carries no template, so the output types are not known): what flytekit's type guessing does.
 */
export function schemaOfValue(value: unknown): z.ZodType {
  if (typeof value === 'string') return z.string();
  if (typeof value === 'boolean') return z.boolean();
  if (typeof value === 'bigint') return z.bigint();
  if (typeof value === 'number') return Number.isSafeInteger(value) ? z.number().int() : z.number();
  if (value instanceof Date) return z.date();
  if (value instanceof Uint8Array) return bytes();
  if (Array.isArray(value))
    return z.array(value.length > 0 ? schemaOfValue(value[0]) : z.unknown());
  if (value !== null && typeof value === 'object') return z.looseObject({});
  return z.unknown();
}

/** The zod object schema of outputs, from their values. Undefined values are left out. */
export function outputsSchemaOf(outputs: Record<string, unknown>): AnyObjectSchema {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, value] of Object.entries(outputs))
    if (value !== undefined) shape[name] = schemaOfValue(value);
  return z.object(shape);
}
