import {
  create,
  fromBinary,
  type JsonValue,
  type MessageInitShape,
  toBinary,
  toJson,
} from '@bufbuild/protobuf';
import { LiteralSchema as OfficialLiteralSchema } from '@flyteorg/flyteidl2/flyteidl2/core/literals_pb.ts';
import { LiteralTypeSchema as OfficialLiteralTypeSchema } from '@flyteorg/flyteidl2/flyteidl2/core/types_pb.ts';
import { InputsSchema as OfficialInputsSchema } from '@flyteorg/flyteidl2/flyteidl2/task/common_pb.ts';
import { encode as encodeMsgpack } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
// What consumers get: the compiled bundle, not the official sources this test decodes with.
import {
  type Literal,
  LiteralSchema,
  type LiteralType,
  LiteralTypeSchema,
  type PrimitiveSchema,
  type ScalarSchema,
  SimpleType,
  TypeAnnotationSchema,
  TypeStructureSchema,
} from '../dist/core.js';
import { InputsSchema } from '../dist/task.js';
import { LiteralConversionError, UnsupportedSchemaError } from './errors';
import { bytes, dataFrameRef, dirRef, duration, fileRef } from './flyte-types';
import {
  fromInputs,
  fromLiteral,
  fromOutputs,
  literalTypeOf,
  toInputs,
  toLiteral,
  toOutputs,
  typedInterfaceOf,
} from './literals';

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const TIMESTAMP_MIN = new Date('0001-01-01T00:00:00Z');
const TIMESTAMP_MAX = new Date('9999-12-31T23:59:59.999Z');

/**
 * Value -> Literal -> bytes (our bundle) -> official schema -> bytes -> Literal -> value.
 * Also checks that the official schema sees the very message we built.
 */
function roundTrip<S extends z.ZodType>(schema: S, value: z.input<S>): unknown {
  const literal = toLiteral(value, schema);
  const bytes = toBinary(LiteralSchema, literal);
  const official = fromBinary(OfficialLiteralSchema, bytes);
  expect(toJson(OfficialLiteralSchema, official)).toEqual(toJson(LiteralSchema, literal));
  const back = fromBinary(LiteralSchema, toBinary(OfficialLiteralSchema, official));
  return fromLiteral(back, schema);
}

const kinds: [string, z.ZodType, fc.Arbitrary<unknown>][] = [
  ['string', z.string(), fc.string({ unit: 'grapheme' })],
  ['float', z.number(), fc.double({ noNaN: true, noDefaultInfinity: true })],
  ['integer', z.number().int(), fc.maxSafeInteger()],
  ['boolean', z.boolean(), fc.boolean()],
  ['bigint', z.bigint(), fc.bigInt(INT64)],
  ['Date', z.date(), fc.date({ min: TIMESTAMP_MIN, max: TIMESTAMP_MAX, noInvalidDate: true })],
  ['duration', duration(), fc.integer({ min: -9e9, max: 9e9 })],
  ['bytes', bytes(), fc.uint8Array({ maxLength: 64 })],
  ['enum', z.enum(['red', 'green', 'blue']), fc.constantFrom('red', 'green', 'blue')],
  ['array', z.array(z.number().int()), fc.array(fc.maxSafeInteger())],
  [
    'record',
    z.record(z.string(), z.array(z.string())),
    fc.dictionary(fc.string(), fc.array(fc.string())),
  ],
  ['optional', z.string().optional(), fc.option(fc.string(), { nil: undefined })],
  ['nullable', z.number().int().nullable(), fc.option(fc.maxSafeInteger(), { nil: null })],
  ['union', z.union([z.string(), z.number().int()]), fc.oneof(fc.string(), fc.maxSafeInteger())],
  [
    'nullable union',
    z.union([z.string(), z.number().int(), z.array(z.boolean())]).nullable(),
    fc.option(fc.oneof(fc.string(), fc.maxSafeInteger(), fc.array(fc.boolean())), { nil: null }),
  ],
  ['file', fileRef(), fc.record({ uri: fc.webUrl(), format: fc.constantFrom('csv', 'parquet') })],
  ['dir', dirRef(), fc.record({ uri: fc.webUrl() })],
  ['dataframe', dataFrameRef(), fc.record({ uri: fc.webUrl(), format: fc.constant('parquet') })],
  [
    'object',
    z.object({
      id: z.bigint(),
      name: z.string(),
      at: z.date(),
      score: z.number(),
      tags: z.array(z.string()),
      note: z.string().optional(),
      parent: z.number().int().nullable(),
      blob: bytes(),
      nested: z.object({ ok: z.boolean(), when: z.array(z.date()) }),
    }),
    fc.record(
      {
        id: fc.bigInt(INT64),
        name: fc.string(),
        // Objects travel as JSON, where dates are ISO strings: years 0..9999 keep full precision.
        at: fc.date({ min: TIMESTAMP_MIN, max: TIMESTAMP_MAX, noInvalidDate: true }),
        score: fc
          .double({ noNaN: true, noDefaultInfinity: true })
          .map((n) => (Object.is(n, -0) ? 0 : n)),
        tags: fc.array(fc.string()),
        note: fc.string(),
        parent: fc.option(fc.maxSafeInteger(), { nil: null }),
        blob: fc.uint8Array({ maxLength: 16 }),
        nested: fc.record({
          ok: fc.boolean(),
          when: fc.array(
            fc.date({
              min: new Date('1970-01-01'),
              max: new Date('2100-01-01'),
              noInvalidDate: true,
            }),
          ),
        }),
      },
      { requiredKeys: ['id', 'name', 'at', 'score', 'tags', 'parent', 'blob', 'nested'] },
    ),
  ],
  [
    'array of objects',
    z.array(z.object({ a: z.string() })),
    fc.array(fc.record({ a: fc.string() })),
  ],
  [
    'JSON value (z.unknown)',
    z.unknown(),
    fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as JsonValue),
  ],
];

