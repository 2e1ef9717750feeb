import { ALLOWED_GLOBALS } from './syntax-guide';

/** Deepest nesting a value may have to cross the sandbox boundary. */
export const MAX_VALUE_DEPTH = 100;

/** Which parts of the prelude an orchestrator needs. */
export interface PreludeFeatures {
  /** The code awaits or calls tasks: install task functions, `map` and the async runner. */
  asynchronous: boolean;
  /** Freeze every intrinsic reachable from the global object (pooled contexts). */
  freezeIntrinsics: boolean;
}

// Everything below is guest code (trusted: written here, never by users). It is kept compact
// because a fresh context parses it on every run.

const CORE = `'use strict';
const G = globalThis, O = Object;
const { freeze, isFrozen, keys, defineProperty: def, getPrototypeOf: protoOf } = O;
const isArray = Array.isArray, jsonParse = JSON.parse, quote = JSON.stringify, imul = Math.imul, ownKeys = Reflect.ownKeys;
const TypeErr = TypeError, RangeErr = RangeError, SyntaxErr = SyntaxError, InternalErr = G.InternalError;
const hidden = (value) => ({ value, writable: false, configurable: false, enumerable: false });
let state = 0;
def(Math, 'random', hidden(function random() {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = imul(z ^ (z >>> 16), 0x85ebca6b);
  z = imul(z ^ (z >>> 13), 0xc2b2ae35);
  return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
}));
function encode(v, depth) {
  switch (typeof v) {
    case 'string': return quote(v);
    case 'number': return v === v && v !== Infinity && v !== -Infinity ? '' + v : 'null';
    case 'boolean': return v ? 'true' : 'false';
    case 'bigint': throw new TypeErr('A bigint cannot leave the sandbox: convert it with Number(x) or String(x).');
    case 'undefined': case 'function': case 'symbol': return undefined;
  }
  if (v === null) return 'null';
  if (depth >= ${MAX_VALUE_DEPTH}) throw new RangeErr('A value nested deeper than ${MAX_VALUE_DEPTH} levels (or circular) cannot leave the sandbox.');
  if (typeof v.toJSON === 'function') return encode(v.toJSON(), depth + 1);
  const parts = [];
  if (isArray(v)) {
    for (let i = 0; i < v.length; i++) { const e = encode(v[i], depth + 1); parts.push(e === undefined ? 'null' : e); }
    return '[' + parts.join(',') + ']';
  }
  for (const k of keys(v)) { const e = encode(v[k], depth + 1); if (e !== undefined) parts.push(quote(k) + ':' + e); }
  return '{' + parts.join(',') + '}';
}
def(JSON, 'stringify', hidden(function stringify(v) {
  if (arguments.length > 1) throw new TypeErr('JSON.stringify takes one argument in orchestrator code (no replacer, no indentation).');
  return encode(v, 0);
}));
function deepFreeze(v) {
  if (typeof v === 'object' && v !== null && !isFrozen(v)) { freeze(v); for (const k of keys(v)) deepFreeze(v[k]); }
  return v;
}
function text(v, fallback) {
  try { return typeof v === 'string' ? v : v === undefined ? fallback : '' + v; } catch (e) { return fallback; }
}
function describe(e) {
  const d = { name: 'Error', message: '', stack: '' };
  try {
    if (typeof e === 'object' && e !== null) {
      d.name = text(e.name, 'Error'); d.message = text(e.message, ''); d.stack = text(e.stack, '');
      d.internal = InternalErr !== undefined && e instanceof InternalErr;
      if (typeof e.taskCall === 'number') { d.taskCall = e.taskCall; d.task = text(e.task, ''); d.callStack = text(e.callStack, ''); }
    } else { d.name = 'Thrown value'; d.message = typeof e === 'symbol' ? 'a symbol' : text(e, 'a value'); }
  } catch (x) { d.message = 'a thrown value that cannot be described'; }
  return quote(d);
}
function begin(request) {
  const bar = request.indexOf('|');
  state = +request.slice(0, bar) | 0;
  limitSeen = undefined;
  return deepFreeze(jsonParse(request.slice(bar + 1)));
}
// The first limit error the run's code saw: a run that saw one fails with it, even if a handler
// caught it on the way (see Promise.prototype.then below).
let limitSeen;
const fail = (e) => 'e' + describe(limitSeen === undefined ? e : limitSeen);
const finish = (v) => {
  if (limitSeen !== undefined) return fail(limitSeen);
  const e = encode(v, 0);
  return e === undefined ? 'u' : 'o' + e;
};
`;

