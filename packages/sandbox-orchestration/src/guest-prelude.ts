/** Deepest nesting a value may have to cross the sandbox boundary. */
export const MAX_VALUE_DEPTH = 100;

/**
 * The global through which instrumented orchestrator code reports errors (see
 * `validateOrchestratorSource`). Orchestrator code may not name it: the validator rejects every
 * identifier starting with {@link RESERVED_PREFIX}.
 *
 * Calling it needs stack, which a stack overflow may have left none of: a failed call would
 * become one more rejection nobody looks at. So a catch first counts, without a call, in the
 * hook's own property {@link FATAL_PENDING}, and the hook takes the count back once it has
 * reported; a count left over is a limit error that could not be reported, and the host, which
 * reads it after every slice of guest code and before every task call, ends the run.
 */
export const FATAL_HOOK = '__flyte_fatal';

/** The property of {@link FATAL_HOOK} counting the errors it has not finished reporting. */
export const FATAL_PENDING = 'n';

/** Identifiers starting with this are reserved for the sandbox's own instrumentation. */
export const RESERVED_PREFIX = '__flyte';

/** Operations of the one host function the prelude receives (its first argument). */
export const HostOp = {
  /** `host(0, task, argsJson)`: one task call; returns a promise of the result's JSON. */
  call: 0,
  /** `host(1, task, itemsJson, concurrency, returnExceptions)`: `map` over a task. */
  map: 1,
  /** `host(2, message)`: the guest saw a limit error (stack overflow, out of memory). */
  limit: 2,
  /** `host(3)`: the function {@link LAZY_PRELUDE} evaluates to, compiled on first use. */
  lazy: 3,
} as const;

/** Which parts of the prelude an orchestrator needs. */
export interface PreludeFeatures {
  /** The code awaits or calls tasks: install task functions, `map` and the async runner. */
  asynchronous: boolean;
  /** Freeze every intrinsic reachable from the global object (pooled contexts). */
  freezeIntrinsics: boolean;
  /** The declared tasks, installed as globals (asynchronous code only). */
  taskNames: readonly string[];
}

// Everything below is guest code (trusted: written here, never by users). A fresh context parses
// it on every run, and QuickJS in WebAssembly parses at roughly 0.1 µs per character, most of a
// fresh run's cost: it is written compactly, the eager part holds only what every run needs, and
// the rest (encoding objects, describing errors, map) is parsed on first use (LAZY_PRELUDE).

// A limit error (QuickJS's own stack or memory limit, or the interrupt handler) must end the run
// at once, even when a handler would catch it: \`fatal\` reports it to the host, which stops the
// run. Errors QuickJS raises itself have exactly these prototypes, set before any guest code can
// touch them (instanceof could be fooled through Symbol.hasInstance).
const FATAL = `(e)=>{if(typeof e!=='object'||e===null)return false;const p=protoOf(e);if(p!==IEP&&p!==SEP)return false;const m=gopd(e,'message'),t=m&&m.value;if(t!=='stack overflow'&&t!=='out of memory'&&t!=='interrupted')return false;host(${HostOp.limit},t);return true}`;

// Pieces shared by both preludes: RANDOM needs `let state` and `imul` in scope, JSON_STRINGIFY
// needs `L`, and both need `def` and `hidden`.
const RANDOM = `def(Math,'random',hidden(function random(){state=(state+0x9e3779b9)|0;let z=state;z=imul(z^(z>>>16),0x85ebca6b);z=imul(z^(z>>>13),0xc2b2ae35);return((z^(z>>>16))>>>0)/4294967296}));`;
const JSON_STRINGIFY = `def(JSON,'stringify',hidden(function stringify(v){return L().stringify(arguments.length,v)}));`;
const DEEP_FREEZE = `function deepFreeze(v){if(typeof v==='object'&&v!==null&&!isFrozen(v)){freeze(v);for(const k of keys(v))deepFreeze(v[k])}return v}`;