describe('literal round trip through the official flyteidl2 schemas', () => {
  it.each(kinds)('%s', (_name, schema, arbitrary) => {
    fc.assert(
      fc.property(arbitrary, (value) => {
        // What the schema accepts of the value: zod drops a record's "__proto__" key, for one.
        expect(roundTrip(schema, value as never)).toEqual(schema.parse(value));
      }),
      { numRuns: 150 },
    );
  });

  it('keeps durations to the nanosecond', () => {
    expect(roundTrip(duration(), 1.000001)).toBeCloseTo(1.000001, 9);
    expect(roundTrip(duration(), -2500.5)).toBe(-2500.5);
  });
});

describe('literalTypeOf', () => {
  it('produces the flyteidl2 types other Flyte SDKs expect', () => {
    const json = (schema: z.ZodType) => toJson(LiteralTypeSchema, literalTypeOf(schema));
    expect(json(z.string())).toEqual({ simple: 'STRING' });
    expect(json(z.number())).toEqual({ simple: 'FLOAT' });
    expect(json(z.number().int())).toEqual({ simple: 'INTEGER' });
    expect(json(z.bigint())).toEqual({ simple: 'INTEGER' });
    expect(json(z.date())).toEqual({ simple: 'DATETIME' });
    expect(json(duration())).toEqual({ simple: 'DURATION' });
    expect(json(z.array(z.boolean()))).toEqual({ collectionType: { simple: 'BOOLEAN' } });
    expect(json(z.record(z.string(), z.number()))).toEqual({ mapValueType: { simple: 'FLOAT' } });
    expect(json(z.enum(['a', 'b']))).toEqual({ enumType: { values: ['a', 'b'] } });
    expect(json(z.string().optional())).toEqual({
      unionType: {
        variants: [
          { simple: 'STRING', structure: { tag: 'str' } },
          { simple: 'NONE', structure: { tag: 'none' } },
        ],
      },
    });
    expect(json(fileRef())).toEqual({ blob: {} });
    expect(json(dirRef())).toEqual({ blob: { dimensionality: 'MULTIPART' } });
    expect(json(dataFrameRef())).toEqual({ structuredDatasetType: {} });
  });

  it('describes objects as STRUCT with their JSON Schema', () => {
    const type = literalTypeOf(z.object({ n: z.number(), s: z.string().optional() }));
    expect(type.type).toEqual({ case: 'simple', value: SimpleType.STRUCT });
    expect(type.metadata).toMatchObject({ type: 'object', properties: { n: { type: 'number' } } });
  });

  it('rejects zod types that have no flyteidl2 type, naming where', () => {
    expect(() => literalTypeOf(z.object({ cb: z.function() }), 'inputs.opts')).toThrow(
      UnsupportedSchemaError,
    );
    expect(() => literalTypeOf(z.map(z.string(), z.number()), 'inputs.m')).toThrow(
      /inputs\.m: zod type "map"/,
    );
    expect(() => literalTypeOf(z.string().transform((s) => s.length))).toThrow(/transform/);
  });
});

describe('errors for values that do not match', () => {
  const catchError = (fn: () => unknown): LiteralConversionError => {
    try {
      fn();
    } catch (error) {
      if (error instanceof LiteralConversionError) return error;
      throw error;
    }
    throw new Error('expected a LiteralConversionError');
  };

  it('names the field path, the expected type and the value', () => {
    const schema = z.object({ rows: z.array(z.object({ id: z.number().int() })) });
    const error = catchError(() =>
      toLiteral({ rows: [{ id: 1 }, { id: 'two' }] }, schema, 'inputs'),
    );
    expect(error.details).toMatchObject({ path: 'inputs.rows[1].id', expected: 'number' });
    expect(error.message).toBe('inputs.rows[1].id: expected number, received "two" (string)');
  });

  it('rejects integers outside the safe range instead of rounding them', () => {
    expect(() => toLiteral(2 ** 53, z.number().int())).toThrow(LiteralConversionError);
    expect(() => toLiteral(2n ** 63n, z.bigint())).toThrow(/64-bit integer/);
  });

  it('rejects a literal of the wrong kind when decoding', () => {
    const literal = toLiteral('abc', z.string());
    const error = catchError(() => fromLiteral(literal, z.boolean(), 'outputs.flag'));
    expect(error.message).toBe(
      'outputs.flag: expected a boolean literal, received primitive stringValue',
    );
  });

  it('checks decoded values against the schema rules', () => {
    const literal = toLiteral('abc', z.string());
    expect(() => fromLiteral(literal, z.string().min(5))).toThrow(/at least 5|>=5/);
  });

  it('rejects dates and durations outside the protobuf ranges', () => {
    expect(() => toLiteral(new Date('+010000-01-01T00:00:00Z'), z.date())).toThrow(
      /years 1 and 9999/,
    );
    expect(() => toLiteral(new Date(Number.NaN), z.date())).toThrow(LiteralConversionError);
    expect(() => toLiteral(1e18, duration())).toThrow(/Duration range/);
  });

  it('rejects non-finite numbers inside objects, which JSON cannot carry', () => {
    const schema = z.object({ x: z.number() });
    expect(() => toLiteral({ x: Number.POSITIVE_INFINITY }, schema)).toThrow(
      LiteralConversionError,
    );
  });
});

