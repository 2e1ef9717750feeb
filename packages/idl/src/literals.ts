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
  type Timestamp,
  timestampFromDate,
} from '@bufbuild/protobuf/wkt';
import { decode as decodeMsgpack, ExtData } from '@msgpack/msgpack';
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
  TypeStructureSchema,
  UnionTypeSchema,
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
// flyte-sdk (Python, v2) sends dataclasses, pydantic models and untyped dicts as msgpack bytes
// under this tag (MESSAGEPACK in flyte/types/_type_engine.py). We read it; we write Structs,
// which flyte-sdk reads for all three.
const MSGPACK_TAG = 'msgpack';

type Described =
  | { kind: 'string' | 'float' | 'integer' | 'bigint' | 'boolean' | 'datetime' | 'json' }
  | { kind: 'duration' | 'bytes' | 'file' | 'dir' | 'dataframe' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'array'; element: z.ZodType }
  | { kind: 'record'; value: z.ZodType }
  | { kind: 'object'; shape: Record<string, z.ZodType> }
  | { kind: 'empty-able'; inner: z.ZodType; empty: null | undefined; nullable: boolean }
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
      // optional(nullable(x)) and friends collapse into one "may be empty" layer. A NONE
      // literal cannot say whether it was null or undefined: it reads back as what the
      // outermost wrapper names, so x.nullable().optional() gives undefined.
      let inner = def.innerType as z.ZodType;
      const empty: null | undefined = def.type === 'nullable' ? null : undefined;
      let nullable = def.type === 'nullable';
      for (let d = defOf(inner); d.type === 'optional' || d.type === 'nullable'; d = defOf(inner)) {
        if (d.type === 'nullable') nullable = true;
        inner = d.innerType as z.ZodType;
      }
      return { kind: 'empty-able', inner, empty, nullable };
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
 * | `x.optional()` / `x.nullable()` | union of x's variants and NONE, one flat union |
 * | `z.union([...])` | union, each variant tagged with flyte-sdk's transformer name |
 * | `fileRef()` / `dirRef()` / `dataFrameRef()` | blob SINGLE / blob MULTIPART / structured dataset |
 * | `z.unknown()` / `z.any()` | simple BINARY holding JSON |
 *
 * A schema that contains itself (`z.lazy`, or a getter in an object shape) is fine when the
 * recursion goes through an object: the object is one STRUCT, however deep the value.
 *
 * @throws UnsupportedSchemaError for zod types with no flyteidl2 counterpart (functions, maps,
 * transforms...) and for schemas that contain themselves outside an object.
 */
export function literalTypeOf(schema: z.ZodType, path = 'value'): LiteralType {
  // Encoding an optional or union value embeds its type; an object's type carries its JSON
  // Schema. Computing those once per schema keeps them off the per-value path.
  let type = literalTypes.get(schema);
  if (!type) {
    // A schema that contains itself (z.lazy, or a getter in an object shape) is fine under an
    // object, which is one STRUCT however deep the value goes. Anywhere else its type would be
    // infinite: array of array of ... has no flyteidl2 form.
    if (typesInProgress.has(schema)) {
      throw new UnsupportedSchemaError(
        `${path}: this schema contains itself outside an object, so its flyteidl2 type would be infinite. Put the recursion inside a z.object({...}) field (objects travel as one STRUCT), or bound its depth.`,
        { path, schemaType: 'recursive' },
      );
    }
    typesInProgress.add(schema);
    try {
      type = computeLiteralType(schema, path);
    } finally {
      typesInProgress.delete(schema);
    }
    literalTypes.set(schema, type);
  }
  return clone(LiteralTypeSchema, type);
}

const literalTypes = new WeakMap<z.ZodType, LiteralType>();
const typesInProgress = new Set<z.ZodType>();

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
      checkObjectSchema(schema, path);
      const type = simple(SimpleType.STRUCT);
      const metadata = jsonSchemaOf(schema);
      if (metadata) type.metadata = metadata;
      return type;
    }
    case 'empty-able':
    case 'union': {
      // One flat union, as Python has it: Optional[Union[str, float]] is Union[str, float, None].
      const { options, empty } = variantsOf(schema, path);
      const variants = options.map((option, i) =>
        variantType(option, options.length > 1 ? `${path}|${i}` : path),
      );
      if (empty.has) variants.push(tagged(noneType(), NONE_TAG));
      return unionType(variants);
    }
  }
}