const CORE = `'use strict';
const G=globalThis,O=Object,{freeze,isFrozen,keys,defineProperty:def,getPrototypeOf:protoOf,getOwnPropertyDescriptor:gopd}=O,isArray=Array.isArray,jsonParse=JSON.parse,quote=JSON.stringify,imul=Math.imul,TypeErr=TypeError,RangeErr=RangeError,ErrorCtor=Error,IEP=G.InternalError.prototype,SEP=SyntaxError.prototype,ownKeys=Reflect.ownKeys,hidden=(value)=>({value,writable:false,configurable:false,enumerable:false});
let state=0,lazy,taskOf,N;
const L=()=>lazy||(lazy=host(${HostOp.lazy})(host,quote,keys,isArray,freeze,deepFreeze,jsonParse,protoOf,gopd,IEP,SEP,TypeErr,RangeErr,ErrorCtor,taskOf,N));
${RANDOM}
${JSON_STRINGIFY}
${DEEP_FREEZE}
function begin(r){const b=r.indexOf('|');state=+r.slice(0,b)|0;return deepFreeze(jsonParse(r.slice(b+1)))}
const fail=(e)=>'e'+L().describe(e),finish=(v)=>{switch(typeof v){case'number':return v===v&&v!==Infinity&&v!==-Infinity?'o'+v:'onull';case'string':return'o'+quote(v);case'boolean':return v?'otrue':'ofalse';case'undefined':return'u'}const e=L().encode(v,0);return e===undefined?'u':'o'+e};
`;

// Promise handlers could swallow a limit error: every handler goes through \`then\` (await does
// not, but an await rethrows into an instrumented function), and a handler is never called with
// a limit error. Promise.all and friends pass their own resolving functions through here too.
const TASKS = (
  taskNames: readonly string[],
): string => `const TASK_NAMES=${JSON.stringify(taskNames)};const fatal=${FATAL};N=Promise;taskOf=new WeakMap();
const hook=(e)=>{fatal(e);hook.${FATAL_PENDING}--;return e};hook.${FATAL_PENDING}=0;def(G,'${FATAL_HOOK}',hidden(hook));
{const P=N.prototype,call=Function.prototype.call.bind(P.then);
const onOk=(f)=>typeof f==='function'?(v)=>{try{return f(v)}catch(e){fatal(e);throw e}}:f;
const onErr=(f)=>typeof f==='function'?(e)=>{if(fatal(e))throw e;try{return f(e)}catch(x){fatal(x);throw x}}:f;
def(P,'then',hidden(function then(f,r){return call(this,onOk(f),onErr(r))}));
def(P,'catch',hidden(function(r){return this.then(undefined,r)}));
// Executors run at any depth, handlers (above) from the job queue, with the stack to report.
const wrapEx=(x)=>typeof x==='function'?(a,b)=>{try{return x(a,b)}catch(e){hook.${FATAL_PENDING}++;throw hook(e)}}:x;
const Q=function Promise(x){return new N(wrapEx(x))};Q.prototype=P;
for(const k of['resolve','reject','all','allSettled','any','race','withResolvers'])if(typeof N[k]==='function')def(Q,k,hidden(N[k].bind(N)));
def(Q,'try',hidden(function(f,...a){return N.try(wrapEx(()=>f(...a)))}));
def(P,'constructor',hidden(Q));def(G,'Promise',{value:Q,writable:true,configurable:true,enumerable:false})}
for(const name of TASK_NAMES){const task=async function(...args){const site=new ErrorCtor(''),a=L().encode(args,0);let raw;try{raw=await host(${HostOp.call},name,a)}catch(f){if(fatal(f))throw f;throw L().taskError(f,site,name)}return deepFreeze(jsonParse(raw))};def(task,'name',{value:name});taskOf.set(task,name);def(G,name,hidden(freeze(task)))}
def(G,'map',hidden(freeze(async function map(fn,items,options){return L().map(fn,items,options)})));
`;

/**
 * The part of the prelude a run parses only when it needs it, through \`host(HostOp.lazy)\`: a
 * function of the eager part's captured built-ins (captured before any orchestrator code ran, so
 * the code cannot swap them) returning the encoder, the error describer and \`map\`.
 */