describe('inputs and outputs', () => {
  const iface = {
    inputs: z.object({
      query: z.string().describe('SQL to run'),
      limit: z.number().int().default(10),
      since: z.date().optional(),
    }),
    outputs: z.object({ rows: z.array(z.record(z.string(), z.string())), total: z.bigint() }),
  };

  it('converts named inputs and outputs both ways', () => {
    const inputs = toInputs({ query: 'select 1' }, iface);
    expect(inputs.literals.map((l) => l.name)).toEqual(['query', 'limit', 'since']);
    const viaOfficial = fromBinary(OfficialInputsSchema, toBinary(InputsSchema, inputs));
    expect(fromInputs(viaOfficial as never, iface)).toEqual({ query: 'select 1', limit: 10 });

    const outputs = toOutputs({ rows: [{ a: '1' }], total: 1n }, iface);
    expect(fromOutputs(outputs, iface)).toEqual({ rows: [{ a: '1' }], total: 1n });
  });

  it('rejects unknown and missing names', () => {
    const inputs = toInputs({ query: 'q' }, iface);
    inputs.literals.push({ ...inputs.literals[0], name: 'qeury' } as never);
    expect(() => fromInputs(inputs, iface)).toThrow(
      /inputs\.qeury: no such input; expected one of query, limit, since/,
    );
    expect(() => toInputs({ limit: 3 }, iface)).toThrow(/inputs\.query/);
  });

  it('builds the typed interface with descriptions', () => {
    const typed = typedInterfaceOf(iface);
    const query = typed.inputs?.variables.find((v) => v.key === 'query');
    expect(query?.value?.description).toBe('SQL to run');
    expect(toJson(OfficialLiteralTypeSchema, query?.value?.type as never)).toEqual({
      simple: 'STRING',
    });
    expect(typed.outputs?.variables.map((v) => v.key)).toEqual(['rows', 'total']);
  });
});

// Literals as another SDK would send them, built field by field.
const literal = (init: MessageInitShape<typeof LiteralSchema>) => create(LiteralSchema, init);
const scalar = (value: NonNullable<MessageInitShape<typeof ScalarSchema>['value']>) =>
  literal({ value: { case: 'scalar', value: { value } } });
const prim = (value: NonNullable<MessageInitShape<typeof PrimitiveSchema>['value']>) =>
  scalar({ case: 'primitive', value: { value } });
/** Through the official schema's bytes and back, as a literal from the wire would arrive. */
const overTheWire = (l: Literal) =>
  fromBinary(
    LiteralSchema,
    toBinary(OfficialLiteralSchema, fromBinary(OfficialLiteralSchema, toBinary(LiteralSchema, l))),
  );

describe('literals from other SDKs', () => {
  it('cuts sub-millisecond datetimes instead of rounding them into the next second', () => {
    // Python's datetime(2024, 12, 31, 23, 59, 59, 999999): still the last day of 2024.
    const late = prim({ case: 'datetime', value: { seconds: 1735689599n, nanos: 999_999_000 } });
    expect(fromLiteral(overTheWire(late), z.date()).toISOString()).toBe('2024-12-31T23:59:59.999Z');
    const early = prim({ case: 'datetime', value: { seconds: 0n, nanos: 1_500_000 } });
    expect(fromLiteral(overTheWire(early), z.date()).toISOString()).toBe(
      '1970-01-01T00:00:00.001Z',
    );
  });

  it('picks the union variant whose type was sent, ignoring flyte-sdk tags and annotations', () => {
    // flyte-sdk tags each union variant type with its transformer name (structure.tag).
    const tagged = scalar({
      case: 'union',
      value: {
        value: prim({ case: 'integer', value: 5n }),
        type: { type: { case: 'simple', value: SimpleType.INTEGER }, structure: { tag: 'int' } },
      },
    });
    expect(fromLiteral(overTheWire(tagged), z.union([z.number(), z.bigint()]))).toBe(5n);
    const annotated = scalar({
      case: 'union',
      value: {
        value: prim({ case: 'integer', value: 7n }),
        type: {
          type: { case: 'simple', value: SimpleType.INTEGER },
          annotation: {
            annotations: { 'cache-key-metadata': { 'serialization-format': 'msgpack' } },
          },
        },
      },
    });
    expect(fromLiteral(overTheWire(annotated), z.union([z.number(), z.bigint()]))).toBe(7n);
  });

  it('picks the sent variant however deep the tags, metadata and annotations sit', () => {
    // Both variants decode a collection of Structs; only the stored type says the elements were
    // objects with a date. Its element type carries its JSON Schema and a tag, the whole type an
    // annotation: none of them may stop the match.
    const Event = z.object({ at: z.date().describe('when it happened') });
    const sent = toLiteral([{ at: new Date('2024-05-01T00:00:00Z') }], z.union([z.array(Event)]));
    const union = sent.value.case === 'scalar' ? sent.value.value.value : undefined;
    if (union?.case !== 'union' || union.value.type?.type.case !== 'collectionType')
      throw new Error('expected a union value holding a collection type');
    expect(union.value.type.type.value.metadata).toBeDefined();
    union.value.type.type.value.structure = create(TypeStructureSchema, {
      tag: 'Object-Dataclass-Transformer',
    });
    union.value.type.annotation = create(TypeAnnotationSchema, {
      annotations: { 'cache-key-metadata': { 'serialization-format': 'msgpack' } },
    });
    const schema = z.union([z.array(z.unknown()), z.array(Event)]);
    expect(fromLiteral(overTheWire(sent), schema)).toStrictEqual([
      { at: new Date('2024-05-01T00:00:00Z') },
    ]);
  });
});