/**
 * flyte-sdk (Python, v2) tags each union variant type, and the type stored with a union value,
 * with `structure.tag` = the `name` of the transformer for that variant's Python type, and picks
 * the variant to decode by that tag alone (UnionTransformer in flyte/types/_type_engine.py).
 * Untagged unions fail there with "Cannot convert ... (using tag None)". The names, from
 * flyte-sdk's source, for the Python type a user would declare for each zod type:
 *
 * | zod | Python | tag |
 * | --- | --- | --- |
 * | string | str | `str` |
 * | number | float | `float` |
 * | number().int(), bigint | int | `int` |
 * | boolean | bool | `bool` |
 * | date | datetime | `datetime` |
 * | duration() | timedelta | `timedelta` |
 * | enum / string literals | Enum, Literal[...] | `DefaultEnumTransformer` |
 * | array | list[T] | `Typed List` |
 * | record | dict[str, T] | `Typed Dict` |
 * | object | @dataclass | `Object-Dataclass-Transformer` (not pydantic's `Pydantic Transformer`) |
 * | fileRef() / dirRef() / dataFrameRef() | File / Dir / DataFrame | `File` / `Dir` / `DataFrame Transformer` |
 * | bytes(), unknown, any | bytes, Any | `FlytePickle`: flyte-sdk's only transformer for BINARY |
 * | empty (NONE) | None | `none` |
 */
const PYTHON_TRANSFORMER_NAMES: Record<Described['kind'], string> = {
  string: 'str',
  float: 'float',
  integer: 'int',
  bigint: 'int',
  boolean: 'bool',
  datetime: 'datetime',
  duration: 'timedelta',
  enum: 'DefaultEnumTransformer',
  array: 'Typed List',
  record: 'Typed Dict',
  object: 'Object-Dataclass-Transformer',
  file: 'File',
  dir: 'Dir',
  dataframe: 'DataFrame Transformer',
  bytes: 'FlytePickle',
  json: 'FlytePickle',
  // Never a variant: variantsOf() flattens nested unions and optionals.
  union: 'Typed Union',
  'empty-able': 'Typed Union',
};
const NONE_TAG = 'none';

const tagged = (type: LiteralType, tag: string): LiteralType => {
  type.structure = create(TypeStructureSchema, { tag });
  return type;
};

/** A union variant's type as flyte-sdk writes it: the variant's type plus its tag. */
const variantType = (option: z.ZodType, path: string): LiteralType =>
  tagged(literalTypeOf(option, path), PYTHON_TRANSFORMER_NAMES[describe(option, path).kind]);

interface Variants {
  /** The non-union, non-empty-able variants, nested unions spliced in order. */
  options: z.ZodType[];
  /** Whether NONE is a variant, and what it reads back as (see {@link variantsOf}). */
  empty: { has: false } | { has: true; value: null | undefined };
}

/**
 * A union or empty-able schema as one flat list of variants, as Python's typing flattens
 * Union[Union[a, b], None]. A union that contains itself directly has no finite form.
 *
 * NONE cannot say whether it was null or undefined, so it reads back as: what the outermost
 * wrapper names, when the schema itself is optional or nullable (x.nullable().optional() gives
 * undefined); else, for a union of variants, what their wrappers name when they agree, and null
 * when they disagree (z.union([a.optional(), b.nullable()])), as before unions were flat.
 */
