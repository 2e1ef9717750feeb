import { FlyteError } from '@flyte/idl';
import variant from '@jitl/quickjs-wasmfile-release-sync';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import { DISALLOWED_GLOBALS } from './guest-prelude';
import { openRawQuickJS, type RawQuickJS } from './quickjs-raw';
import { ALLOWED_GLOBALS } from './syntax-guide';

/**
 * One loaded QuickJS WebAssembly module (the synchronous build: never asyncify, whose second
 * awaited call corrupts the runtime) with the WebAssembly memory it runs in, so runs can watch
 * its growth. Many runtimes share one module.
 */
export interface QuickJSEngine {
  readonly module: QuickJSWASMModule;
  readonly memory: WasmMemory;
  /**
   * The direct call path into this module, or undefined when this build of quickjs-emscripten
   * does not pass its self-test (runs then use the public API only).
   */
  readonly raw: RawQuickJS | undefined;
  /**
   * Set when the module aborted or overflowed the host's stack: its memory may be inconsistent,
   * so nothing may run in it again. The next run loads a new module.
   */
  broken: boolean;
}

/** The part of `WebAssembly.Memory` used here (the base config's lib has no WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

const { WebAssembly: wasm } = globalThis as unknown as {
  WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory };
};

// 16 MiB to start; the module declares 2 GiB as its maximum, an import may not exceed it.
const INITIAL_PAGES = 256;
const MAXIMUM_PAGES = 32768;

/**
 * The intrinsics every session's context gets; the preludes delete the globals among them that
 * orchestrator code may not use (`DISALLOWED_GLOBALS`).
 */
export const CONTEXT_INTRINSICS = {
  BaseObjects: true,
  Eval: true,
  StringNormalize: true,
  RegExp: true,
  JSON: true,
  MapSet: true,
  Promise: true,
} as const;

/**
 * The globals a context with {@link CONTEXT_INTRINSICS} has that are in neither `known` list: the
 * preludes delete a fixed list of globals, so a QuickJS build with a global missing from both
 * lists must not be used.
 */
export function unknownGlobals(
  module: QuickJSWASMModule,
  known: ReadonlySet<string> = KNOWN_GLOBALS,
): string[] {
  const runtime = module.newRuntime();
  try {
    const context = runtime.newContext({ intrinsics: CONTEXT_INTRINSICS });
    try {
      const handle = context.unwrapResult(
        context.evalCode('Object.getOwnPropertyNames(globalThis)'),
      );
      const names = context.dump(handle) as string[];
      handle.dispose();
      return names.filter((name) => !known.has(name));
    } finally {
      context.dispose();
    }
  } finally {
    runtime.dispose();
  }
}

const KNOWN_GLOBALS: ReadonlySet<string> = new Set([...ALLOWED_GLOBALS, ...DISALLOWED_GLOBALS]);

let current: Promise<QuickJSEngine> | undefined;
let loaded: QuickJSEngine | undefined;
let directPathEnabled = true;

/**
 * Turns the direct call path off (or back on) for engines loaded from now on, and drops the
 * current engine so the next run loads one. For tests of the public-API path; not exported from
 * the package.
 */
export function setDirectPathForTests(enabled: boolean): void {
  directPathEnabled = enabled;
  current = undefined;
  loaded = undefined;
}

/** The shared engine when it is loaded and usable, without waiting: the fast path of every run. */
export function loadedEngine(): QuickJSEngine | undefined {
  return loaded && !loaded.broken ? loaded : undefined;
}

/**
 * The shared engine, loaded on first use and replaced only when a run broke it. Loading takes a
 * few milliseconds once per process (or worker).
 */
export async function loadEngine(): Promise<QuickJSEngine> {
  if (current) {
    const engine = await current;
    if (!engine.broken) return engine;
  }
  const memory = new wasm.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES });
  const loading = newQuickJSWASMModuleFromVariant(
    newVariant(variant, { wasmMemory: memory as never }),
  ).then((module): QuickJSEngine => {
    const unknown = unknownGlobals(module);
    if (unknown.length > 0) {
      throw new FlyteError(
        'unsupported_engine',
        `This build of QuickJS has globals the orchestration sandbox does not know, and would leave them to orchestrator code: ${unknown.join(', ')}. Add each to ALLOWED_GLOBALS or DISALLOWED_GLOBALS in @flyte/sandbox-orchestration, or install the quickjs-emscripten version it pins.`,
        { details: { globals: unknown } },
      );
    }
    const engine: QuickJSEngine = {
      module,
      memory,
      raw: directPathEnabled ? openRawQuickJS(module, memory) : undefined,
      broken: false,
    };
    if (current === loading) loaded = engine;
    return engine;
  });
  current = loading;
  loading.catch(() => {
    if (current === loading) current = undefined;
  });
  return loading;
}