describe('error messages', () => {
  const messageOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (error) {
      if (error instanceof LiteralConversionError) return error.message;
      throw error;
    }
    throw new Error('expected a LiteralConversionError');
  };

  it('print NaN, infinities and -0 as themselves, not as JSON null', () => {
    expect(messageOf(() => toLiteral(Number.NaN, z.number(), 'inputs.x'))).toBe(
      'inputs.x: expected number, received NaN (number)',
    );
    expect(
      messageOf(() => toLiteral({ x: Number.NEGATIVE_INFINITY }, z.object({ x: z.number() }))),
    ).toBe('value.x: expected number, received -Infinity (number)');
    expect(messageOf(() => toLiteral(-0, z.number().positive(), 'inputs.n'))).toMatch(
      /^inputs\.n: expected a valid value, received -0 \(number\)/,
    );
  });
});

describe('descriptions', () => {
  it('survive wrappers added after .describe()', () => {
    const typed = typedInterfaceOf({
      inputs: z.object({
        limit: z.number().int().describe('Max rows').optional(),
        since: z.date().describe('Lower bound').nullable().default(null),
        tags: z.array(z.string()).describe('Labels').readonly(),
        plain: z.string(),
      }),
      outputs: z.object({}),
    });
    expect(typed.inputs?.variables.map((v) => [v.key, v.value?.description])).toEqual([
      ['limit', 'Max rows'],
      ['since', 'Lower bound'],
      ['tags', 'Labels'],
      ['plain', ''],
    ]);
    // The outermost description wins when both are set.
    const both = typedInterfaceOf({
      inputs: z.object({ n: z.number().describe('inner').optional().describe('outer') }),
      outputs: z.object({}),
    });
    expect(both.inputs?.variables[0]?.value?.description).toBe('outer');
  });
});

describe('z.unknown() and z.any() carry JSON only', () => {
  it('rejects top-level values JSON cannot carry, naming the path', () => {
    expect(() => toLiteral(Number.NaN, z.unknown(), 'inputs.x')).toThrow(
      /^inputs\.x: expected JSON value .*, received NaN \(number\)$/,
    );
    expect(() => toLiteral(1n, z.any(), 'inputs.x')).toThrow(LiteralConversionError);
    expect(() => toLiteral(1n, z.any(), 'inputs.x')).toThrow(/inputs\.x: .*received 1n \(bigint\)/);
    expect(() => toLiteral({ a: [1, new Map()] }, z.unknown(), 'inputs.x')).toThrow(
      /inputs\.x\.a\[1\]: .*received \{\} \(Map\)/,
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toLiteral(cyclic, z.unknown(), 'inputs.x')).toThrow(/inputs\.x\.self: .*itself/);
  });

  it('tells a cycle from the same object twice, at any depth', () => {
    const shared = { n: 1 };
    const deep: unknown[] = [];
    let tip = deep;
    for (let i = 0; i < 2000; i++) {
      const next: unknown[] = [];
      tip.push(shared, next);
      tip = next;
    }
    tip.push(shared);
    const back = roundTrip(z.unknown(), deep) as unknown[];
    expect(back[0]).toStrictEqual({ n: 1 });
    tip.push(deep);
    expect(() => toLiteral(deep, z.unknown(), 'inputs.x')).toThrow(
      /^inputs\.x(\[1\]){2001}: .*contains itself/,
    );
  });

  it('rejects values JSON cannot carry inside objects instead of sending {} or null', () => {
    const schema = z.object({ extra: z.unknown() });
    expect(() => toLiteral({ extra: { when: new Date(0) } }, schema, 'inputs')).toThrow(
      /inputs\.extra\.when: .*received Date\(1970-01-01T00:00:00\.000Z\)/,
    );
    expect(() => toLiteral({ extra: [1n] }, schema, 'inputs')).toThrow(
      /inputs\.extra\[0\]: .*received 1n \(bigint\)/,
    );
    expect(() => toLiteral({ extra: [undefined] }, schema, 'inputs')).toThrow(
      /inputs\.extra\[0\]: .*received undefined/,
    );
  });

  it('still carries real JSON, dropping undefined properties as JSON does', () => {
    const value = { a: [1, 'two', null, { b: false }], c: undefined };
    expect(roundTrip(z.unknown(), value)).toEqual({ a: [1, 'two', null, { b: false }] });
    expect(roundTrip(z.object({ extra: z.any() }), { extra: value })).toEqual({
      extra: { a: [1, 'two', null, { b: false }] },
    });
  });
});

describe('recursive schemas', () => {
  type Tree = { name: string; at: Date; children: Tree[] };
  const LazyTree: z.ZodType<Tree> = z.lazy(() =>
    z.object({ name: z.string(), at: z.date(), children: z.array(LazyTree) }),
  );
  const GetterTree = z.object({
    name: z.string(),
    at: z.date(),
    get children() {
      return z.array(GetterTree);
    },
  });
  const tree: Tree = {
    name: 'root',
    at: new Date('2024-01-01T00:00:00Z'),
    children: [
      { name: 'a', at: new Date('2024-01-02T00:00:00Z'), children: [] },
      {
        name: 'b',
        at: new Date('2024-01-03T00:00:00Z'),
        children: [{ name: 'c', at: new Date('2024-01-04T00:00:00Z'), children: [] }],
      },
    ],
  };

  it.each([
    ['z.lazy', LazyTree],
    ['a getter in the shape', GetterTree],
  ])('are one STRUCT when the recursion goes through an object (%s)', (_name, schema) => {
    expect(literalTypeOf(schema).type).toEqual({ case: 'simple', value: SimpleType.STRUCT });
    expect(literalTypeOf(schema).metadata).toMatchObject({
      properties: { children: { type: 'array', items: { $ref: '#' } } },
    });
    // Dates deep in the tree come back as Dates: the schema guides decoding at every level.
    expect(roundTrip(schema, tree)).toEqual(tree);
    const iface = { inputs: z.object({ tree: schema }), outputs: z.object({}) };
    expect(typedInterfaceOf(iface).inputs?.variables[0]?.value?.type?.type).toEqual({
      case: 'simple',
      value: SimpleType.STRUCT,
    });
    expect(fromInputs(toInputs({ tree }, iface), iface)).toEqual({ tree });
  });

  it('reject recursion outside an object, naming where, instead of overflowing the stack', () => {
    type Nested = Nested[];
    const nested: z.ZodType<Nested> = z.lazy(() => z.array(nested));
    expect(() => literalTypeOf(nested, 'inputs.n')).toThrow(UnsupportedSchemaError);
    expect(() => literalTypeOf(nested, 'inputs.n')).toThrow(/^inputs\.n\[\]: .*contains itself/);
    type Json = string | { [key: string]: Json };
    const map: z.ZodType<Json> = z.lazy(() => z.union([z.string(), z.record(z.string(), map)]));
    expect(() => literalTypeOf(map, 'inputs.m')).toThrow(/^inputs\.m\|1\{\}: .*contains itself/);
    const loop: z.ZodType<string> = z.lazy(() => z.union([z.string(), loop]));
    expect(() => literalTypeOf(loop, 'inputs.l')).toThrow(/^inputs\.l: .*contains itself/);
    expect(() => toLiteral('a', loop, 'inputs.l')).toThrow(UnsupportedSchemaError);
  });
});