function variantsOf(schema: z.ZodType, path: string): Variants {
  const cached = flatVariants.get(schema);
  if (cached) return cached;
  const options: z.ZodType[] = [];
  // What each optional/nullable wrapper met would read NONE back as; the first is the outermost.
  const named: (null | undefined)[] = [];
  const visiting = new Set<z.ZodType>();
  const visit = (current: z.ZodType): void => {
    const d = describe(current, path);
    if (d.kind !== 'union' && d.kind !== 'empty-able') {
      options.push(current);
      return;
    }
    if (visiting.has(current)) {
      throw new UnsupportedSchemaError(
        `${path}: this union contains itself, so its flyteidl2 type would be infinite. Put the recursion inside a z.object({...}) field (objects travel as one STRUCT).`,
        { path, schemaType: 'recursive' },
      );
    }
    visiting.add(current);
    if (d.kind === 'empty-able') {
      named.push(d.empty);
      visit(d.inner);
    } else {
      for (const option of d.options) visit(option);
    }
    visiting.delete(current);
  };
  visit(schema);
  const outer = describe(schema, path).kind === 'empty-able';
  let empty: Variants['empty'] = { has: false };
  if (named.length > 0) {
    const agree = named.every((value) => value === named[0]);
    empty = { has: true, value: outer || agree ? named[0] : null };
  }
  const variants: Variants = { options, empty };
  flatVariants.set(schema, variants);
  return variants;
}

const flatVariants = new WeakMap<z.ZodType, Variants>();

// Objects travel as JSON: every field must have a JSON form, which describe() checks, and every
// union in them must be told apart by its JSON alone. Checked once per object schema.
function checkObjectSchema(schema: z.ZodType, path: string): void {
  if (checkedObjects.has(schema)) return;
  const checked = new Set<z.ZodType>();
  toJsonValueCheck(schema, path, checked);
  checkedObjects.add(schema);
}

const checkedObjects = new WeakSet<z.ZodType>();

// `checked` holds the schemas already seen, so a recursive schema is checked once, not forever.
function toJsonValueCheck(schema: z.ZodType, path: string, checked: Set<z.ZodType>): void {
  if (checked.has(schema)) return;
  checked.add(schema);
  const d = describe(schema, path);
  if (d.kind === 'array') toJsonValueCheck(d.element, `${path}[]`, checked);
  else if (d.kind === 'record') toJsonValueCheck(d.value, `${path}{}`, checked);
  else if (d.kind === 'object')
    for (const [k, f] of Object.entries(d.shape)) toJsonValueCheck(f, `${path}.${k}`, checked);
  else if (d.kind === 'union' || d.kind === 'empty-able') {
    const { options } = variantsOf(schema, path);
    checkDistinctJson(options, path);
    for (const [i, option] of options.entries())
      toJsonValueCheck(option, options.length > 1 ? `${path}|${i}` : path, checked);
  }
}

/**
 * In JSON a union value does not say which variant it was: a Date, a bigint and bytes are all
 * strings there, and a bigint may also be a number (Python ints). Two variants that share a JSON
 * form but decode to different JavaScript types would come back as whichever is tried first, so
 * such unions are refused inside objects. (Top-level unions store their variant's type.)
 */
function checkDistinctJson(options: z.ZodType[], path: string): void {
  const forms = options.map((option) => JSON_FORMS[describe(option, path).kind]);
  for (let i = 0; i < forms.length; i++) {
    for (let j = i + 1; j < forms.length; j++) {
      const a = forms[i];
      const b = forms[j];
      if (!a || !b || a.decodesAs === b.decodesAs) continue;
      // z.unknown() gives back strings, numbers and booleans as they are.
      if (
        a.decodesAs === 'JSON'
          ? PLAIN.has(b.decodesAs)
          : b.decodesAs === 'JSON' && PLAIN.has(a.decodesAs)
      )
        continue;
      const shared = a.travelsAs.find((form) => b.travelsAs.includes(form));
      if (!shared) continue;
      throw new UnsupportedSchemaError(
        `${path}: union variants ${i} (${a.decodesAs}) and ${j} (${b.decodesAs}) both travel as a JSON ${shared} inside an object, so a value cannot say which one it was and could come back as the other. Use a discriminated union instead, for example z.discriminatedUnion('kind', [z.object({ kind: z.literal('date'), value: z.date() }), z.object({ kind: z.literal('text'), value: z.string() })]), or keep one variant.`,
        { path, schemaType: 'union' },
      );
    }
  }
}

