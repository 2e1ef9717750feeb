import type { QuickJSContext, QuickJSHandle, QuickJSWASMModule } from 'quickjs-emscripten-core';
import type { WasmMemory } from './quickjs-engine';

/**
 * The low-level QuickJS functions of one WebAssembly module that the direct call path uses. They
 * are quickjs-emscripten's own FFI (`QuickJSWASMModule.getFFI()`, marked unstable), typed here with
 * plain numbers: every pointer is an offset into the module's memory.
 */
interface RawFFI {
  QTS_NewFloat64(ctx: number, value: number): number;
  QTS_NewString(ctx: number, utf8: number): number;
  QTS_GetFloat64(ctx: number, value: number): number;
  QTS_GetString(ctx: number, value: number): number;
  QTS_GetProp(ctx: number, value: number, key: number): number;
  QTS_GetPropNumber(ctx: number, value: number, index: number): number;
  QTS_SetProp(ctx: number, value: number, key: number, propertyValue: number): void;
  QTS_DefineProp(
    ctx: number,
    value: number,
    key: number,
    propertyValue: number,
    get: number,
    set: number,
    configurable: boolean,
    enumerable: boolean,
    hasValue: boolean,
  ): void;
  QTS_GetGlobalObject(ctx: number): number;
  QTS_FreeCString(ctx: number, utf8: number): void;
  QTS_FreeValuePointer(ctx: number, value: number): void;
  QTS_Call(ctx: number, fn: number, thisValue: number, argc: number, argv: number): number;
  QTS_ResolveException(ctx: number, value: number): number;
  QTS_GetUndefined(): number;
  QTS_GetNull(): number;
  QTS_GetTrue(): number;
  QTS_GetFalse(): number;
}

/** The kind of a JSValue, read from its tag. */
export const ValueKind = {
  Int: 0,
  Float: 1,
  Boolean: 2,
  Null: 3,
  Undefined: 4,
  String: 5,
  Exception: 6,
  /** Objects, symbols, bigints: anything the host does not read directly. */
  Other: 7,
} as const;
export type ValueKind = (typeof ValueKind)[keyof typeof ValueKind];

// QuickJS's tags in this build, where a JSValue is one NaN-boxed 64-bit word whose high 32 bits
// are the tag. Checked against the module by `openRawQuickJS` before anything relies on them.
const TAG_INT = 0;
const TAG_BOOL = 1;
const TAG_NULL = 2;
const TAG_UNDEFINED = 3;
const TAG_EXCEPTION = 6;
const TAG_STRING = -7;
/** A string made by concatenation, kept as a tree until it is read. */
const TAG_STRING_ROPE = -6;
// A float64 is stored with an offset that puts its tag outside the range of the others
// (JS_TAG_IS_FLOAT64 in quickjs.h): JS_TAG_FIRST is JS_TAG_BIG_INT, and JS_TAG_FLOAT64 the last.
const TAG_FIRST = -9;
const TAG_FLOAT64 = 8;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Direct access to one QuickJS WebAssembly module: make guest values, call guest functions and
 * read primitive results without quickjs-emscripten's handle objects, scopes and string copies.
 * A run of synchronous code then costs a handful of calls into WebAssembly. Obtained from
 * {@link openRawQuickJS}, which proves every assumption first; when it cannot, runs use the
 * public API instead.
 */
export class RawQuickJS {
  private heapBuffer: ArrayBuffer | undefined;
  private bytes = new Uint8Array(0);
  private words = new Int32Array(0);

  constructor(
    readonly ffi: RawFFI,
    private readonly memory: WasmMemory,
    readonly malloc: (size: number) => number,
    readonly free: (pointer: number) => void,
  ) {}

  /** The memory as bytes; views are remade when the memory grew (which detaches the old). */
  heap(): Uint8Array {
    if (this.heapBuffer !== this.memory.buffer) {
      this.heapBuffer = this.memory.buffer;
      this.bytes = new Uint8Array(this.heapBuffer);
      this.words = new Int32Array(this.heapBuffer);
    }
    return this.bytes;
  }

