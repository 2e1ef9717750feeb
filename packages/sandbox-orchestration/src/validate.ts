import { type Node, parse, tokenizer } from 'acorn';
import { OrchestratorValidationError, type SourceDiagnostic } from './errors';
import { FATAL_HOOK, FATAL_PENDING, RESERVED_PREFIX } from './guest-prelude';
import { ALLOWED_GLOBALS } from './syntax-guide';

/** What the validator needs to know besides the source. */
export interface ValidationContext {
  /** Shown in messages, and used as the file name of the guest code. */
  name: string;
  /** Input names: the parameters of the orchestrator function. */
  inputs: readonly string[];
  /** Declared task names. */
  tasks: readonly string[];
}

/** Source that passed validation, wrapped and ready to compile in QuickJS. */
export interface CompiledSource {
  /** The user's source as given. */
  source: string;
  /** A script whose completion value is the orchestrator's async function. */
  script: string;
  /**
   * Where `return ` was inserted before a final expression statement (1-based line, 0-based
   * column; lines end at `\n` only, as QuickJS counts them).
   */
  returnInsertedAt: { line: number; column: number } | undefined;
  /**
   * True when the code cannot produce a promise (no await, no async function, no task, `map` or
   * `Promise`): it then runs as a plain function, without the job loop.
   */
  synchronous: boolean;
  /**
   * The built-in globals the code names (`Math`, `JSON`, ...): the prelude installs the seeded
   * `Math.random` and the one-argument `JSON.stringify` only for code that can reach them.
   */
  builtins: ReadonlySet<string>;
  /**
   * Maps a 1-based position in `script`, as QuickJS reports it (lines ending at `\n` only, columns
   * counting code points), to the user's source (lines ending at `\n` only, columns counting
   * UTF-16 units, as in validation diagnostics).
   */
  toSourcePosition(line: number, column: number): { line: number; column: number };
}

const RETURN = 'return ';
const REFLECTIVE = new Set(['constructor', '__proto__', 'prototype']);
const BUILTIN_NAMES = new Set(['map']);
const allowed = new Set(ALLOWED_GLOBALS);

const HINTS: Record<string, string> = {
  'no-import': 'Declare what you need as a task in `tasks` and call it with await.',
  'no-eval': 'Write the code directly; orchestrator code cannot compile code.',
  'no-reflective-member': 'Work with plain values; prototypes and constructors are off limits.',
  'no-class': 'Use plain objects and functions instead of a class.',
  'no-try':
    'Let the failure fail the run, or use map(task, items, { returnExceptions: true }) to get failures as values.',
  'no-member-assignment':
    'Build a new value instead: { ...o, key: v }, [...xs, v], Object.fromEntries(...).',
  'no-with': 'Name the object explicitly: o.x instead of with (o) { x }.',
  'no-label': 'Move the loop into a function and return from it instead of a labelled break.',
  'no-generator': 'Use an async function or build an array instead of a generator.',
  'no-this': 'Pass values as parameters; functions here are plain functions.',
  'no-var': 'Use const (or let when the variable is reassigned).',
  'no-accessor': 'Compute the value and store it as a plain property.',
  'no-arguments': 'Use rest parameters: (...args) => ...',
  'no-reserved-name': `Rename it: names starting with ${RESERVED_PREFIX} belong to the sandbox.`,
  'no-unknown-global':
    'Use a local variable, an input, a declared task, map, or an allowed built-in (see ORCHESTRATOR_SYNTAX_GUIDE).',
  syntax: 'Fix the syntax at this position (the code must be valid strict-mode JavaScript).',
};

interface Scope {
  names: Set<string>;
  parent: Scope | undefined;
}

// acorn's Node carries only type/start/end; the rest is read by field name.
type AnyNode = Node &
  Record<string, unknown> & { loc?: { start: { line: number; column: number } } };