describe('optional and nullable', () => {
  it('read NONE back as what the outermost wrapper names', () => {
    expect(roundTrip(z.string().nullable().optional(), undefined)).toBeUndefined();
    expect(roundTrip(z.string().optional().nullable(), null)).toBeNull();
    expect(roundTrip(z.string().optional(), undefined)).toBeUndefined();
    expect(roundTrip(z.string().nullable(), null)).toBeNull();
  });

  it('read NONE back as null in a union whose variants disagree, when no wrapper is outside', () => {
    const mixed = z.union([z.string().optional(), z.number().nullable()]);
    expect(roundTrip(mixed, null)).toBeNull();
    expect(roundTrip(z.union([z.number().nullable(), z.string().optional()]), null)).toBeNull();
    // Variants that agree, and a wrapper outside the union, still decide.
    const agreeing = z.union([z.string().nullable().optional(), z.number().optional()]);
    expect(roundTrip(agreeing, undefined)).toBeUndefined();
    expect(roundTrip(mixed.optional(), null)).toBeUndefined();
    expect(
      roundTrip(z.union([z.string().optional(), z.number()]).nullable(), undefined),
    ).toBeNull();
  });

  it('keep null and a missing field apart inside objects', () => {
    const schema = z.object({ a: z.string().nullable().optional(), b: z.string().optional() });
    expect(roundTrip(schema, { a: null })).toStrictEqual({ a: null });
    expect(roundTrip(schema, {})).toStrictEqual({});
  });
});

describe('msgpack from flyte-sdk (Python v2)', () => {
  // flyte-sdk's DataclassTransformer / PydanticTransformer / DictTransformer: Scalar.binary,
  // tag "msgpack"; datetimes are ISO strings, bytes are msgpack bin, ints are msgpack ints.
  const msgpack = (value: unknown) =>
    scalar({
      case: 'binary',
      value: { value: encodeMsgpack(value, { useBigInt64: true }), tag: 'msgpack' },
    });
  const Order = z.object({
    name: z.string(),
    rows: z.number().int(),
    total: z.bigint(),
    at: z.date(),
    tags: z.array(z.string()),
    blob: bytes(),
    parent: z.number().nullable(),
    note: z.string().optional(),
  });

  it('decodes a dataclass or pydantic model sent as msgpack into an object schema', () => {
    const sent = msgpack({
      name: 'orders',
      // Python's msgpack writes 2**40 as uint64 (0xcf), as the encoder does for a bigint.
      rows: 2n ** 40n,
      total: 2n ** 62n,
      at: '2024-12-31T23:59:59.999000+00:00',
      tags: ['a', 'b'],
      blob: new Uint8Array([1, 2, 3]),
      parent: null,
    });
    expect(fromLiteral(overTheWire(sent), Order)).toEqual({
      name: 'orders',
      rows: 2 ** 40,
      total: 2n ** 62n,
      at: new Date('2024-12-31T23:59:59.999Z'),
      tags: ['a', 'b'],
      blob: new Uint8Array([1, 2, 3]),
      parent: null,
    });
  });

  it('reads the exact bytes Python msgpack.dumps writes', () => {
    // msgpack.dumps({"a": 1, "b": [True, None, 2.5]}) in Python.
    const bytes = new Uint8Array([
      0x82, 0xa1, 0x61, 0x01, 0xa1, 0x62, 0x93, 0xc3, 0xc0, 0xcb, 0x40, 0x04, 0, 0, 0, 0, 0, 0,
    ]);
    const sent = scalar({ case: 'binary', value: { value: bytes, tag: 'msgpack' } });
    const schema = z.object({
      a: z.bigint(),
      b: z.array(z.union([z.boolean(), z.number()]).nullable()),
    });
    expect(fromLiteral(overTheWire(sent), schema)).toEqual({ a: 1n, b: [true, null, 2.5] });
    expect(fromLiteral(overTheWire(sent), z.unknown())).toEqual({ a: 1, b: [true, null, 2.5] });
  });

  it('decodes untyped dicts into records, optional values and named inputs', () => {
    expect(
      fromLiteral(overTheWire(msgpack({ x: 1, y: 2.5 })), z.record(z.string(), z.number())),
    ).toEqual({
      x: 1,
      y: 2.5,
    });
    // Optional[Order] in Python: a union literal around the msgpack binary.
    const optional = scalar({
      case: 'union',
      value: {
        value: msgpack({
          name: 'n',
          rows: 1,
          total: 1,
          at: '2024-01-01T00:00:00',
          tags: [],
          blob: new Uint8Array(),
          parent: 2,
        }),
        type: {
          type: { case: 'simple', value: SimpleType.STRUCT },
          annotation: {
            annotations: { 'cache-key-metadata': { 'serialization-format': 'msgpack' } },
          },
        },
      },
    });
    // A naive Python datetime is UTC, whatever the host's time zone.
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(fromLiteral(overTheWire(optional), Order.optional())).toMatchObject({
        total: 1n,
        parent: 2,
        at: new Date('2024-01-01T00:00:00Z'),
      });
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    const iface = { inputs: z.object({ order: Order }) };
    const inputs = create(InputsSchema, {
      literals: [
        {
          name: 'order',
          value: msgpack({
            name: 'n',
            rows: 1.5,
            total: 1,
            at: '2024-01-01T00:00:00Z',
            tags: [],
            blob: new Uint8Array(),
            parent: null,
          }),
        },
      ],
    });
    expect(() => fromInputs(inputs, iface)).toThrow(
      /inputs\.order\.rows: expected int, received 1\.5 \(number\)/,
    );
  });

  it('names the tag it cannot read, and bytes that are not msgpack', () => {
    const pickle = scalar({
      case: 'binary',
      value: { value: new Uint8Array([0x80]), tag: 'pickle' },
    });
    expect(() => fromLiteral(pickle, Order, 'inputs.order')).toThrow(
      'inputs.order: expected a struct (or binary with tag "msgpack") literal, received binary (tag "pickle")',
    );
    const broken = scalar({
      case: 'binary',
      value: { value: new Uint8Array([0xc1]), tag: 'msgpack' },
    });
    expect(() => fromLiteral(broken, Order, 'inputs.order')).toThrow(
      /^inputs\.order: expected msgpack bytes .*1 bytes did not decode/,
    );
  });
});