const TASKS = `const ErrorCtor = Error;
// A limit (memory, stack, interrupt) must fail the run: a .catch or .then handler may see the
// error, but the run is remembered to have hit it. (Handlers still run: Promise.all and friends
// pass their own resolving functions through here.)
const fatal = (e) => typeof e === 'object' && e !== null &&
  ((InternalErr !== undefined && e instanceof InternalErr) || (e instanceof SyntaxErr && e.message === 'stack overflow'));
{
  const P = Promise.prototype, then = P.then, apply = Function.prototype.call.bind(then);
  def(P, 'then', hidden(function then(onFulfilled, onRejected) {
    const watched = typeof onRejected === 'function'
      ? (e) => { if (limitSeen === undefined && fatal(e)) limitSeen = e; return onRejected(e); }
      : onRejected;
    return apply(this, onFulfilled, watched);
  }));
  def(P, 'catch', hidden(function (onRejected) { return this.then(undefined, onRejected); }));
}
function taskError(failure, site, name) {
  const err = new ErrorCtor('Task "' + name + '" failed: ' + text(failure && failure.message, 'unknown error'));
  err.name = 'TaskError'; err.task = name; err.callStack = site.stack;
  err.taskCall = failure && typeof failure.sequence === 'number' ? failure.sequence : -1;
  return err;
}
const taskOf = new WeakMap();
for (const name of jsonParse(taskNames)) {
  const task = async function (...args) {
    const site = new ErrorCtor('');
    let raw;
    try { raw = await hostCall(name, encode(args, 0)); } catch (failure) { throw taskError(failure, site, name); }
    return deepFreeze(jsonParse(raw));
  };
  def(task, 'name', { value: name });
  taskOf.set(task, name);
  def(G, name, hidden(freeze(task)));
}
async function map(fn, items, options) {
  if (!isArray(items)) throw new TypeErr('map(task, items, options): items must be an array.');
  const opts = options === undefined ? {} : options;
  const concurrency = opts.concurrency === undefined ? items.length || 1 : opts.concurrency;
  if (typeof concurrency !== 'number' || !(concurrency >= 1) || concurrency % 1 !== 0) {
    throw new RangeErr('map(task, items, { concurrency }): concurrency must be a whole number of at least 1, got ' + text(concurrency, 'undefined') + '.');
  }
  const returnExceptions = opts.returnExceptions === true;
  const name = taskOf.get(fn);
  if (name !== undefined) {
    const site = new ErrorCtor('');
    let raw;
    try { raw = await hostMap(name, encode(items, 0), concurrency, returnExceptions); } catch (failure) { throw taskError(failure, site, name); }
    const results = [];
    for (const s of jsonParse(raw)) results.push(s[0] === 1 ? deepFreeze(s[1]) : freeze(taskError(s[1], site, name)));
    return freeze(results);
  }
  if (typeof fn !== 'function') throw new TypeErr('map(task, items, options): task must be a declared task or a function.');
  const results = new Array(items.length);
  let next = 0;
  async function lane() {
    while (next < items.length) {
      const i = next++;
      try { results[i] = await fn(items[i]); } catch (e) {
        if (limitSeen === undefined && fatal(e)) limitSeen = e;
        if (!returnExceptions) throw e;
        results[i] = e;
      }
    }
  }
  const lanes = [];
  for (let i = 0; i < concurrency && i < items.length; i++) lanes.push(lane());
  await Promise.all(lanes);
  return freeze(results);
}
def(G, 'map', hidden(freeze(map)));
`;

// Function constructors compile code from strings: make them unreachable through any path, and
// remove every global that is not an allowed built-in (tasks and map were defined above).
const LOCKDOWN = `for (const f of [function () {}, async function () {}, function* () {}, async function* () {}]) {
  def(protoOf(f), 'constructor', hidden(undefined));
}
const allowed = new Set(${JSON.stringify(ALLOWED_GLOBALS)});
for (const key of O.getOwnPropertyNames(G)) {
  if (!allowed.has(key) && O.getOwnPropertyDescriptor(G, key).configurable) delete G[key];
}
`;

const FREEZE = `{
  const seen = new Set(), stack = [G];
  while (stack.length > 0) {
    const v = stack.pop();
    if ((typeof v !== 'object' && typeof v !== 'function') || v === null || seen.has(v)) continue;
    seen.add(v);
    for (const k of ownKeys(v)) {
      const d = O.getOwnPropertyDescriptor(v, k);
      if (d === undefined) continue;
      if ('value' in d) stack.push(d.value);
      if (d.get) stack.push(d.get);
      if (d.set) stack.push(d.set);
    }
    stack.push(protoOf(v));
    freeze(v);
  }
}
`;

const SYNC_RUNNER = `return function run(fn, request) {
  try { const inputs = begin(request); return finish(fn(...inputs)); } catch (e) { return fail(e); }
};`;

const ASYNC_RUNNER = `return async function run(fn, request) {
  try { const inputs = begin(request); return finish(await fn(...inputs)); } catch (e) { return fail(e); }
};`;

/**
 * Builds the trusted code run once in every QuickJS context before any orchestrator code: a
 * function of the host bridge (`hostCall`, `hostMap`) and the task names (JSON text) that returns
 * `run(fn, request)`, where `request` is `"<seed>|<inputs as a JSON array>"`. `run` never throws
 * or rejects: it returns `o<JSON of the value>`, `u` (undefined) or `e<JSON of the error>`, so the host reads one
 * string and no guest getter, `toJSON` or `Symbol.toPrimitive` ever runs on the host.
 *
 * Values are encoded in the guest by a depth-limited encoder instead of the native
 * JSON.stringify, which recurses on the host's native stack without QuickJS's stack check: a
 * deeply nested value would overflow the host's stack.
 */
export function buildPrelude(features: PreludeFeatures): string {
  return [
    '(function (hostCall, hostMap, taskNames) {',
    CORE,
    features.asynchronous ? TASKS : '',
    LOCKDOWN,
    features.freezeIntrinsics ? FREEZE : '',
    features.asynchronous ? ASYNC_RUNNER : SYNC_RUNNER,
    '})',
  ].join('\n');
}