  /** Writes `pointer` into the 32-bit slot at `address` (an argv entry). */
  writePointer(address: number, pointer: number): void {
    this.heap();
    this.words[address >> 2] = pointer;
  }

  /** The kind of the JSValue at `pointer`. */
  kindOf(pointer: number): ValueKind {
    this.heap();
    const tag = this.words[(pointer >> 2) + 1] as number;
    switch (tag) {
      case TAG_INT:
        return ValueKind.Int;
      case TAG_BOOL:
        return ValueKind.Boolean;
      case TAG_NULL:
        return ValueKind.Null;
      case TAG_UNDEFINED:
        return ValueKind.Undefined;
      case TAG_STRING:
      case TAG_STRING_ROPE:
        return ValueKind.String;
      case TAG_EXCEPTION:
        return ValueKind.Exception;
      default:
        return (tag - TAG_FIRST) >>> 0 >= TAG_FLOAT64 - TAG_FIRST
          ? ValueKind.Float
          : ValueKind.Other;
    }
  }

  /** The payload word of an int or boolean JSValue. */
  intOf(pointer: number): number {
    this.heap();
    return this.words[pointer >> 2] as number;
  }

  /**
   * A new guest string (the caller frees it), through `scratch` when it fits. Only for text that
   * {@link canPassAsCString} accepts. When QuickJS is out of memory, the value is an exception
   * ({@link ValueKind.Exception}), or 0 when not even that could be allocated.
   */
  newString(ctx: number, text: string, scratch: number, scratchBytes: number): number {
    const heap = this.heap();
    // A UTF-16 unit takes at most 3 UTF-8 bytes, plus the terminating zero.
    if (text.length * 3 < scratchBytes) {
      const { written } = encoder.encodeInto(text, heap.subarray(scratch, scratch + scratchBytes));
      heap[scratch + written] = 0;
      return this.ffi.QTS_NewString(ctx, scratch);
    }
    const size = text.length * 3 + 1;
    const buffer = this.malloc(size);
    // The WebAssembly memory cannot grow any further: as QuickJS does, report no value.
    if (buffer === 0) return 0;
    try {
      const bytes = this.heap();
      const { written } = encoder.encodeInto(text, bytes.subarray(buffer, buffer + size));
      bytes[buffer + written] = 0;
      return this.ffi.QTS_NewString(ctx, buffer);
    } finally {
      this.free(buffer);
    }
  }

  /**
   * The text of a guest string JSValue: `false` when it cannot be read exactly through a C string
   * (one with a NUL character, where the C string ends, or a lone surrogate, which has no UTF-8
   * form), `undefined` when QuickJS could not allocate the C string (it is out of memory).
   * `lengthKey` is a guest string "length", to read the string's own length.
   */
  exactStringOf(ctx: number, pointer: number, lengthKey: number): string | false | undefined {
    const text = this.stringOf(ctx, pointer);
    if (text === undefined) return undefined;
    const length = this.ffi.QTS_GetProp(ctx, pointer, lengthKey);
    const exact =
      this.kindOf(length) === ValueKind.Int &&
      this.intOf(length) === text.length &&
      !text.includes('\uFFFD');
    this.ffi.QTS_FreeValuePointer(ctx, length);
    return exact ? text : false;
  }

  /**
   * The text of a guest string JSValue up to its first NUL character, or `undefined` when QuickJS
   * could not allocate the C string (it is out of memory).
   */
  stringOf(ctx: number, pointer: number): string | undefined {
    const chars = this.ffi.QTS_GetString(ctx, pointer);
    if (chars === 0) return undefined;
    try {
      const heap = this.heap();
      const end = heap.indexOf(0, chars);
      return decoder.decode(heap.subarray(chars, end));
    } finally {
      this.ffi.QTS_FreeCString(ctx, chars);
    }
  }
}