describe('unions as flyte-sdk (Python v2) writes and reads them', () => {
  // flyte-sdk picks a union variant by `structure.tag` alone: the `name` of the transformer for
  // the variant's Python type. The names below are copied from flyte-sdk's source
  // (flyte/types/_type_engine.py, _pickle.py, flyte/io/_file.py, _dir.py, _dataframe/dataframe.py).
  const typeOverTheWire = (type: LiteralType) =>
    fromBinary(
      LiteralTypeSchema,
      toBinary(
        OfficialLiteralTypeSchema,
        fromBinary(OfficialLiteralTypeSchema, toBinary(LiteralTypeSchema, type)),
      ),
    );
  const variantTags = (type: LiteralType) =>
    type.type.case === 'unionType' ? type.type.value.variants.map((v) => v.structure?.tag) : [];
  const tagged = (
    value: Literal,
    type: NonNullable<MessageInitShape<typeof LiteralTypeSchema>['type']>,
    tag: string,
  ) => scalar({ case: 'union', value: { value, type: { type, structure: { tag } } } });
  const none = () => scalar({ case: 'noneType', value: {} });

  it("tags each variant with flyte-sdk's transformer name for its Python type", () => {
    const schema = z
      .union([
        z.string(),
        z.number(),
        z.number().int(),
        z.bigint(),
        z.boolean(),
        z.date(),
        duration(),
        z.enum(['a', 'b']),
        z.array(z.string()),
        z.record(z.string(), z.number()),
        z.object({ a: z.string() }),
        fileRef(),
        dirRef(),
        dataFrameRef(),
        bytes(),
        z.unknown(),
      ])
      .optional();
    expect(variantTags(typeOverTheWire(literalTypeOf(schema)))).toEqual([
      'str',
      'float',
      'int',
      'int',
      'bool',
      'datetime',
      'timedelta',
      'DefaultEnumTransformer',
      'Typed List',
      'Typed Dict',
      'Object-Dataclass-Transformer',
      'File',
      'Dir',
      'DataFrame Transformer',
      'FlytePickle',
      'FlytePickle',
      'none',
    ]);
  });

  it('stores the tagged variant type with each union value it writes', () => {
    const written = (value: unknown, schema: z.ZodType) => {
      const sent = overTheWire(toLiteral(value, schema));
      const union = sent.value.case === 'scalar' ? sent.value.value.value : undefined;
      if (union?.case !== 'union') throw new Error('expected a union literal');
      return {
        tag: union.value.type?.structure?.tag,
        type: toJson(LiteralTypeSchema, union.value.type as LiteralType),
        value: toJson(LiteralSchema, union.value.value as Literal),
      };
    };
    expect(written('a', z.string().optional())).toEqual({
      tag: 'str',
      type: { simple: 'STRING', structure: { tag: 'str' } },
      value: { scalar: { primitive: { stringValue: 'a' } } },
    });
    expect(written(null, z.number().int().nullable())).toMatchObject({
      tag: 'none',
      value: { scalar: { noneType: {} } },
    });
    expect(
      written(['x'], z.union([z.array(z.string()), z.record(z.string(), z.string())])),
    ).toEqual({
      tag: 'Typed List',
      type: { collectionType: { simple: 'STRING' }, structure: { tag: 'Typed List' } },
      value: { collection: { literals: [{ scalar: { primitive: { stringValue: 'x' } } }] } },
    });
    // An optional union is one union: the value inside is the plain float, as flyte-sdk sends.
    expect(written(1.5, z.union([z.string(), z.number()]).optional())).toEqual({
      tag: 'float',
      type: { simple: 'FLOAT', structure: { tag: 'float' } },
      value: { scalar: { primitive: { floatValue: 1.5 } } },
    });
  });

  it("flattens optional and nested unions into one union, as Python's typing does", () => {
    // Optional[Union[str, float]] is Union[str, float, None] in Python.
    const expected = {
      unionType: {
        variants: [
          { simple: 'STRING', structure: { tag: 'str' } },
          { simple: 'FLOAT', structure: { tag: 'float' } },
          { simple: 'NONE', structure: { tag: 'none' } },
        ],
      },
    };
    const json = (schema: z.ZodType) =>
      toJson(OfficialLiteralTypeSchema, typeOverTheWire(literalTypeOf(schema)) as never);
    expect(json(z.union([z.string(), z.number()]).optional())).toEqual(expected);
    expect(json(z.union([z.union([z.string(), z.number()])]).nullable())).toEqual(expected);
    expect(json(z.union([z.string(), z.number().optional()]))).toEqual(expected);
    expect(json(z.union([z.string().nullable(), z.number()]))).toEqual(expected);
  });

  it('decodes exactly what flyte-sdk sends for Optional[Union[str, float]] and Optional[Model]', () => {
    const schema = z.union([z.string(), z.number()]).optional();
    const float = tagged(
      prim({ case: 'floatValue', value: 1.5 }),
      { case: 'simple', value: SimpleType.FLOAT },
      'float',
    );
    const str = tagged(
      prim({ case: 'stringValue', value: 'x' }),
      { case: 'simple', value: SimpleType.STRING },
      'str',
    );
    const empty = tagged(none(), { case: 'simple', value: SimpleType.NONE }, 'none');
    expect(fromLiteral(overTheWire(float), schema)).toBe(1.5);
    expect(fromLiteral(overTheWire(str), schema)).toBe('x');
    expect(fromLiteral(overTheWire(empty), schema)).toBeUndefined();
    expect(
      fromLiteral(overTheWire(empty), z.union([z.string(), z.number()]).nullable()),
    ).toBeNull();
    // Optional[Model] with a pydantic model: msgpack bytes, STRUCT type with annotation and tag.
    const model = scalar({
      case: 'union',
      value: {
        value: scalar({
          case: 'binary',
          value: { value: encodeMsgpack({ n: 2 }), tag: 'msgpack' },
        }),
        type: {
          type: { case: 'simple', value: SimpleType.STRUCT },
          structure: { tag: 'Pydantic Transformer' },
          annotation: {
            annotations: { 'cache-key-metadata': { 'serialization-format': 'msgpack' } },
          },
        },
      },
    });
    const iface = { inputs: z.object({ m: z.object({ n: z.number() }).optional(), u: schema }) };
    const inputs = create(InputsSchema, {
      literals: [
        { name: 'm', value: model },
        { name: 'u', value: float },
      ],
    });
    expect(fromInputs(fromBinary(InputsSchema, toBinary(InputsSchema, inputs)), iface)).toEqual({
      m: { n: 2 },
      u: 1.5,
    });
  });

  it('reads a plain value where a union is expected, as flyte-sdk does', () => {
    const float = prim({ case: 'floatValue', value: 2.5 });
    expect(fromLiteral(overTheWire(float), z.union([z.string(), z.number()]))).toBe(2.5);
    expect(fromLiteral(overTheWire(float), z.union([z.string(), z.number()]).optional())).toBe(2.5);
    expect(() =>
      fromLiteral(
        overTheWire(prim({ case: 'boolean', value: true })),
        z.union([z.string(), z.number()]),
        'inputs.u',
      ),
    ).toThrow(/^inputs\.u: expected a union of 2 variants literal, received primitive boolean/);
  });

  it('still reads the untagged and nested unions that earlier versions wrote', () => {
    const untagged = (value: Literal, type: MessageInitShape<typeof LiteralTypeSchema>) =>
      scalar({ case: 'union', value: { value, type } });
    const STRING = { type: { case: 'simple', value: SimpleType.STRING } } as const;
    const FLOAT = { type: { case: 'simple', value: SimpleType.FLOAT } } as const;
    const NONE = { type: { case: 'simple', value: SimpleType.NONE } } as const;
    const schema = z.union([z.string(), z.number()]).optional();
    // x.optional() around a union was a union (of the union and NONE) around a union.
    const nested = untagged(untagged(prim({ case: 'floatValue', value: 1.5 }), FLOAT), {
      type: { case: 'unionType', value: { variants: [STRING, FLOAT] } },
    });
    expect(fromLiteral(overTheWire(nested), schema)).toBe(1.5);
    // The inner union's stored type still picks the variant.
    const INTEGER = { type: { case: 'simple', value: SimpleType.INTEGER } } as const;
    const nestedInt = untagged(untagged(prim({ case: 'integer', value: 5n }), INTEGER), {
      type: { case: 'unionType', value: { variants: [FLOAT, INTEGER] } },
    });
    expect(fromLiteral(overTheWire(nestedInt), z.union([z.number(), z.bigint()]).optional())).toBe(
      5n,
    );
    expect(fromLiteral(overTheWire(untagged(none(), NONE)), schema)).toBeUndefined();
    expect(
      fromLiteral(
        overTheWire(untagged(prim({ case: 'stringValue', value: 'a' }), STRING)),
        z.union([z.string(), z.number()]),
      ),
    ).toBe('a');
    expect(
      fromLiteral(
        overTheWire(
          untagged(prim({ case: 'integer', value: 3n }), {
            type: { case: 'simple', value: SimpleType.INTEGER },
          }),
        ),
        z.number().int().nullable(),
      ),
    ).toBe(3);
  });
});