export const LAZY_PRELUDE = `(function(host,quote,keys,isArray,freeze,deepFreeze,jsonParse,protoOf,gopd,IEP,SEP,TypeErr,RangeErr,ErrorCtor,taskOf,N){'use strict';
const fatal=${FATAL};
function stringify(n,v){if(n>1)throw new TypeErr('JSON.stringify takes one argument in orchestrator code (no replacer, no indentation).');return encode(v,0)}
function encode(v,d){switch(typeof v){case'string':return quote(v);case'number':return v===v&&v!==Infinity&&v!==-Infinity?''+v:'null';case'boolean':return v?'true':'false';case'bigint':throw new TypeErr('A bigint cannot leave the sandbox: convert it with Number(x) or String(x).');case'undefined':case'function':case'symbol':return undefined}
if(v===null)return'null';if(d>=${MAX_VALUE_DEPTH})throw new RangeErr('A value nested deeper than ${MAX_VALUE_DEPTH} levels (or circular) cannot leave the sandbox.');if(typeof v.toJSON==='function')return encode(v.toJSON(),d+1);const parts=[];
if(isArray(v)){for(let i=0;i<v.length;i++){const e=encode(v[i],d+1);parts.push(e===undefined?'null':e)}return'['+parts.join(',')+']'}
for(const k of keys(v)){const e=encode(v[k],d+1);if(e!==undefined)parts.push(quote(k)+':'+e)}return'{'+parts.join(',')+'}'}
function text(v,f){try{return typeof v==='string'?v:v===undefined?f:''+v}catch(e){fatal(e);return f}}
function describe(e){const d={name:'Error',message:'',stack:''};try{if(typeof e==='object'&&e!==null){d.name=text(e.name,'Error');d.message=text(e.message,'');d.stack=text(e.stack,'');d.internal=protoOf(e)===IEP;if(typeof e.taskCall==='number'){d.taskCall=e.taskCall;d.task=text(e.task,'');d.callStack=text(e.callStack,'')}}else{d.name='Thrown value';d.message=typeof e==='symbol'?'a symbol':text(e,'a value')}}catch(x){fatal(x);d.message='a thrown value that cannot be described'}return quote(d)}
function taskError(f,site,name){const err=new ErrorCtor('Task "'+name+'" failed: '+text(f&&f.message,'unknown error'));err.name='TaskError';err.task=name;err.callStack=site.stack;err.taskCall=f&&typeof f.sequence==='number'?f.sequence:-1;return err}
async function map(fn,items,options){if(!isArray(items))throw new TypeErr('map(task, items, options): items must be an array.');const opts=options===undefined?{}:options,concurrency=opts.concurrency===undefined?items.length||1:opts.concurrency;
if(typeof concurrency!=='number'||!(concurrency>=1)||concurrency%1!==0)throw new RangeErr('map(task, items, { concurrency }): concurrency must be a whole number of at least 1, got '+text(concurrency,'undefined')+'.');
const returnExceptions=opts.returnExceptions===true,name=taskOf.get(fn);
if(name!==undefined){const site=new ErrorCtor(''),a=encode(items,0);let raw;try{raw=await host(${HostOp.map},name,a,concurrency,returnExceptions)}catch(f){if(fatal(f))throw f;throw taskError(f,site,name)}const results=[];for(const s of jsonParse(raw))results.push(s[0]===1?deepFreeze(s[1]):freeze(taskError(s[1],site,name)));return freeze(results)}
if(typeof fn!=='function')throw new TypeErr('map(task, items, options): task must be a declared task or a function.');
const results=new Array(items.length);let next=0;
async function lane(){while(next<items.length){const i=next++;try{results[i]=await fn(items[i])}catch(e){if(fatal(e)||!returnExceptions)throw e;results[i]=e}}}
const lanes=[];for(let i=0;i<concurrency&&i<items.length;i++)lanes.push(lane());await N.all(lanes);return freeze(results)}
return{encode,stringify,describe,taskError,map}})`;

/**
 * The globals a fresh context has (with the intrinsics sessions create) that orchestrator code may
 * not use: the prelude deletes them. A test checks that this list and `ALLOWED_GLOBALS` together
 * are exactly the context's globals, so a QuickJS upgrade that adds one cannot slip through.
 */