interface WellFormed {
  isWellFormed(): boolean;
}

/**
 * Whether `text` reaches the guest intact as a NUL-terminated UTF-8 string: no NUL character and
 * no lone surrogate (well-formed pairs are fine).
 */
export function canPassAsCString(text: string): boolean {
  // String.prototype.isWellFormed is in Node 20, not in this project's TypeScript lib (ES2022).
  return (text as unknown as WellFormed).isWellFormed() && !text.includes('\u0000');
}

/** The context pointer behind a `QuickJSContext` (quickjs-emscripten keeps it in `ctx`). */
export function contextPointer(context: QuickJSContext): number | undefined {
  const value = (context as unknown as { ctx?: { value?: unknown } }).ctx?.value;
  return typeof value === 'number' && value > 0 ? value : undefined;
}

/** The JSValue pointer of a handle. */
export function pointerOf(handle: QuickJSHandle): number {
  return handle.value as unknown as number;
}

const REQUIRED: readonly (keyof RawFFI)[] = [
  'QTS_NewFloat64',
  'QTS_NewString',
  'QTS_GetFloat64',
  'QTS_GetString',
  'QTS_GetProp',
  'QTS_GetPropNumber',
  'QTS_SetProp',
  'QTS_DefineProp',
  'QTS_GetGlobalObject',
  'QTS_FreeCString',
  'QTS_FreeValuePointer',
  'QTS_Call',
  'QTS_ResolveException',
  'QTS_GetUndefined',
  'QTS_GetNull',
  'QTS_GetTrue',
  'QTS_GetFalse',
];

/**
 * Opens the direct path on a loaded module, or returns `undefined` when any of its assumptions
 * does not hold for this build of quickjs-emscripten: the FFI functions, the allocator, the
 * context pointer, and how values are laid out in memory are each checked against the public
 * API on real values, once per module.
 */
export function openRawQuickJS(
  module: QuickJSWASMModule,
  memory: WasmMemory,
): RawQuickJS | undefined {
  try {
    const ffi = module.getFFI() as unknown as Partial<RawFFI>;
    const emscripten = (module as unknown as { module?: { _malloc?: unknown; _free?: unknown } })
      .module;
    if (
      REQUIRED.some((name) => typeof ffi[name] !== 'function') ||
      typeof emscripten?._malloc !== 'function' ||
      typeof emscripten._free !== 'function'
    ) {
      return undefined;
    }
    const malloc = emscripten._malloc as (size: number) => number;
    const free = emscripten._free as (pointer: number) => void;
    const raw = new RawQuickJS(ffi as RawFFI, memory, malloc, free);
    return selfTest(module, raw) ? raw : undefined;
  } catch {
    return undefined;
  }
}