describe('bytes() beside variants that read JSON', () => {
  it('leaves a JSON or msgpack binary to them instead of returning its encoded bytes', () => {
    const schema = z.union([bytes(), z.unknown()]);
    expect(roundTrip(schema, { a: 1 })).toStrictEqual({ a: 1 });
    expect(roundTrip(schema, new Uint8Array([1, 2]))).toStrictEqual(new Uint8Array([1, 2]));
    const packed = scalar({
      case: 'binary',
      value: { value: encodeMsgpack({ a: 1 }), tag: 'msgpack' },
    });
    expect(fromLiteral(packed, z.union([bytes(), z.record(z.string(), z.number())]))).toStrictEqual(
      { a: 1 },
    );
    // Alone, bytes() still takes any binary.
    expect(fromLiteral(packed, bytes().optional())).toBeInstanceOf(Uint8Array);
  });
});

describe('unions inside objects (which travel as JSON)', () => {
  it('refuse variants that JSON cannot tell apart, naming the path and a discriminated shape', () => {
    const refused: [string, z.ZodType][] = [
      ['string | Date', z.union([z.string(), z.date()])],
      ['bigint | string', z.union([z.bigint(), z.string()])],
      ['number | bigint', z.union([z.number(), z.bigint()]).optional()],
      ['bytes | string', z.union([bytes(), z.string()])],
      ['Date | unknown', z.union([z.date(), z.unknown()]).nullable()],
    ];
    for (const [name, union] of refused) {
      const schema = z.object({ rows: z.array(z.object({ at: union })) });
      expect(() => literalTypeOf(schema, 'inputs.x'), name).toThrow(UnsupportedSchemaError);
      expect(() => literalTypeOf(schema, 'inputs.x'), name).toThrow(
        /^inputs\.x\.rows\[\]\.at: union variants 0 .* and 1 .* both travel as a JSON .*z\.discriminatedUnion/,
      );
    }
    // Values are refused too, before a Date could silently come back as a string.
    const Event = z.object({ at: z.union([z.string(), z.date()]) });
    expect(() => toLiteral({ at: new Date(0) }, Event, 'inputs.e')).toThrow(/^inputs\.e\.at: /);
    const struct = scalar({ case: 'generic', value: { fields: {} } });
    expect(() => fromLiteral(struct, Event, 'outputs.e')).toThrow(UnsupportedSchemaError);
  });

  it('keep unions JSON can tell apart working, and discriminated unions exact', () => {
    const schema = z.object({
      u: z.union([z.string(), z.number(), z.boolean()]).nullable(),
      e: z.union([z.enum(['a', 'b']), z.string(), z.unknown()]),
      d: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('at'), value: z.date() }),
        z.object({ kind: z.literal('text'), value: z.string() }),
        z.object({ kind: z.literal('big'), value: z.bigint() }),
      ]),
    });
    const at = {
      u: 1.5,
      e: 'b',
      d: { kind: 'at' as const, value: new Date('2024-01-01T00:00:00Z') },
    };
    const text = {
      u: 'x',
      e: { any: 1 },
      d: { kind: 'text' as const, value: '2024-01-01T00:00:00Z' },
    };
    const big = { u: null, e: 'z', d: { kind: 'big' as const, value: 2n ** 60n } };
    expect(roundTrip(schema, at)).toEqual(at);
    expect(roundTrip(schema, text)).toEqual(text);
    expect(roundTrip(schema, big)).toEqual(big);
    // Outside objects a union stores its variant's type, so string | Date is exact there.
    const top = z.union([z.string(), z.date()]);
    expect(roundTrip(top, '2024-01-01T00:00:00Z')).toBe('2024-01-01T00:00:00Z');
    expect(roundTrip(top, new Date(0))).toEqual(new Date(0));
  });
});