/**
 * Checks orchestrator source against `ORCHESTRATOR_SYNTAX_GUIDE` and wraps it for QuickJS.
 * Throws {@link OrchestratorValidationError} listing every problem, each with line:column, a code
 * frame and a one-line fix hint. Nothing is evaluated.
 *
 * @param source - The body of an async function whose parameters are the inputs.
 * @param context - The orchestrator's name, input names and task names.
 */
export function validateOrchestratorSource(
  source: string,
  context: ValidationContext,
): CompiledSource {
  const lines = source.split('\n');
  const locate = lineLocator(source);
  // acorn parses exactly what QuickJS compiles: the source as the body of the async function
  // whose parameters are the inputs, in a script, strict. Parsed alone (as a module, say), code
  // could mean one thing to acorn and another to QuickJS (`<!--` starts a comment only in a
  // script), and a redeclared input would pass here and fail every run.
  const header = scriptHeader(true, context.inputs);
  const shift = header.length;
  const wrapped = `${header}${source}${SCRIPT_FOOTER}`;
  /** An offset in `wrapped` as an offset in `source`. */
  const inSource = (offset: number): number => Math.min(source.length, Math.max(0, offset - shift));
  const diagnostics: SourceDiagnostic[] = [];
  const report = (rule: string, message: string, offset: number): void => {
    const { line, column } = locate(inSource(offset));
    diagnostics.push({
      rule,
      message,
      hint: HINTS[rule] ?? '',
      line,
      column: column + 1,
      frame: codeFrame(lines, line, column + 1),
    });
  };
  const at = (rule: string, message: string, node: AnyNode): void =>
    report(rule, message, node.start);

  const reserved: { offset: number; name: string }[] = [];
  // Where each `=>` ends: an arrow's expression body may sit in parentheses the AST omits.
  const arrowEnds: number[] = [];
  let program: AnyNode;
  try {
    program = parse(wrapped, {
      onToken(token) {
        if (token.type.label === '=>') arrowEnds.push(token.end);
        const value = (token as { value?: unknown }).value;
        if (
          token.type.label === 'name' &&
          typeof value === 'string' &&
          value.startsWith(RESERVED_PREFIX) &&
          token.start >= shift
        ) {
          reserved.push({ offset: token.start, name: value });
        }
      },
      onComment(_block, _text, start) {
        // QuickJS reads these as comments too; they are refused because one character more or
        // less (`a <!--b`, `a < !--b`) turns code into a comment.
        if (wrapped.startsWith('<!--', start) || wrapped.startsWith('-->', start)) {
          report(
            'syntax',
            `\`${wrapped.startsWith('<!--', start) ? '<!--' : '-->'}\` starts an HTML-like comment: use // or /* */ comments, and spaces around operators (a < !--b).`,
            start,
          );
        }
      },
      ecmaVersion: 2024,
      sourceType: 'script',
    }) as unknown as AnyNode;
  } catch (error) {
    const pos = (error as { pos?: number }).pos ?? shift;
    const message = (error as Error).message.replace(/ \(\d+:\d+\)$/, '');
    // Code is parsed as a strict script, where `with`, import and export are syntax errors:
    // report them under their own rules.
    if (/'with' in strict mode/.test(message)) {
      report('no-with', '`with` is not allowed.', pos);
    } else if (/'import' and 'export'|'import\.meta'/.test(message)) {
      report('no-import', 'import and export are not allowed: code cannot load modules.', pos);
    } else {
      report('syntax', message, pos);
    }
    throw new OrchestratorValidationError(context.name, diagnostics);
  }
  const wrapper = (program.body as AnyNode[])[0]?.expression as AnyNode | undefined;
  if (
    (program.body as AnyNode[]).length !== 1 ||
    wrapper?.type !== 'FunctionExpression' ||
    wrapper.end !== wrapped.length - 1
  ) {
    report(
      'syntax',
      'Unexpected `}`: it closes the function the code is the body of.',
      closingBrace(wrapped),
    );
    throw new OrchestratorValidationError(context.name, diagnostics);
  }
  // The statements of the source: the wrapper's body without its 'use strict'.
  const body = ((wrapper.body as AnyNode).body as AnyNode[]).slice(1);

  const root: Scope = {
    names: new Set([...context.inputs, ...context.tasks, 'map']),
    parent: undefined,
  };
  for (const r of reserved) {
    report('no-reserved-name', `\`${r.name}\` is reserved for the sandbox.`, r.offset);
  }
  const walker = new Walker(at, root);
  walker.block(body, { names: new Set(), parent: root });
  const synchronous =
    !walker.usesAsync &&
    !['map', 'Promise', ...context.tasks].some((name) => walker.referenced.has(name));

  if (diagnostics.length > 0) {
    diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new OrchestratorValidationError(context.name, diagnostics);
  }

  const last = body.at(-1);
  const insertions: Insertion[] = [];
  let returnInsertedAt: CompiledSource['returnInsertedAt'];
  if (last?.type === 'ExpressionStatement') {
    const offset = last.start - shift;
    insertions.push({ offset, text: RETURN, order: 0 });
    returnInsertedAt = locate(offset);
  }
  if (!synchronous) {
    // Promise machinery turns a throw inside a function it calls into a rejection nobody may
    // look at. Every function reports the limit errors passing through it, so a limit ends the
    // run at once whatever the code does with promises. One-line insertions keep line numbers.
    for (const fn of walker.functions) instrument(fn, shift, arrowEnds, insertions);
  }
  insertions.sort((a, b) => a.offset - b.offset || a.order - b.order);
  let finalSource = '';
  let from = 0;
  for (const insertion of insertions) {
    finalSource += source.slice(from, insertion.offset) + insertion.text;
    from = insertion.offset;
  }
  finalSource += source.slice(from);
  const scriptHead = scriptHeader(!synchronous, context.inputs);
  const script = `${scriptHead}${finalSource}${SCRIPT_FOOTER}`;
  let scriptLineStarts: number[] | undefined;
  return {
    source,
    script,
    synchronous,
    builtins: new Set([...walker.referenced].filter((name) => !root.names.has(name))),
    returnInsertedAt,
    toSourcePosition(line, column) {
      scriptLineStarts ??= lineStarts(script);
      // The script offset QuickJS means: `column` counts code points from the line's start.
      let offset = scriptLineStarts[Math.max(0, Math.min(line, scriptLineStarts.length) - 1)] ?? 0;
      for (let n = 1; n < column && offset < script.length && script[offset] !== '\n'; n++) {
        const unit = script.charCodeAt(offset);
        const pair =
          unit >= 0xd800 && unit <= 0xdbff && (script.charCodeAt(offset + 1) & 0xfc00) === 0xdc00;
        offset += pair ? 2 : 1;
      }
      // Back through the insertions: a position inside an inserted text is its insertion point.
      let scriptOffset = offset - scriptHead.length;
      let inserted = 0;
      for (const insertion of insertions) {
        const start = insertion.offset + inserted;
        if (scriptOffset < start) break;
        if (scriptOffset < start + insertion.text.length) {
          scriptOffset = start;
          break;
        }
        inserted += insertion.text.length;
      }
      const position = locate(Math.min(source.length, Math.max(0, scriptOffset - inserted)));
      return { line: position.line, column: position.column + 1 };
    },
  };
}

