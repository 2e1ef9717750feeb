import { fromBinary, type JsonValue, toBinary, toJson } from '@bufbuild/protobuf';
import { LiteralSchema as OfficialLiteralSchema } from '@flyteorg/flyteidl2/flyteidl2/core/literals_pb.ts';
import { LiteralTypeSchema as OfficialLiteralTypeSchema } from '@flyteorg/flyteidl2/flyteidl2/core/types_pb.ts';
import { InputsSchema as OfficialInputsSchema } from '@flyteorg/flyteidl2/flyteidl2/task/common_pb.ts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
// What consumers get: the compiled bundle, not the official sources this test decodes with.
import { LiteralSchema, LiteralTypeSchema, SimpleType } from '../dist/core.js';
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
      unionType: { variants: [{ simple: 'STRING' }, { simple: 'NONE' }] },
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