describe('object keys named like Object.prototype members', () => {
  it('are data: decoded, encoded and dropped like any other key', () => {
    const schema = z.object({ a: z.number() });
    const struct = scalar({ case: 'generic', value: { a: 1, constructor: 'x' } });
    expect(fromLiteral(overTheWire(struct), schema)).toStrictEqual({ a: 1 });
    const packed = scalar({
      case: 'binary',
      value: { value: encodeMsgpack({ a: 1, toString: 'x' }), tag: 'msgpack' },
    });
    expect(fromLiteral(overTheWire(packed), schema)).toStrictEqual({ a: 1 });
    const loose = z.looseObject({ a: z.number() });
    expect(roundTrip(loose, { a: 1, constructor: 'x' })).toStrictEqual({ a: 1, constructor: 'x' });
  });

  it('keep "__proto__" a key, never a prototype', () => {
    const sent = scalar({
      case: 'generic',
      value: JSON.parse('{"a":1,"__proto__":{"admin":true}}'),
    });
    const schema = z.object({ a: z.number(), admin: z.boolean().optional() });
    const value = fromLiteral(sent, schema);
    expect(value).toStrictEqual({ a: 1 });
    expect(value.admin).toBeUndefined();
    expect(({} as { admin?: unknown }).admin).toBeUndefined();
  });
});

describe('deeply nested msgpack', () => {
  const nestedArrays = (depth: number) => {
    const payload = new Uint8Array(depth + 1).fill(0x91); // fixarray of one element, nested
    payload[depth] = 0xc0; // nil, innermost
    return scalar({ case: 'binary', value: { value: payload, tag: 'msgpack' } });
  };

  it('is refused with the path where it got too deep, not a stack overflow', () => {
    const error = (() => {
      try {
        fromLiteral(nestedArrays(20_000), z.unknown(), 'inputs.blob');
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(LiteralConversionError);
    expect((error as Error).message).toMatch(
      /^inputs\.blob(\[0\]){1000}: expected msgpack nested at most 1000 arrays or maps deep/,
    );
  });

  it('still decodes nesting within the limit', () => {
    let expected: unknown = null;
    for (let i = 0; i < 1000; i++) expected = [expected];
    expect(fromLiteral(nestedArrays(1000), z.unknown())).toStrictEqual(expected);
  });
});