export const DISALLOWED_GLOBALS: readonly string[] = Object.freeze([
  'AggregateError',
  'BigInt',
  'EvalError',
  'Function',
  'InternalError',
  'Iterator',
  'ReferenceError',
  'Reflect',
  'Symbol',
  'SyntaxError',
  'URIError',
  'WeakMap',
  'WeakSet',
  'decodeURI',
  'encodeURI',
  'escape',
  'eval',
  'globalThis',
  'unescape',
]);

// Function constructors compile code from strings: make them unreachable through any path, and
// remove every global that is not an allowed built-in. Written out rather than looped over the
// global object: a fresh context compiles this on every run, and this form compiles in half the
// time. Needs \`G\` (the global object), \`def\` and \`protoOf\` in scope.
const LOCKDOWN = `{const u={value:undefined,writable:false,configurable:false,enumerable:false};def(protoOf(function(){}),'constructor',u);def(protoOf(async function(){}),'constructor',u);def(protoOf(function*(){}),'constructor',u);def(protoOf(async function*(){}),'constructor',u);for(const k of'${DISALLOWED_GLOBALS.join(' ')}'.split(' '))delete G[k]}
`;

// The fatal hook stays writable: instrumented code counts in it (code cannot reach it).
// Some frozen data properties become accessors first: a frozen data property on a prototype
// makes setting a same-named own property on an object below it fail (the "override mistake"), so
// Object.assign({}, { toString: 1 }) or Object.assign(new Error(m), { name }) would throw in a
// pooled context and work in a fresh one. Those are Object.prototype's properties and the name and
// message of the error prototypes; the setter defines the property on the object assigned to, as
// an assignment does where nothing is frozen, and refuses the prototype itself.
const FREEZE = (
  hooked: boolean,
): string => `{const dp=O.defineProperty,acc=(o,k)=>{const d=O.getOwnPropertyDescriptor(o,k);if(d===undefined||!('value'in d))return;const v=d.value;dp(o,k,{get(){return v},set(x){if(this===o)throw new TypeError('built-ins are frozen');dp(this,k,{value:x,writable:true,enumerable:true,configurable:true})},enumerable:d.enumerable,configurable:false})};
for(const k of ownKeys(O.prototype))acc(O.prototype,k);
for(const n of ownKeys(G))if(typeof n==='string'&&n.endsWith('Error')&&typeof G[n]==='function'){acc(G[n].prototype,'name');acc(G[n].prototype,'message')}
const seen=new Set(${hooked ? `[G.${FATAL_HOOK}]` : ''}),stack=[G];
while(stack.length>0){const v=stack.pop();if((typeof v!=='object'&&typeof v!=='function')||v===null||seen.has(v))continue;seen.add(v);
for(const k of ownKeys(v)){const d=O.getOwnPropertyDescriptor(v,k);if(d===undefined)continue;if('value'in d)stack.push(d.value);if(d.get)stack.push(d.get);if(d.set)stack.push(d.set)}
stack.push(protoOf(v));freeze(v)}}
`;

/** What a direct prelude (see {@link buildDirectPrelude}) installs. */
export interface DirectPreludeFeatures {
  /** The code names `Math`: install the seeded `Math.random`. */
  math: boolean;
  /** The code names `JSON`: install the one-argument, depth-limited `JSON.stringify`. */
  json: boolean;
  /** Freeze every intrinsic reachable from the global object (pooled contexts). */
  freezeIntrinsics: boolean;
}

/**
 * The lazy part of a direct prelude, compiled when a run first needs it (an input that is an
 * object, an output that is not a primitive, an error, JSON.stringify) and called with the
 * prelude's \`B\` (built-ins captured before any orchestrator code ran, so code that redefines one
 * cannot change how values are encoded) and the host function: {@link LAZY_PRELUDE}'s functions
 * plus \`ingest\`, which turns the JSON text of an input into a deep-frozen guest value.
 */
export const DIRECT_LAZY = `(function(B,host){'use strict';const[IEP,SEP,quote,keys,isArray,freeze,isFrozen,jsonParse,protoOf,gopd,TypeErr,RangeErr,ErrorCtor]=B;
${DEEP_FREEZE}
const l=${LAZY_PRELUDE}(host,quote,keys,isArray,freeze,deepFreeze,jsonParse,protoOf,gopd,IEP,SEP,TypeErr,RangeErr,ErrorCtor);
return{ingest:(t)=>deepFreeze(jsonParse(t)),encode:(v)=>l.encode(v,0),describe:l.describe,stringify:l.stringify}})`;