const PLAIN = new Set(['string', 'number', 'boolean']);
const JSON_FORMS: Partial<Record<Described['kind'], { travelsAs: string[]; decodesAs: string }>> = {
  string: { travelsAs: ['string'], decodesAs: 'string' },
  enum: { travelsAs: ['string'], decodesAs: 'string' },
  bigint: { travelsAs: ['string', 'number'], decodesAs: 'bigint' },
  datetime: { travelsAs: ['string'], decodesAs: 'Date' },
  bytes: { travelsAs: ['string'], decodesAs: 'Uint8Array' },
  float: { travelsAs: ['number'], decodesAs: 'number' },
  integer: { travelsAs: ['number'], decodesAs: 'number' },
  duration: { travelsAs: ['number'], decodesAs: 'number' },
  boolean: { travelsAs: ['boolean'], decodesAs: 'boolean' },
  json: { travelsAs: ['string', 'number', 'boolean', 'array', 'object'], decodesAs: 'JSON' },
};

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
 * result against the schema. Objects are read from a `google.protobuf.Struct` or from a binary
 * literal with tag `msgpack` (how flyte-sdk sends dataclasses, pydantic models and dicts).
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
  // JSON.stringify would print NaN and ±Infinity as null, and -0 as 0.
  if (typeof value === 'number') return `${Object.is(value, -0) ? '-0' : String(value)} (number)`;
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
  return `${text} (${typeName(value)})`;
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  // A class instance prints as "{}"; its class says more.
  if (typeof value === 'object' && !isPlainObject(value))
    return (value as { constructor?: { name?: string } }).constructor?.name || 'object';
  return typeof value;
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
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
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
    case 'json':
      return scalar({
        case: 'binary',
        value: {
          value: new TextEncoder().encode(JSON.stringify(checkedJson(value, path))),
          tag: JSON_TAG,
        },
      });
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
      for (const [k, v] of Object.entries(value))
        setKey(literals, k, encode(v, d.value, `${path}.${k}`));
      return literalOf({ value: { case: 'map', value: { literals } } });
    }
    case 'object':
      checkObjectSchema(schema, path);
      if (!isPlainObject(value)) throw mismatch(path, 'object', value);
      return scalar({ case: 'generic', value: toJson(value, schema, path) as JsonObject });
    case 'empty-able':
    case 'union': {
      // One union literal around the variant's value, its tagged type stored with it, as
      // flyte-sdk writes (and needs, to pick the variant): never a union inside a union.
      const { options, empty } = variantsOf(schema, path);
      if (empty.has && (value === undefined || value === null)) {
        return scalar({
          case: 'union',
          value: { value: noneLiteral(), type: tagged(noneType(), NONE_TAG) },
        });
      }
      const option = options.find((o) => o.safeParse(value).success);
      if (!option) throw mismatch(path, `one of ${options.length} union variants`, value);
      return scalar({
        case: 'union',
        value: { value: encode(value, option, path), type: variantType(option, path) },
      });
    }
  }
}