/** The end of the wrapper QuickJS compiles; see {@link scriptHeader}. */
const SCRIPT_FOOTER = '\n})';

/**
 * The start of the script QuickJS compiles: a function whose parameters are the inputs, strict,
 * with the source starting on its second line. Its completion value is the function.
 */
function scriptHeader(async: boolean, inputs: readonly string[]): string {
  return `(${async ? 'async ' : ''}function (${inputs.join(', ')}) { 'use strict';\n`;
}

/** Where the `}` that closes the wrapper function early is (a source with an unmatched `}`). */
function closingBrace(wrapped: string): number {
  let depth = 0;
  try {
    for (const token of tokenizer(wrapped, { ecmaVersion: 2024 })) {
      const label = token.type.label;
      if (label === '{' || label === '${') depth++;
      else if (label === '}' && --depth === 0) return token.start;
    }
  } catch {
    // Only a position for the message is wanted.
  }
  return wrapped.length;
}

/** Text inserted into the source at `offset` to build the script. */
interface Insertion {
  offset: number;
  text: string;
  /**
   * Among insertions at one offset, lower goes first: a closing text carries minus the offset of
   * its opening, so the construct opened last is closed first.
   */
  order: number;
}

// Counts before it calls: see FATAL_HOOK.
const CATCH = `}catch(e){${FATAL_HOOK}.${FATAL_PENDING}++;throw ${FATAL_HOOK}(e)}`;