/**
 * Builds the prelude of synchronous code run through the direct call path: the host calls the
 * orchestrator's function itself with guest values it made, and reads a primitive result
 * straight from QuickJS's memory, so nothing per run is parsed or encoded in the guest. It returns
 * \`[B, seed, P, freezeAll]\`:
 * - \`B\`: what {@link DIRECT_LAZY} is called with (built-ins captured before any orchestrator code
 *   runs);
 * - \`seed(n)\`: seeds \`Math.random\` (undefined when the code does not name \`Math\`);
 * - \`P\`: the prototypes of the four kinds of function, whose \`constructor\` the host removes;
 * - \`freezeAll()\`: freezes every intrinsic reachable from the global object (pooled contexts
 *   only), for the host to call once it has locked the context down.
 *
 * The host, not this code, removes the function constructors and {@link DISALLOWED_GLOBALS}
 * (setting them to undefined through QuickJS's FFI): a fresh context compiles this prelude on
 * every run, and compiling is most of a fresh run's cost. Only code that names \`JSON\` needs the
 * host function (its JSON.stringify compiles the lazy part through \`host(HostOp.lazy)\`); other
 * code gets \`undefined\` for it.
 */
export function buildDirectPrelude(features: DirectPreludeFeatures): string {
  const { math, json, freezeIntrinsics } = features;
  return [
    `(function(host){'use strict';const G=globalThis,O=Object,protoOf=O.getPrototypeOf,B=[G.InternalError.prototype,SyntaxError.prototype,JSON.stringify,O.keys,Array.isArray,O.freeze,O.isFrozen,JSON.parse,protoOf,O.getOwnPropertyDescriptor,TypeError,RangeError,Error]${freezeIntrinsics ? ',ownKeys=Reflect.ownKeys,freeze=O.freeze' : ''}${math || json ? ',def=O.defineProperty,hidden=(value)=>({value,writable:false,configurable:false,enumerable:false})' : ''};`,
    math ? `let state=0;const imul=Math.imul;${RANDOM}` : '',
    json ? `let lazy;const L=()=>lazy||(lazy=host(${HostOp.lazy})(B,host));${JSON_STRINGIFY}` : '',
    // As the runner's \`begin\` does with the seed it reads: a 32-bit integer.
    `return[B,${math ? '(s)=>{state=s|0}' : 'undefined'},[protoOf(function(){}),protoOf(async function(){}),protoOf(function*(){}),protoOf(async function*(){})],${freezeIntrinsics ? `()=>${FREEZE(false)}` : 'undefined'}]})`,
  ].join('\n');
}

// Synchronous code has no promises: its errors reach the runner, and the host classifies them.
const SYNC_RUNNER = `return function run(fn,r){try{return finish(fn(...begin(r)))}catch(e){return fail(e)}};`;

const ASYNC_RUNNER = `return async function run(fn,r){try{return finish(await fn(...begin(r)))}catch(e){fatal(e);return fail(e)}};`;

/**
 * Builds the trusted code run once in every QuickJS context before any orchestrator code: a
 * function of the host bridge (`host`, see {@link HostOp}) that returns `run(fn, request)`, where `request` is `"<seed>|<inputs as a JSON array>"`. `run` never
 * throws or rejects: it returns `o<JSON of the value>`, `u` (undefined) or `e<JSON of the error>`,
 * so the host reads one string and no guest getter, `toJSON` or `Symbol.toPrimitive` ever runs on
 * the host.
 *
 * Values are encoded in the guest by a depth-limited encoder instead of the native
 * JSON.stringify, which recurses on the host's native stack without QuickJS's stack check: a
 * deeply nested value would overflow the host's stack.
 */
export function buildPrelude(features: PreludeFeatures): string {
  return [
    '(function(host){',
    CORE,
    features.asynchronous ? TASKS(features.taskNames) : '',
    LOCKDOWN,
    features.freezeIntrinsics ? FREEZE(features.asynchronous) : '',
    features.asynchronous ? ASYNC_RUNNER : SYNC_RUNNER,
    '})',
  ].join('\n');
}