/** Checks the direct path against the public API on a throwaway runtime. */
function selfTest(module: QuickJSWASMModule, raw: RawQuickJS): boolean {
  const runtime = module.newRuntime();
  try {
    const context = runtime.newContext();
    try {
      const ctx = contextPointer(context);
      if (ctx === undefined) return false;
      const kinds: [string, ValueKind, unknown][] = [
        ['7', ValueKind.Int, 7],
        ['-2147483647 - 1', ValueKind.Int, -2147483648],
        ['7.5', ValueKind.Float, 7.5],
        ['2 ** 40', ValueKind.Float, 2 ** 40],
        ['-0', ValueKind.Float, -0],
        ['NaN', ValueKind.Float, Number.NaN],
        ['-Infinity', ValueKind.Float, Number.NEGATIVE_INFINITY],
        ['true', ValueKind.Boolean, 1],
        ['false', ValueKind.Boolean, 0],
        ['null', ValueKind.Null, null],
        ['undefined', ValueKind.Undefined, undefined],
        ['"héllo ☃"', ValueKind.String, 'héllo ☃'],
        // A concatenation this long is a rope.
        [
          "'a'.repeat(3000) + 'b'.repeat(3000)",
          ValueKind.String,
          `${'a'.repeat(3000)}${'b'.repeat(3000)}`,
        ],
        ['2n ** 100n', ValueKind.Other, undefined],
        ['({})', ValueKind.Other, undefined],
        ['[]', ValueKind.Other, undefined],
        ['Symbol()', ValueKind.Other, undefined],
        ['10n', ValueKind.Other, undefined],
      ];
      for (const [code, kind, expected] of kinds) {
        const handle = context.unwrapResult(context.evalCode(code));
        try {
          const pointer = pointerOf(handle);
          if (raw.kindOf(pointer) !== kind) return false;
          const read =
            kind === ValueKind.Int || kind === ValueKind.Boolean
              ? raw.intOf(pointer)
              : kind === ValueKind.Float
                ? raw.ffi.QTS_GetFloat64(ctx, pointer)
                : kind === ValueKind.String
                  ? raw.stringOf(ctx, pointer)
                  : kind === ValueKind.Null
                    ? null
                    : undefined;
          if (!Object.is(read, expected)) return false;
        } finally {
          handle.dispose();
        }
      }
      // A call with arguments made here, and an exception.
      const fn = context.unwrapResult(
        context.evalCode('(function (a, s) { if (a < 0) throw new Error(s); return s + a })'),
      );
      try {
        const argv = raw.malloc(8);
        const scratch = raw.malloc(64);
        try {
          const call = (a: number, s: string): string | undefined => {
            const first = raw.ffi.QTS_NewFloat64(ctx, a);
            const second = raw.newString(ctx, s, scratch, 64);
            raw.writePointer(argv, first);
            raw.writePointer(argv + 4, second);
            const result = raw.ffi.QTS_Call(
              ctx,
              pointerOf(fn),
              raw.ffi.QTS_GetUndefined(),
              2,
              argv,
            );
            raw.ffi.QTS_FreeValuePointer(ctx, first);
            raw.ffi.QTS_FreeValuePointer(ctx, second);
            try {
              if (raw.kindOf(result) === ValueKind.Exception) {
                const error = raw.ffi.QTS_ResolveException(ctx, result);
                const isObject = error !== 0 && raw.kindOf(error) === ValueKind.Other;
                if (error !== 0) raw.ffi.QTS_FreeValuePointer(ctx, error);
                return isObject ? undefined : '?';
              }
              return raw.kindOf(result) === ValueKind.String ? raw.stringOf(ctx, result) : '?';
            } finally {
              raw.ffi.QTS_FreeValuePointer(ctx, result);
            }
          };
          if (call(1.5, 'x=') !== 'x=1.5') return false;
          // Strings a C string cannot carry exactly are recognised as such.
          const lengthKey = raw.newString(ctx, 'length', scratch, 64);
          for (const [code, exact] of [
            ["'plain ☃'", 'plain ☃'],
            ["'nul \\u0000 inside'", false],
            ["'lone \\ud800'", false],
          ] as const) {
            const handle = context.unwrapResult(context.evalCode(code));
            const text = raw.exactStringOf(ctx, pointerOf(handle), lengthKey);
            handle.dispose();
            if (text !== exact) {
              raw.ffi.QTS_FreeValuePointer(ctx, lengthKey);
              return false;
            }
          }
          raw.ffi.QTS_FreeValuePointer(ctx, lengthKey);
          if (call(-1, 'boom') !== undefined) return false;
          // A string longer than the scratch buffer goes through the allocator.
          const long = 'ü'.repeat(100);
          if (call(2, long) !== `${long}2`) return false;
        } finally {
          raw.free(argv);
          raw.free(scratch);
        }
      } finally {
        fn.dispose();
      }
      return true;
    } finally {
      context.dispose();
    }
  } finally {
    runtime.dispose();
  }
}