/** The expressions parameter patterns evaluate: default values and computed keys. */
function defaultValues(patterns: readonly (AnyNode | null)[]): AnyNode[] {
  const found: AnyNode[] = [];
  const visit = (node: AnyNode | null | undefined): void => {
    if (!node) return;
    switch (node.type) {
      case 'AssignmentPattern':
        found.push(node.right as AnyNode);
        visit(node.left as AnyNode);
        return;
      case 'ObjectPattern':
        for (const p of node.properties as AnyNode[]) {
          if (p.computed) found.push(p.key as AnyNode);
          visit((p.type === 'RestElement' ? p.argument : p.value) as AnyNode);
        }
        return;
      case 'ArrayPattern':
        for (const e of node.elements as (AnyNode | null)[]) visit(e);
        return;
      case 'RestElement':
        visit(node.argument as AnyNode);
        return;
    }
  };
  for (const pattern of patterns) visit(pattern);
  return found;
}

/** A source position: `line` 1-based, `column` 0-based (in UTF-16 code units). */
interface LineColumn {
  line: number;
  column: number;
}

/** Where each line of `text` starts; lines end at `\n` only. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let found = text.indexOf('\n'); found >= 0; found = text.indexOf('\n', found + 1)) {
    starts.push(found + 1);
  }
  return starts;
}

/**
 * The line and column of any offset in `source`, from one scan of it. Lines end at `\n` only, as
 * QuickJS counts them in stacks (acorn also ends them at `\r`, U+2028 and U+2029): every position
 * this package reports, from the validator or from a run, uses this one model.
 */
export function lineLocator(source: string): (offset: number) => LineColumn {
  const starts = lineStarts(source);
  return (offset) => {
    // The last line that starts at or before `offset`.
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((starts[middle] as number) <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: offset - (starts[low] as number) };
  };
}

/** Wraps a function's body in a try/catch that reports limit errors and rethrows. */
function instrument(
  fn: AnyNode,
  shift: number,
  arrowEnds: readonly number[],
  insertions: Insertion[],
): void {
  const body = fn.body as AnyNode;
  // Node offsets count from the start of the parsed wrapper; insertions from the source's.
  const at = (wrappedOffset: number, text: string, opening?: number): void => {
    const offset = wrappedOffset - shift;
    // A closing text at its own opening's offset (an empty body) goes after that opening.
    const order = opening === undefined ? 0 : opening === wrappedOffset ? 1 : -opening;
    insertions.push({ offset, text, order });
  };
  // An async function turns a throw while binding its parameters into a rejection too: default
  // values run in an instrumented arrow (no await, yield, this or arguments can occur there).
  if (fn.async) {
    for (const value of defaultValues(fn.params as AnyNode[])) {
      at(value.start, '(()=>{try{return(');
      at(value.end, `)${CATCH}})()`, value.start);
    }
  }
  if (body.type === 'BlockStatement') {
    at(body.start + 1, 'try{');
    at(body.end - 1, CATCH, body.start + 1);
    return;
  }
  // An expression body runs from its `=>` to the end of the arrow, parentheses included.
  let arrow = body.start;
  for (const end of arrowEnds) {
    if (end > body.start) break;
    if (end >= fn.start) arrow = end;
  }
  // `return(` so that a line break after `=>` cannot end the statement.
  at(arrow, '{try{return(');
  at(fn.end, `)${CATCH}}`, arrow);
}