function decode(literal: Literal, schema: z.ZodType, path: string): unknown {
  const d = describe(schema, path);
  const lit = literal.value;
  const sc = lit.case === 'scalar' ? lit.value.value : undefined;
  const prim = sc?.case === 'primitive' ? sc.value.value : undefined;
  // What flyte-sdk sends for dataclasses, pydantic models and dicts.
  const msgpack =
    sc?.case === 'binary' && sc.value.tag === MSGPACK_TAG ? sc.value.value : undefined;
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
      if (prim.value > MAX_SAFE || prim.value < MIN_SAFE) {
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
      return prim?.case === 'datetime' ? dateFromTimestamp(prim.value) : fail('datetime');
    case 'duration':
      return prim?.case === 'duration' ? millisFromDuration(prim.value) : fail('duration');
    case 'bytes':
      return sc?.case === 'binary' ? new Uint8Array(sc.value.value) : fail('binary');
    case 'json':
      if (sc?.case === 'binary' && sc.value.tag === JSON_TAG)
        return JSON.parse(new TextDecoder().decode(sc.value.value));
      if (msgpack) return fromMsgpack(msgpack, path);
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
      if (msgpack) return fromJson(fromMsgpack(msgpack, path), schema, path);
      if (lit.case !== 'map') return fail(`map (or binary with tag "${MSGPACK_TAG}")`);
      const out: Record<string, unknown> = {};
      for (const [k, l] of Object.entries(lit.value.literals))
        setKey(out, k, decode(l, d.value, `${path}.${k}`));
      return out;
    }
    case 'object':
      checkObjectSchema(schema, path);
      if (msgpack) return fromJson(fromMsgpack(msgpack, path), schema, path);
      return sc?.case === 'generic'
        ? fromJson(sc.value, schema, path)
        : fail(`struct (or binary with tag "${MSGPACK_TAG}")`);
    case 'empty-able':
    case 'union': {
      const { options, empty } = variantsOf(schema, path);
      // Unwrap every union layer: we wrote optional unions as a union inside a union before, and
      // a value for Optional[...] may come without any (flyte-sdk reads such plain values too).
      let inner: Literal | undefined = literal;
      let stored: LiteralType | undefined;
      while (inner?.value.case === 'scalar' && inner.value.value.value.case === 'union') {
        stored = inner.value.value.value.value.type;
        inner = inner.value.value.value.value.value;
      }
      if (!inner) return empty.has ? empty.value : fail('union value');
      if (empty.has && inner.value.case === 'scalar' && inner.value.value.value.case === 'noneType')
        return empty.value;
      // Prefer the variant whose type was stored with the value (ignoring tags, which name
      // Python transformers: a pydantic model comes tagged "Pydantic Transformer", our objects
      // "Object-Dataclass-Transformer"); else the first that decodes. This runs per value: the
      // variants' essences are cached per schema and the stored type is reduced once.
      const sent = stored && typeEssence(stored);
      const match =
        sent && options.find((o) => equals(LiteralTypeSchema, variantEssence(o, path), sent));
      const ordered = match ? [match, ...options.filter((o) => o !== match)] : options;
      // A single variant (x.optional()) reports why it did not fit.
      if (ordered.length === 1 && ordered[0]) return decode(inner, ordered[0], path);
      for (const option of ordered) {
        // Any binary decodes as bytes(): leave JSON and msgpack to the variants that read them
        // (z.unknown(), objects, records), or {a: 1} would come back as its encoded bytes.
        if (describe(option, path).kind === 'bytes' && isEncodedJson(inner)) continue;
        try {
          const value = decode(inner, option, path);
          if (option.safeParse(value).success) return value;
        } catch {
          // try the next variant
        }
      }
      return fail(`union of ${options.length} variants`);
    }
  }
}

function isEncodedJson(literal: Literal): boolean {
  const sc = literal.value.case === 'scalar' ? literal.value.value.value : undefined;
  return sc?.case === 'binary' && (sc.value.tag === JSON_TAG || sc.value.tag === MSGPACK_TAG);
}

// A variant's type without what rides along, once per schema: its JSON Schema metadata alone can
// be large, and a union value is decoded against it every time.
function variantEssence(schema: z.ZodType, path: string): LiteralType {
  let essence = variantEssences.get(schema);
  if (!essence) {
    essence = typeEssence(literalTypeOf(schema, path));
    variantEssences.set(schema, essence);
  }
  return essence;
}

const variantEssences = new WeakMap<z.ZodType, LiteralType>();

// What a type is, without what rides along: `metadata` (JSON Schema), `structure` (the union
// variant tag flyte-sdk adds, e.g. {tag: "int"}) and `annotation` (flyte-sdk's cache-key hints),
// at every level, as flyte-sdk compares union variants (_type_essence). Built without copying what
// it strips (a sent object type carries its whole JSON Schema); it shares the leaf messages it
// keeps, which are only read.
function typeEssence(type: LiteralType): LiteralType {
  const essence = create(LiteralTypeSchema);
  const inner = type.type;
  if (inner.case === 'collectionType' || inner.case === 'mapValueType') {
    essence.type = { case: inner.case, value: typeEssence(inner.value) };
  } else if (inner.case === 'unionType') {
    const union = create(UnionTypeSchema);
    union.variants = inner.value.variants.map(typeEssence);
    essence.type = { case: 'unionType', value: union };
  } else {
    essence.type = inner;
  }
  return essence;
}

