import {
  clone,
  create,
  equals,
  type JsonObject,
  type JsonValue,
  type MessageInitShape,
} from '@bufbuild/protobuf';
import {
  type Duration as DurationMessage,
  DurationSchema,
  timestampDate,
  timestampFromDate,
} from '@bufbuild/protobuf/wkt';
import { z } from 'zod';
import {
  BlobType_BlobDimensionality,
  type Literal,
  LiteralSchema,
  type LiteralType,
  LiteralTypeSchema,
  type PrimitiveSchema,
  type ScalarSchema,
  SimpleType,
  type TypedInterface,
  TypedInterfaceSchema,
  type Variable,
} from './core';
import { LiteralConversionError, UnsupportedSchemaError } from './errors';
import { type FlyteKind, flyteKinds } from './flyte-types';
import { type Inputs, InputsSchema, type Outputs, OutputsSchema } from './task';

/** Any zod object schema: the shape of a task's inputs or outputs. */
export type AnyObjectSchema = z.ZodObject<z.ZodRawShape>;

/** A task's typed interface: named inputs and named outputs, each a zod object schema. */
export interface TaskInterface<
  I extends AnyObjectSchema = AnyObjectSchema,
  O extends AnyObjectSchema = AnyObjectSchema,
> {
  inputs: I;
  outputs: O;
}

// The binary tags this package writes; Flyte treats the tag as an opaque format name.
const BYTES_TAG = 'bytes';
const JSON_TAG = 'json';

type Described =
  | { kind: 'string' | 'float' | 'integer' | 'bigint' | 'boolean' | 'datetime' | 'json' }
  | { kind: 'duration' | 'bytes' | 'file' | 'dir' | 'dataframe' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'array'; element: z.ZodType }
  | { kind: 'record'; value: z.ZodType }
  | { kind: 'object'; shape: Record<string, z.ZodType> }
  | { kind: 'empty-able'; inner: z.ZodType; empty: null | undefined }
  | { kind: 'union'; options: z.ZodType[] };

// zod's own definition object; the documented way for libraries to look inside a schema.
type Def = { type: string } & Record<string, unknown>;
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

function describe(schema: z.ZodType, path: string): Described {
  const kind: FlyteKind | undefined = flyteKinds.get(schema)?.flyteKind;
  if (kind) return { kind };
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return { kind: 'string' };
    case 'number': {
      const format = (schema as unknown as { format?: string | null }).format;
      return { kind: format && /int/.test(format) ? 'integer' : 'float' };
    }
    case 'bigint':
      return { kind: 'bigint' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'date':
      return { kind: 'datetime' };
    case 'any':
    case 'unknown':
      return { kind: 'json' };
    case 'enum': {
      const values = Object.values(def.entries as Record<string, unknown>);
      if (values.every((v) => typeof v === 'string'))
        return { kind: 'enum', values: values as string[] };
      break;
    }
    case 'literal': {
      const values = def.values as unknown[];
      if (values.every((v) => typeof v === 'string'))
        return { kind: 'enum', values: values as string[] };
      break;
    }
    case 'array':
      return { kind: 'array', element: def.element as z.ZodType };
    case 'record': {
      const keyType = defOf(def.keyType as z.ZodType).type;
      if (keyType === 'string') return { kind: 'record', value: def.valueType as z.ZodType };
      break;
    }
    case 'object':
      return { kind: 'object', shape: def.shape as Record<string, z.ZodType> };
    case 'optional':
    case 'nullable': {
      // optional(nullable(x)) and friends collapse into one "may be empty" layer.
      let inner = def.innerType as z.ZodType;
      let empty: null | undefined = def.type === 'nullable' ? null : undefined;
      for (let d = defOf(inner); d.type === 'optional' || d.type === 'nullable'; d = defOf(inner)) {
        if (d.type === 'nullable') empty = null;
        inner = d.innerType as z.ZodType;
      }
      return { kind: 'empty-able', inner, empty };
    }
    case 'union':
      return { kind: 'union', options: def.options as z.ZodType[] };
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return describe(def.innerType as z.ZodType, path);
    case 'lazy':
      return describe((def.getter as () => z.ZodType)(), path);
    case 'pipe':
      if (defOf(def.out as z.ZodType).type !== 'transform')
        return describe(def.out as z.ZodType, path);
      throw new UnsupportedSchemaError(
        `${path}: a .transform() has no flyteidl2 type. Convert the value before or after the task, or describe its result with .pipe(schema).`,
        { path, schemaType: 'transform' },
      );
  }
  throw new UnsupportedSchemaError(
    `${path}: zod type "${def.type}" has no flyteidl2 literal type. Use strings, numbers, booleans, bigints, dates, arrays, string-keyed records, objects, string enums, unions, optional/nullable values or the helpers duration(), bytes(), fileRef(), dirRef(), dataFrameRef().`,
    { path, schemaType: def.type },
  );
}