/** Source lines around `line` with a caret under `column` (both 1-based). */
function codeFrame(lines: readonly string[], line: number, column: number): string {
  const out: string[] = [];
  const width = String(line + 1).length;
  for (let n = Math.max(1, line - 1); n <= Math.min(lines.length, line + 1); n++) {
    // One column each, so the caret stays under its character.
    const text = (lines[n - 1] ?? '').replace(/[\t\r\u2028\u2029]/g, ' ');
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} | ${text}`);
    if (n === line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, column - 1))}^`);
  }
  return out.join('\n');
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && typeof (value as Node).type === 'string';
}

function staticKey(node: AnyNode, computed: boolean): string | undefined {
  if (!computed && node.type === 'Identifier') return node.name as string;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && (node.expressions as unknown[]).length === 0) {
    const quasi = (node.quasis as AnyNode[])[0];
    return (quasi?.value as { cooked?: string } | undefined)?.cooked ?? undefined;
  }
  return undefined;
}

class Walker {
  /** The code awaits or defines an async function. */
  usesAsync = false;
  /** Names resolved outside the code: inputs, tasks, map and built-ins. */
  readonly referenced = new Set<string>();
  /** Every function in the code, for instrumentation. */
  readonly functions: AnyNode[] = [];

  constructor(
    private readonly at: (rule: string, message: string, node: AnyNode) => void,
    private readonly root: Scope,
  ) {}

  /** A statement list with its own lexical scope: declarations are hoisted first. */
  block(statements: AnyNode[], scope: Scope): void {
    for (const statement of statements) this.declare(statement, scope);
    for (const statement of statements) this.visit(statement, scope);
  }

  private declare(statement: AnyNode, scope: Scope): void {
    if (statement.type === 'VariableDeclaration') {
      for (const d of statement.declarations as AnyNode[]) this.bind(d.id as AnyNode, scope);
    } else if (
      (statement.type === 'FunctionDeclaration' || statement.type === 'ClassDeclaration') &&
      isNode(statement.id)
    ) {
      scope.names.add(statement.id.name as string);
    }
  }

  private bind(pattern: AnyNode | null, scope: Scope): void {
    if (!pattern) return;
    switch (pattern.type) {
      case 'Identifier':
        scope.names.add(pattern.name as string);
        return;
      case 'ObjectPattern':
        for (const p of pattern.properties as AnyNode[]) {
          this.bind((p.type === 'RestElement' ? p.argument : p.value) as AnyNode, scope);
        }
        return;
      case 'ArrayPattern':
        for (const e of pattern.elements as (AnyNode | null)[]) this.bind(e, scope);
        return;
      case 'AssignmentPattern':
        this.bind(pattern.left as AnyNode, scope);
        return;
      case 'RestElement':
        this.bind(pattern.argument as AnyNode, scope);
        return;
    }
  }

  private resolve(name: string, scope: Scope | undefined): Scope | undefined {
    for (let s = scope; s; s = s.parent) if (s.names.has(name)) return s;
    return undefined;
  }

  private reference(node: AnyNode, scope: Scope): void {
    const name = node.name as string;
    const found = this.resolve(name, scope);
    if (found === undefined || found === this.root) this.referenced.add(name);
    if (found) return;
    if (name === 'eval' || name === 'Function') {
      this.at(
        'no-eval',
        `\`${name}\` is not available: orchestrator code cannot compile code.`,
        node,
      );
    } else if (name === 'arguments') {
      this.at('no-arguments', '`arguments` is not available.', node);
    } else if (!allowed.has(name) && !BUILTIN_NAMES.has(name)) {
      this.at(
        'no-unknown-global',
        `\`${name}\` is not defined: it is neither a local variable, an input, a declared task, map, nor an allowed built-in.`,
        node,
      );
    }
  }