function describeLiteral(literal: Literal): string {
  const lit = literal.value;
  if (lit.case !== 'scalar') return lit.case ?? 'an empty literal';
  const sc = lit.value.value;
  if (sc.case === 'primitive') return `primitive ${sc.value.value.case ?? 'empty'}`;
  if (sc.case === 'binary') return `binary (tag "${sc.value.tag}")`;
  return sc.case ?? 'an empty scalar';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// A Date holds whole milliseconds: sub-millisecond digits are cut, never rounded, so
// 23:59:59.999999 stays in its second (and its day, and its year).
function dateFromTimestamp(timestamp: Timestamp): Date {
  return new Date(Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1e6));
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
      return value as JsonValue;
    case 'json':
      return checkedJson(value, path);
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
        const field = fieldOf(d, k);
        // Unknown keys survive only when the schema lets them through (passthrough/loose).
        setKey(out, k, field ? toJson(v, field, `${path}.${k}`) : (v as JsonValue));
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

// Own fields only: a key named "constructor", "toString" or "__proto__" is data, and reading it
// from the shape would find Object.prototype's member instead of "no such field".
function fieldOf(
  d: { kind: 'record'; value: z.ZodType } | { kind: 'object'; shape: Record<string, z.ZodType> },
  key: string,
): z.ZodType | undefined {
  if (d.kind === 'record') return d.value;
  return Object.hasOwn(d.shape, key) ? d.shape[key] : undefined;
}

// Defined, not assigned: a "__proto__" key (JSON.parse and Structs from other SDKs make one) must
// stay a key, never replace the object's prototype.
function setKey(out: object, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

const JSON_KINDS = 'JSON value (null, boolean, finite number, string, array or plain object)';

/**
 * `value` as JSON, for `z.unknown()` and `z.any()`, which let anything through: a Date, bigint,
 * NaN or class instance would otherwise reach the wire as `{}`, `null` or an exception.
 * `undefined` object properties are dropped, as JSON.stringify and object fields do.
 */
function checkedJson(value: unknown, path: string, ancestors = new Set<object>()): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'object' || !(Array.isArray(value) || isPlainObject(value)))
    throw mismatch(path, JSON_KINDS, value);
  if (ancestors.has(value)) {
    throw new LiteralConversionError(
      `${path}: expected a ${JSON_KINDS}, received a value that contains itself; JSON has no references, so pass a copy without the cycle.`,
      { path, expected: JSON_KINDS, received: 'a cyclic value' },
    );
  }
  // Only the objects above this one: the same object twice side by side is no cycle.
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const out: JsonValue[] = [];
      for (let i = 0; i < value.length; i++)
        out.push(checkedJson(value[i], `${path}[${i}]`, ancestors));
      return out;
    }
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      setKey(out, k, checkedJson(v, `${path}.${k}`, ancestors));
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}

// `json` is a Struct's JSON, or what msgpack decoded to (which adds bigints, bytes and dates).
function fromJson(json: unknown, schema: z.ZodType, path: string): unknown {
  const d = describe(schema, path);
  switch (d.kind) {
    case 'bigint':
      if (typeof json === 'string' && /^-?\d+$/.test(json)) return BigInt(json);
      // Python ints arrive as numbers, in a Struct or in msgpack.
      return Number.isSafeInteger(json) ? BigInt(json as number) : json;
    case 'datetime':
      if (typeof json !== 'string') return json;
      // Python writes naive datetimes without an offset ("2024-01-01T09:30:00"); JavaScript would
      // read that as the host's local time. flyte-sdk treats naive datetimes as UTC, so do we.
      return new Date(NAIVE_DATETIME.test(json) ? `${json}Z` : json);
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
        const field = fieldOf(d, k);
        setKey(out, k, field ? fromJson(v, field, `${path}.${k}`) : v);
      }
      return out;
    }
    case 'empty-able':
      // JSON keeps null apart from a missing field, so a null stays null where null is allowed.
      if (json === null) return d.nullable ? null : undefined;
      return json === undefined ? d.empty : fromJson(json, d.inner, path);
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

