/**
 * The JavaScript built-ins orchestrator code may name. Everything else global is absent: no
 * `Date`, `eval`, `Function`, `globalThis`, `Proxy`, `Reflect`, `WeakRef`, timers or IO.
 */
export const ALLOWED_GLOBALS: readonly string[] = Object.freeze([
  'Array',
  'Boolean',
  'Error',
  'Infinity',
  'JSON',
  'Map',
  'Math',
  'NaN',
  'Number',
  'Object',
  'Promise',
  'RangeError',
  'RegExp',
  'Set',
  'String',
  'TypeError',
  'decodeURIComponent',
  'encodeURIComponent',
  'isFinite',
  'isNaN',
  'parseFloat',
  'parseInt',
  'undefined',
]);

/**
 * Everything the validator enforces, for people and for code-writing models. Give it to a model
 * that writes orchestrators; every rule here has a test in this package.
 */
export const ORCHESTRATOR_SYNTAX_GUIDE = `Orchestrator code: the rules

The source is the body of an async function. Its parameters are the declared inputs, by name.
Call tasks with await: \`const s = await add(x, y)\`. Run calls concurrently with
\`await Promise.all(xs.map((x) => double(x)))\`, or with bounded fan-out through the builtin
\`map(task, items, { concurrency, returnExceptions })\`. The value of an explicit \`return\`, or
else of the last expression statement, is the output. Values that enter (inputs, task results)
and leave (task arguments, the output) are JSON values; inputs and task results are frozen.

Rules (the name in brackets is what an error reports):
[no-import] No import or export declarations, no import() and no import.meta: code cannot load
  modules. Declare what you need as a task.
[no-eval] No eval, Function or new Function: code cannot compile code.
[no-reflective-member] No access to .constructor, .__proto__ or .prototype, in any spelling
  (o.constructor, o['constructor'], { constructor } patterns, __proto__ keys in literals).
[no-class] No class declarations or expressions: use plain objects and functions.
[no-try] No try, catch or finally. A failed task fails the run; \`throw new Error(...)\` fails it on
  purpose; map(..., { returnExceptions: true }) returns failures as values.
[no-member-assignment] No assignment to a member: not o.x = v, o[k] = v, o.x += 1, o.x++,
  delete o.x, nor a member as a destructuring or for-of target. Build new values instead:
  { ...o, x: v }, [...xs, v], xs.concat(...), Object.fromEntries(...).
[no-with] No with statements.
[no-label] No labels (and so no labelled break or continue).
[no-generator] No generator functions (function*, async function*) and no yield.
[no-this] No this, super or new.target: functions here are plain functions.
[no-var] No var: use const or let.
[no-accessor] No getters or setters in object literals.
[no-arguments] No arguments object: use rest parameters (...args).
[no-unknown-global] Name only local variables, the inputs, the declared tasks, map and these
  built-ins: ${ALLOWED_GLOBALS.join(', ')}. There is no Date (time would make runs differ), no
  globalThis, no timers, no console and no IO of any kind: tasks are the only way out.
[no-reserved-name] No names starting with __flyte: they belong to the sandbox's own code.
[syntax] The code must parse as modern JavaScript (ES2024) in strict mode, as the body of the
  function: no HTML-like comments (<!-- and -->; write a < !--b with spaces), and no declaration
  of a name that is an input (const x = 1 when x is an input).

Also true at run time: Math.random is seeded per run (the same inputs give the same numbers),
JSON.stringify takes one argument, values nested deeper than 100 levels cannot cross the
boundary, and every run is held to its limits (memory, stack, CPU time, wall-clock time, number
of task calls, output size).`;