  /** A destructuring or assignment target; `declaring` when it declares names. */
  private pattern(node: AnyNode | null, scope: Scope, declaring: boolean): void {
    if (!node) return;
    switch (node.type) {
      case 'Identifier':
        if (!declaring) this.reference(node, scope);
        return;
      case 'MemberExpression':
        this.at(
          'no-member-assignment',
          'Assigning to a member (here as an assignment or loop target) is not allowed.',
          node,
        );
        this.visit(node, scope);
        return;
      case 'ObjectPattern':
        for (const p of node.properties as AnyNode[]) {
          if (p.type === 'RestElement') {
            this.pattern(p.argument as AnyNode, scope, declaring);
            continue;
          }
          const key = staticKey(p.key as AnyNode, p.computed as boolean);
          if (key !== undefined && REFLECTIVE.has(key)) {
            this.at('no-reflective-member', `Reading \`${key}\` is not allowed.`, p.key as AnyNode);
          }
          if (p.computed) this.visit(p.key as AnyNode, scope);
          this.pattern(p.value as AnyNode, scope, declaring);
        }
        return;
      case 'ArrayPattern':
        for (const e of node.elements as (AnyNode | null)[]) this.pattern(e, scope, declaring);
        return;
      case 'AssignmentPattern':
        this.pattern(node.left as AnyNode, scope, declaring);
        this.visit(node.right as AnyNode, scope);
        return;
      case 'RestElement':
        this.pattern(node.argument as AnyNode, scope, declaring);
        return;
      default:
        this.visit(node, scope);
    }
  }

  private fn(node: AnyNode, scope: Scope): void {
    this.functions.push(node);
    if (node.async) this.usesAsync = true;
    if (node.generator) {
      this.at('no-generator', 'Generator functions are not allowed.', node);
    }
    const inner: Scope = { names: new Set(), parent: scope };
    if (node.type === 'FunctionExpression' && isNode(node.id))
      inner.names.add(node.id.name as string);
    for (const param of node.params as AnyNode[]) this.bind(param, inner);
    for (const param of node.params as AnyNode[]) this.pattern(param, inner, true);
    const body = node.body as AnyNode;
    if (body.type === 'BlockStatement') {
      this.block(body.body as AnyNode[], { names: new Set(), parent: inner });
    } else {
      this.visit(body, inner);
    }
  }