/**
 * The flyteidl2 `LiteralType` a zod schema converts to.
 *
 * | zod | flyteidl2 |
 * | --- | --- |
 * | `z.string()` / `z.number()` / `z.number().int()`, `z.bigint()` / `z.boolean()` / `z.date()` | simple STRING / FLOAT / INTEGER / BOOLEAN / DATETIME |
 * | `duration()` / `bytes()` | simple DURATION / BINARY |
 * | `z.array(x)` / `z.record(z.string(), x)` | collection / map |
 * | `z.object({...})` | simple STRUCT (JSON Schema in `metadata`) |
 * | `z.enum([...])` of strings | enum |
 * | `x.optional()` / `x.nullable()` | union of x and NONE |
 * | `z.union([...])` | union |
 * | `fileRef()` / `dirRef()` / `dataFrameRef()` | blob SINGLE / blob MULTIPART / structured dataset |
 * | `z.unknown()` / `z.any()` | simple BINARY holding JSON |
 *
 * @throws UnsupportedSchemaError for zod types with no flyteidl2 counterpart (functions, maps, transforms...).
 */
export function literalTypeOf(schema: z.ZodType, path = 'value'): LiteralType {
  // Encoding an optional or union value embeds its type; an object's type carries its JSON
  // Schema. Computing those once per schema keeps them off the per-value path.
  let type = literalTypes.get(schema);
  if (!type) {
    type = computeLiteralType(schema, path);
    literalTypes.set(schema, type);
  }
  return clone(LiteralTypeSchema, type);
}

const literalTypes = new WeakMap<z.ZodType, LiteralType>();

function computeLiteralType(schema: z.ZodType, path: string): LiteralType {
  const d = describe(schema, path);
  const simple = (simple: SimpleType) =>
    create(LiteralTypeSchema, { type: { case: 'simple', value: simple } });
  switch (d.kind) {
    case 'string':
      return simple(SimpleType.STRING);
    case 'float':
      return simple(SimpleType.FLOAT);
    case 'integer':
    case 'bigint':
      return simple(SimpleType.INTEGER);
    case 'boolean':
      return simple(SimpleType.BOOLEAN);
    case 'datetime':
      return simple(SimpleType.DATETIME);
    case 'duration':
      return simple(SimpleType.DURATION);
    case 'bytes':
    case 'json':
      return simple(SimpleType.BINARY);
    case 'file':
    case 'dir':
      return create(LiteralTypeSchema, {
        type: {
          case: 'blob',
          value: {
            dimensionality:
              d.kind === 'file'
                ? BlobType_BlobDimensionality.SINGLE
                : BlobType_BlobDimensionality.MULTIPART,
          },
        },
      });
    case 'dataframe':
      return create(LiteralTypeSchema, { type: { case: 'structuredDatasetType', value: {} } });
    case 'enum':
      return create(LiteralTypeSchema, { type: { case: 'enumType', value: { values: d.values } } });
    case 'array':
      return create(LiteralTypeSchema, {
        type: { case: 'collectionType', value: literalTypeOf(d.element, `${path}[]`) },
      });
    case 'record':
      return create(LiteralTypeSchema, {
        type: { case: 'mapValueType', value: literalTypeOf(d.value, `${path}{}`) },
      });
    case 'object': {
      for (const [key, field] of Object.entries(d.shape)) toJsonValueCheck(field, `${path}.${key}`);
      const type = simple(SimpleType.STRUCT);
      const metadata = jsonSchemaOf(schema);
      if (metadata) type.metadata = metadata;
      return type;
    }
    case 'empty-able':
      return unionType([literalTypeOf(d.inner, path), noneType()]);
    case 'union':
      return unionType(d.options.map((option, i) => literalTypeOf(option, `${path}|${i}`)));
  }
}