const NAIVE_DATETIME = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/**
 * A msgpack payload as the JSON-like value fromJson reads: maps become objects, 64-bit integers
 * in the safe range become numbers (larger ones stay bigints, exact), bin stays a Uint8Array
 * and the timestamp extension a Date. flyte-sdk writes datetimes as ISO strings.
 */
function fromMsgpack(bytes: Uint8Array, path: string): unknown {
  let value: unknown;
  try {
    value = decodeMsgpack(bytes, { useBigInt64: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new LiteralConversionError(
      `${path}: expected msgpack bytes (binary tag "${MSGPACK_TAG}"), but ${bytes.byteLength} bytes did not decode: ${reason}. Check what the sender serialized.`,
      { path, expected: 'msgpack', received: `${bytes.byteLength} bytes` },
      { cause: error },
    );
  }
  return fromMsgpackValue(value, path);
}

function fromMsgpackValue(value: unknown, path: string, depth = 0): unknown {
  if (typeof value === 'bigint')
    return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value;
  if (value instanceof ExtData) {
    throw new LiteralConversionError(
      `${path}: expected a msgpack value with a JavaScript form, received msgpack extension type ${value.type}; send the field as a plain msgpack type instead.`,
      { path, expected: 'msgpack value', received: `extension type ${value.type}` },
    );
  }
  const nested = Array.isArray(value) || isPlainObject(value);
  // The decoder itself is iterative: a few kilobytes of 0x91 nest arrays deeper than this
  // recursion's stack (and zod's, and the schema walk's) could follow.
  if (nested && depth >= MSGPACK_MAX_DEPTH) {
    throw new LiteralConversionError(
      `${path}: expected msgpack nested at most ${MSGPACK_MAX_DEPTH} arrays or maps deep, received deeper nesting. Flatten the value before sending it.`,
      {
        path,
        expected: `at most ${MSGPACK_MAX_DEPTH} levels`,
        received: `more than ${MSGPACK_MAX_DEPTH} levels`,
      },
    );
  }
  if (Array.isArray(value))
    return value.map((v, i) => fromMsgpackValue(v, `${path}[${i}]`, depth + 1));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      setKey(out, k, fromMsgpackValue(v, `${path}.${k}`, depth + 1));
    return out;
  }
  return value;
}

const MSGPACK_MAX_DEPTH = 1000;

// --- Interfaces, inputs and outputs ----------------------------------------------------------

/** The flyteidl2 `TypedInterface` of a task: one variable per input and output. */
export function typedInterfaceOf(iface: TaskInterface): TypedInterface {
  const variables = (schema: AnyObjectSchema, side: string) =>
    Object.entries(schema.shape).map(([key, field]) => ({
      key,
      value: {
        type: literalTypeOf(field as z.ZodType, `${side}.${key}`),
        description: descriptionOf(field as z.ZodType),
      } satisfies Partial<Variable>,
    }));
  return create(TypedInterfaceSchema, {
    inputs: { variables: variables(iface.inputs, 'inputs') },
    outputs: { variables: variables(iface.outputs, 'outputs') },
  });
}

// `.describe()` belongs to the schema it was called on: z.number().describe('n').optional()
// is a new schema without a description, so look through the wrappers that keep the meaning.
function descriptionOf(schema: z.ZodType): string {
  for (let current: z.ZodType | undefined = schema; current; ) {
    if (current.description !== undefined) return current.description;
    const def = defOf(current);
    current = DESCRIPTION_TRANSPARENT.has(def.type) ? (def.innerType as z.ZodType) : undefined;
  }
  return '';
}

const DESCRIPTION_TRANSPARENT = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'readonly',
  'catch',
  'nonoptional',
]);

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