  visit(node: AnyNode | null | undefined, scope: Scope): void {
    if (!node) return;
    switch (node.type) {
      case 'ImportDeclaration':
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration':
      case 'ExportAllDeclaration':
        this.at('no-import', 'import and export are not allowed: code cannot load modules.', node);
        return;
      case 'ImportExpression':
        this.at('no-import', 'import() is not allowed: code cannot load modules.', node);
        return;
      case 'MetaProperty': {
        const meta = (node.meta as AnyNode).name;
        if (meta === 'import') this.at('no-import', 'import.meta is not allowed.', node);
        else this.at('no-this', 'new.target is not allowed.', node);
        return;
      }
      case 'Identifier':
        this.reference(node, scope);
        return;
      case 'ThisExpression':
        this.at('no-this', '`this` is not allowed.', node);
        return;
      case 'Super':
        this.at('no-this', '`super` is not allowed.', node);
        return;
      case 'ClassDeclaration':
      case 'ClassExpression':
        this.at('no-class', 'Classes are not allowed.', node);
        return;
      case 'TryStatement':
        this.at('no-try', 'try/catch/finally is not allowed.', node);
        this.visit(node.block as AnyNode, scope);
        if (isNode(node.handler)) {
          const inner: Scope = { names: new Set(), parent: scope };
          this.bind(node.handler.param as AnyNode | null, inner);
          this.visit(node.handler.body as AnyNode, inner);
        }
        this.visit(node.finalizer as AnyNode | null, scope);
        return;
      case 'WithStatement':
        this.at('no-with', '`with` is not allowed.', node);
        return;
      case 'LabeledStatement':
        this.at(
          'no-label',
          `Labels are not allowed (label \`${(node.label as AnyNode).name}\`).`,
          node,
        );
        this.visit(node.body as AnyNode, scope);
        return;
      case 'BreakStatement':
      case 'ContinueStatement':
        return;
      case 'AwaitExpression':
        this.usesAsync = true;
        this.visit(node.argument as AnyNode, scope);
        return;
      case 'YieldExpression':
        this.at('no-generator', '`yield` is not allowed.', node);
        return;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        this.fn(node, scope);
        return;
      case 'VariableDeclaration':
        if (node.kind === 'var') this.at('no-var', '`var` is not allowed.', node);
        for (const d of node.declarations as AnyNode[]) {
          this.pattern(d.id as AnyNode, scope, true);
          this.visit(d.init as AnyNode | null, scope);
        }
        return;
      case 'BlockStatement':
        this.block(node.body as AnyNode[], { names: new Set(), parent: scope });
        return;
      case 'StaticBlock':
        return;
      case 'ForStatement': {
        const inner: Scope = { names: new Set(), parent: scope };
        if (isNode(node.init)) this.declare(node.init, inner);
        this.visit(node.init as AnyNode | null, inner);
        this.visit(node.test as AnyNode | null, inner);
        this.visit(node.update as AnyNode | null, inner);
        this.visit(node.body as AnyNode, inner);
        return;
      }
      case 'ForInStatement':
      case 'ForOfStatement': {
        if (node.await) this.usesAsync = true;
        const inner: Scope = { names: new Set(), parent: scope };
        const left = node.left as AnyNode;
        if (left.type === 'VariableDeclaration') {
          this.declare(left, inner);
          this.visit(left, inner);
        } else {
          this.pattern(left, inner, false);
        }
        this.visit(node.right as AnyNode, scope);
        this.visit(node.body as AnyNode, inner);
        return;
      }
      case 'SwitchStatement': {
        this.visit(node.discriminant as AnyNode, scope);
        const inner: Scope = { names: new Set(), parent: scope };
        const cases = node.cases as AnyNode[];
        for (const c of cases) for (const s of c.consequent as AnyNode[]) this.declare(s, inner);
        for (const c of cases) {
          this.visit(c.test as AnyNode | null, inner);
          for (const s of c.consequent as AnyNode[]) this.visit(s, inner);
        }
        return;
      }
      case 'AssignmentExpression':
        this.pattern(node.left as AnyNode, scope, false);
        this.visit(node.right as AnyNode, scope);
        return;
      case 'UpdateExpression':
        if ((node.argument as AnyNode).type === 'MemberExpression') {
          this.at('no-member-assignment', `\`${node.operator}\` on a member is not allowed.`, node);
        }
        this.visit(node.argument as AnyNode, scope);
        return;
      case 'UnaryExpression':
        if (node.operator === 'delete') {
          this.at('no-member-assignment', '`delete` is not allowed.', node);
        }
        this.visit(node.argument as AnyNode, scope);
        return;
      case 'MemberExpression': {
        const property = node.property as AnyNode;
        const key = staticKey(property, node.computed as boolean);
        if (key !== undefined && REFLECTIVE.has(key)) {
          this.at('no-reflective-member', `Access to \`${key}\` is not allowed.`, property);
        }
        this.visit(node.object as AnyNode, scope);
        if (node.computed) this.visit(property, scope);
        return;
      }
      case 'Property': {
        if (node.kind === 'get' || node.kind === 'set') {
          this.at('no-accessor', `A ${node.kind}ter in an object literal is not allowed.`, node);
        }
        const key = staticKey(node.key as AnyNode, node.computed as boolean);
        if (key === '__proto__' && !node.shorthand) {
          this.at(
            'no-reflective-member',
            'A `__proto__` key in an object literal is not allowed.',
            node.key as AnyNode,
          );
        }
        if (node.computed) this.visit(node.key as AnyNode, scope);
        const value = node.value as AnyNode;
        if (node.method || node.kind !== 'init') this.fn(value, scope);
        else this.visit(value, scope);
        return;
      }
      default:
        for (const key of Object.keys(node)) {
          if (key === 'loc' || key === 'type') continue;
          const child = node[key];
          if (Array.isArray(child)) {
            for (const c of child) if (isNode(c)) this.visit(c, scope);
          } else if (isNode(child)) {
            this.visit(child, scope);
          }
        }
    }
  }
}