// Objects travel as JSON: every field must have a JSON form, which describe() checks.
function toJsonValueCheck(schema: z.ZodType, path: string): void {
  const d = describe(schema, path);
  if (d.kind === 'array') toJsonValueCheck(d.element, `${path}[]`);
  else if (d.kind === 'record') toJsonValueCheck(d.value, `${path}{}`);
  else if (d.kind === 'object')
    for (const [k, f] of Object.entries(d.shape)) toJsonValueCheck(f, `${path}.${k}`);
  else if (d.kind === 'empty-able') toJsonValueCheck(d.inner, path);
  else if (d.kind === 'union') {
    for (const [i, option] of d.options.entries()) toJsonValueCheck(option, `${path}|${i}`);
  }
}

function jsonSchemaOf(schema: z.ZodType): JsonObject | undefined {
  try {
    return z.toJSONSchema(schema, { unrepresentable: 'any', io: 'output' }) as JsonObject;
  } catch {
    // Cyclic or exotic schemas: the type stays STRUCT, only the documentation is lost.
    return undefined;
  }
}

const noneType = () =>
  create(LiteralTypeSchema, { type: { case: 'simple', value: SimpleType.NONE } });
const unionType = (variants: LiteralType[]) =>
  create(LiteralTypeSchema, { type: { case: 'unionType', value: { variants } } });

/**
 * Converts a native value to a flyteidl2 `Literal`, after checking it against `schema`.
 *
 * @param path - How the value is named in error messages (for example `inputs.rows`).
 * @throws LiteralConversionError naming the path, the expected type and the value when the
 * value does not match the schema.
 */
export function toLiteral(value: unknown, schema: z.ZodType, path = 'value'): Literal {
  return encode(parseOrThrow(schema, value, path), schema, path);
}

/**
 * Converts a flyteidl2 `Literal` back to a native value described by `schema`, and checks the
 * result against the schema.
 *
 * @throws LiteralConversionError when the literal's kind does not fit the schema, or the decoded
 * value breaks one of its rules.
 */
export function fromLiteral<S extends z.ZodType>(
  literal: Literal,
  schema: S,
  path = 'value',
): z.output<S> {
  return parseOrThrow(schema, decode(literal, schema, path), path) as z.output<S>;
}

function parseOrThrow(schema: z.ZodType, value: unknown, path: string): unknown {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = [
    path,
    ...(issue?.path ?? []).map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)),
  ].join('');
  const received = render(valueAt(value, issue?.path ?? []));
  // A type mismatch says it all in "expected X, received Y"; other rules add zod's wording.
  const expected = issue && 'expected' in issue ? String(issue.expected) : 'a valid value';
  const rule = issue && issue.code !== 'invalid_type' ? ` (${issue.message})` : '';
  throw new LiteralConversionError(
    `${where}: expected ${expected}, received ${received}${rule}`,
    { path: where, expected, received },
    { cause: result.error },
  );
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** A short, safe rendering of a value for error messages. */
function render(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n (bigint)`;
  if (value instanceof Date)
    return `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  if (value instanceof Uint8Array) return `Uint8Array(${value.byteLength} bytes)`;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  return `${text} (${type})`;
}

function mismatch(path: string, expected: string, received: unknown): LiteralConversionError {
  return new LiteralConversionError(`${path}: expected ${expected}, received ${render(received)}`, {
    path,
    expected,
    received: render(received),
  });
}

const literalOf = (init: MessageInitShape<typeof LiteralSchema>) => create(LiteralSchema, init);
const scalar = (value: NonNullable<MessageInitShape<typeof ScalarSchema>['value']>) =>
  literalOf({ value: { case: 'scalar', value: { value } } });
const primitive = (value: NonNullable<MessageInitShape<typeof PrimitiveSchema>['value']>) =>
  scalar({ case: 'primitive', value: { value } });
const noneLiteral = () => scalar({ case: 'noneType', value: {} });

// Ranges the protobuf well-known types allow; Flyte's Go services reject values outside them.
const TIMESTAMP_MIN = new Date('0001-01-01T00:00:00Z');
const TIMESTAMP_MAX = new Date('9999-12-31T23:59:59.999Z');
const DURATION_MAX_MS = 315_576_000_000_000;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function encode(value: unknown, schema: z.ZodType, path: string): Literal {
  const d = describe(schema, path);
  switch (d.kind) {
    case 'string':
      if (typeof value !== 'string') throw mismatch(path, 'string', value);
      return primitive({ case: 'stringValue', value });
    case 'enum':
      if (typeof value !== 'string' || !d.values.includes(value))
        throw mismatch(path, `one of ${d.values.join(', ')}`, value);
      return primitive({ case: 'stringValue', value });
    case 'float':
      if (typeof value !== 'number') throw mismatch(path, 'number', value);
      return primitive({ case: 'floatValue', value });
    case 'integer':
      if (!Number.isSafeInteger(value)) throw mismatch(path, 'integer', value);
      return primitive({ case: 'integer', value: BigInt(value as number) });
    case 'bigint':
      if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX)
        throw mismatch(path, '64-bit integer', value);
      return primitive({ case: 'integer', value });
    case 'boolean':
      if (typeof value !== 'boolean') throw mismatch(path, 'boolean', value);
      return primitive({ case: 'boolean', value });
    case 'datetime':
      if (!(value instanceof Date) || !(value >= TIMESTAMP_MIN && value <= TIMESTAMP_MAX)) {
        throw mismatch(
          path,
          'valid Date between years 1 and 9999 (the protobuf Timestamp range)',
          value,
        );
      }
      return primitive({ case: 'datetime', value: timestampFromDate(value) });
    case 'duration':
      if (typeof value !== 'number' || !(Math.abs(value) <= DURATION_MAX_MS)) {
        throw mismatch(
          path,
          'duration in milliseconds within ±10,000 years (the protobuf Duration range)',
          value,
        );
      }
      return primitive({ case: 'duration', value: durationFromMillis(value) });
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw mismatch(path, 'Uint8Array', value);
      return scalar({ case: 'binary', value: { value: new Uint8Array(value), tag: BYTES_TAG } });
    case 'json': {
      const json = JSON.stringify(value);
      if (json === undefined) throw mismatch(path, 'JSON value', value);
      return scalar({
        case: 'binary',
        value: { value: new TextEncoder().encode(json), tag: JSON_TAG },
      });
    }
    case 'file':
    case 'dir': {
      const ref = value as { uri: string; format?: string };
      const dimensionality =
        d.kind === 'file'
          ? BlobType_BlobDimensionality.SINGLE
          : BlobType_BlobDimensionality.MULTIPART;
      return scalar({
        case: 'blob',
        value: { uri: ref.uri, metadata: { type: { format: ref.format ?? '', dimensionality } } },
      });
    }
    case 'dataframe': {
      const ref = value as { uri: string; format?: string };
      return scalar({
        case: 'structuredDataset',
        value: { uri: ref.uri, metadata: { structuredDatasetType: { format: ref.format ?? '' } } },
      });
    }
    case 'array':
      if (!Array.isArray(value)) throw mismatch(path, 'array', value);
      return literalOf({
        value: {
          case: 'collection',
          value: { literals: value.map((v, i) => encode(v, d.element, `${path}[${i}]`)) },
        },
      });
    case 'record': {
      if (!isPlainObject(value)) throw mismatch(path, 'record', value);
      const literals: Record<string, Literal> = {};
      for (const [k, v] of Object.entries(value)) literals[k] = encode(v, d.value, `${path}.${k}`);
      return literalOf({ value: { case: 'map', value: { literals } } });
    }
    case 'object':
      if (!isPlainObject(value)) throw mismatch(path, 'object', value);
      return scalar({ case: 'generic', value: toJson(value, schema, path) as JsonObject });
    case 'empty-able': {
      const isEmpty = value === undefined || value === null;
      const inner = isEmpty ? noneLiteral() : encode(value, d.inner, path);
      const type = isEmpty ? noneType() : literalTypeOf(d.inner, path);
      return scalar({ case: 'union', value: { value: inner, type } });
    }
    case 'union': {
      const index = d.options.findIndex((option) => option.safeParse(value).success);
      const option = d.options[index];
      if (!option) throw mismatch(path, `one of ${d.options.length} union variants`, value);
      return scalar({
        case: 'union',
        value: { value: encode(value, option, path), type: literalTypeOf(option, path) },
      });
    }
  }
}

function decode(literal: Literal, schema: z.ZodType, path: string): unknown {
  const d = describe(schema, path);
  const lit = literal.value;
  const sc = lit.case === 'scalar' ? lit.value.value : undefined;
  const prim = sc?.case === 'primitive' ? sc.value.value : undefined;
  const fail = (expected: string): never => {
    throw new LiteralConversionError(
      `${path}: expected a ${expected} literal, received ${describeLiteral(literal)}`,
      {
        path,
        expected,
        received: describeLiteral(literal),
      },
    );
  };
  // A union wrapper around a non-union schema (or a none for an empty-able one) is unwrapped.
  if (sc?.case === 'union' && d.kind !== 'union' && d.kind !== 'empty-able') {
    return sc.value.value ? decode(sc.value.value, schema, path) : fail('union value');
  }
  switch (d.kind) {
    case 'string':
    case 'enum':
      return prim?.case === 'stringValue' ? prim.value : fail('string');
    case 'float':
      if (prim?.case === 'floatValue') return prim.value;
      // Integers are valid floats; Flyte engines may narrow whole numbers.
      return prim?.case === 'integer' ? Number(prim.value) : fail('float');
    case 'integer':
      if (prim?.case !== 'integer') return fail('integer');
      if (
        prim.value > BigInt(Number.MAX_SAFE_INTEGER) ||
        prim.value < BigInt(Number.MIN_SAFE_INTEGER)
      ) {
        throw mismatch(
          path,
          'integer within Number.MAX_SAFE_INTEGER (use z.bigint() for larger ones)',
          prim.value,
        );
      }
      return Number(prim.value);
    case 'bigint':
      return prim?.case === 'integer' ? prim.value : fail('integer');
    case 'boolean':
      return prim?.case === 'boolean' ? prim.value : fail('boolean');
    case 'datetime':
      return prim?.case === 'datetime' ? timestampDate(prim.value) : fail('datetime');
    case 'duration':
      return prim?.case === 'duration' ? millisFromDuration(prim.value) : fail('duration');
    case 'bytes':
      return sc?.case === 'binary' ? new Uint8Array(sc.value.value) : fail('binary');
    case 'json':
      if (sc?.case === 'binary' && sc.value.tag === JSON_TAG)
        return JSON.parse(new TextDecoder().decode(sc.value.value));
      // Accept a Struct too: that is how other SDKs send untyped objects.
      return sc?.case === 'generic' ? sc.value : fail(`binary (tag "${JSON_TAG}")`);
    case 'file':
    case 'dir': {
      if (sc?.case !== 'blob') return fail('blob');
      const format = sc.value.metadata?.type?.format;
      return { uri: sc.value.uri, ...(format ? { format } : {}) };
    }
    case 'dataframe': {
      if (sc?.case !== 'structuredDataset') return fail('structured dataset');
      const format = sc.value.metadata?.structuredDatasetType?.format;
      return { uri: sc.value.uri, ...(format ? { format } : {}) };
    }
    case 'array':
      return lit.case === 'collection'
        ? lit.value.literals.map((l, i) => decode(l, d.element, `${path}[${i}]`))
        : fail('collection');
    case 'record': {
      if (lit.case !== 'map') return fail('map');
      const out: Record<string, unknown> = {};
      for (const [k, l] of Object.entries(lit.value.literals))
        out[k] = decode(l, d.value, `${path}.${k}`);
      return out;
    }
    case 'object':
      return sc?.case === 'generic' ? fromJson(sc.value, schema, path) : fail('struct');
    case 'empty-able': {
      const inner = sc?.case === 'union' ? sc.value.value : literal;
      if (!inner || (inner.value.case === 'scalar' && inner.value.value.value.case === 'noneType'))
        return d.empty;
      return decode(inner, d.inner, path);
    }
    case 'union': {
      if (sc?.case !== 'union' || !sc.value.value) return fail('union');
      const stored = sc.value.type;
      const inner = sc.value.value;
      // Prefer the variant whose type was stored with the value; else the first that decodes.
      const ordered = stored
        ? [...d.options].sort(
            (a, b) => Number(sameType(b, stored, path)) - Number(sameType(a, stored, path)),
          )
        : d.options;
      for (const option of ordered) {
        try {
          const value = decode(inner, option, path);
          if (option.safeParse(value).success) return value;
        } catch {
          // try the next variant
        }
      }
      return fail(`union of ${d.options.length} variants`);
    }
  }
}

function sameType(schema: z.ZodType, type: LiteralType, path: string): boolean {
  const own = literalTypeOf(schema, path);
  // Metadata (JSON Schema) is documentation; compare the structure only.
  delete own.metadata;
  const other = create(LiteralTypeSchema, type);
  delete other.metadata;
  return equals(LiteralTypeSchema, own, other);
}

function describeLiteral(literal: Literal): string {
  const lit = literal.value;
  if (lit.case !== 'scalar') return lit.case ?? 'an empty literal';
  const sc = lit.value.value;
  if (sc.case === 'primitive') return `primitive ${sc.value.value.case ?? 'empty'}`;
  return sc.case ?? 'an empty scalar';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function durationFromMillis(ms: number): DurationMessage {
  const totalNanos = BigInt(Math.round(ms * 1e6));
  // Protobuf durations keep seconds and nanos with the same sign.
  return create(DurationSchema, {
    seconds: totalNanos / 1_000_000_000n,
    nanos: Number(totalNanos % 1_000_000_000n),
  });
}

function millisFromDuration(duration: DurationMessage): number {
  return Number(duration.seconds) * 1000 + duration.nanos / 1e6;
}

// --- JSON form of values inside objects (google.protobuf.Struct) ----------------------------

function toJson(value: unknown, schema: z.ZodType, path: string): JsonValue {
  const d = describe(schema, path);
  switch (d.kind) {
    case 'string':
    case 'enum':
    case 'boolean':
    case 'json':
      return value as JsonValue;
    case 'float':
    case 'integer':
    case 'duration':
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw mismatch(path, 'finite number (objects travel as JSON)', value);
      return value;
    case 'bigint':
      return String(value);
    case 'datetime':
      if (!(value instanceof Date) || !(value >= TIMESTAMP_MIN && value <= TIMESTAMP_MAX)) {
        throw mismatch(path, 'valid Date between years 1 and 9999', value);
      }
      return value.toISOString();
    case 'bytes':
      return Buffer.from(value as Uint8Array).toString('base64');
    case 'file':
    case 'dir':
    case 'dataframe': {
      const ref = value as { uri: string; format?: string };
      return ref.format === undefined ? { uri: ref.uri } : { uri: ref.uri, format: ref.format };
    }
    case 'array':
      return (value as unknown[]).map((v, i) => toJson(v, d.element, `${path}[${i}]`));
    case 'record':
    case 'object': {
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined) continue;
        const field = d.kind === 'record' ? d.value : d.shape[k];
        // Unknown keys survive only when the schema lets them through (passthrough/loose).
        out[k] = field ? toJson(v, field, `${path}.${k}`) : (v as JsonValue);
      }
      return out;
    }
    case 'empty-able':
      return value === undefined || value === null ? null : toJson(value, d.inner, path);
    case 'union': {
      const option = d.options.find((o) => o.safeParse(value).success);
      if (!option) throw mismatch(path, `one of ${d.options.length} union variants`, value);
      return toJson(value, option, path);
    }
  }
}

function fromJson(json: JsonValue | undefined, schema: z.ZodType, path: string): unknown {
  const d = describe(schema, path);
  switch (d.kind) {
    case 'bigint':
      return typeof json === 'string' && /^-?\d+$/.test(json) ? BigInt(json) : json;
    case 'datetime':
      return typeof json === 'string' ? new Date(json) : json;
    case 'bytes':
      return typeof json === 'string' ? new Uint8Array(Buffer.from(json, 'base64')) : json;
    case 'array':
      return Array.isArray(json)
        ? json.map((v, i) => fromJson(v, d.element, `${path}[${i}]`))
        : json;
    case 'record':
    case 'object': {
      if (!isPlainObject(json)) return json;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(json)) {
        const field = d.kind === 'record' ? d.value : d.shape[k];
        out[k] = field ? fromJson(v, field, `${path}.${k}`) : v;
      }
      return out;
    }
    case 'empty-able':
      return json === null || json === undefined ? d.empty : fromJson(json, d.inner, path);
    case 'union': {
      for (const option of d.options) {
        const value = fromJson(json, option, path);
        if (option.safeParse(value).success) return value;
      }
      return json;
    }
    default:
      return json;
  }
}

// --- Interfaces, inputs and outputs ----------------------------------------------------------

/** The flyteidl2 `TypedInterface` of a task: one variable per input and output. */
export function typedInterfaceOf(iface: TaskInterface): TypedInterface {
  const variables = (schema: AnyObjectSchema, side: string) =>
    Object.entries(schema.shape).map(([key, field]) => ({
      key,
      value: {
        type: literalTypeOf(field as z.ZodType, `${side}.${key}`),
        description: (field as z.ZodType).description ?? '',
      } satisfies Partial<Variable>,
    }));
  return create(TypedInterfaceSchema, {
    inputs: { variables: variables(iface.inputs, 'inputs') },
    outputs: { variables: variables(iface.outputs, 'outputs') },
  });
}

function toNamedLiterals(values: unknown, schema: AnyObjectSchema, side: string) {
  const parsed = parseOrThrow(schema, values, side) as Record<string, unknown>;
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    value: encode(parsed[name], field as z.ZodType, `${side}.${name}`),
  }));
}

function fromNamedLiterals(
  literals: readonly { name: string; value?: Literal | undefined }[],
  schema: AnyObjectSchema,
  side: string,
): Record<string, unknown> {
  const shape = schema.shape as Record<string, z.ZodType>;
  const values: Record<string, unknown> = {};
  for (const { name, value } of literals) {
    const field = shape[name];
    if (!field) {
      throw new LiteralConversionError(
        `${side}.${name}: no such ${side.slice(0, -1)}; expected one of ${Object.keys(shape).join(', ') || '(none)'}`,
        { path: `${side}.${name}`, expected: Object.keys(shape).join(', '), received: name },
      );
    }
    if (value) values[name] = decode(value, field, `${side}.${name}`);
  }
  return parseOrThrow(schema, values, side) as Record<string, unknown>;
}

/** Converts input values to flyteidl2 `Inputs` (one named literal per declared input). */
export function toInputs(values: unknown, iface: Pick<TaskInterface, 'inputs'>): Inputs {
  return create(InputsSchema, { literals: toNamedLiterals(values, iface.inputs, 'inputs') });
}

/** Converts flyteidl2 `Inputs` to checked native values. Unknown input names are an error. */
export function fromInputs<I extends AnyObjectSchema>(
  inputs: Inputs,
  iface: { inputs: I },
): z.output<I> {
  return fromNamedLiterals(inputs.literals, iface.inputs, 'inputs') as z.output<I>;
}

/** Converts output values to flyteidl2 `Outputs` (one named literal per declared output). */
export function toOutputs(values: unknown, iface: Pick<TaskInterface, 'outputs'>): Outputs {
  return create(OutputsSchema, { literals: toNamedLiterals(values, iface.outputs, 'outputs') });
}

/** Converts flyteidl2 `Outputs` to checked native values. Unknown output names are an error. */
export function fromOutputs<O extends AnyObjectSchema>(
  outputs: Outputs,
  iface: { outputs: O },
): z.output<O> {
  return fromNamedLiterals(outputs.literals, iface.outputs, 'outputs') as z.output<O>;
}
