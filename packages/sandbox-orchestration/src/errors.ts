import { FlyteError } from '@flyte/idl';

/** One problem the validator found in orchestrator source. `line` and `column` are 1-based. */
export interface SourceDiagnostic {
  /** The rule that was broken, as named in `ORCHESTRATOR_SYNTAX_GUIDE` (for example `no-class`). */
  rule: string;
  /** What is wrong, naming the offending code. */
  message: string;
  /** One line saying how to write it instead. */
  hint: string;
  line: number;
  column: number;
  /** The source lines around the problem with a caret under it. */
  frame: string;
}

/**
 * Orchestrator source breaks a rule of `ORCHESTRATOR_SYNTAX_GUIDE` (or does not parse). Nothing
 * ran. `details.diagnostics` lists every problem found, each with line:column, a code frame and a
 * fix hint; the message shows the first few.
 */
export class OrchestratorValidationError extends FlyteError {
  /** Every problem found, in source order. */
  readonly diagnostics: readonly SourceDiagnostic[];

  constructor(name: string, diagnostics: SourceDiagnostic[]) {
    const shown = diagnostics
      .slice(0, 5)
      .map(
        (d) =>
          `${name}:${d.line}:${d.column}: ${d.message} [${d.rule}]\n${d.frame}\n  fix: ${d.hint}`,
      );
    const more = diagnostics.length > 5 ? `\n...and ${diagnostics.length - 5} more.` : '';
    super(
      'orchestrator_validation',
      `Orchestrator "${name}" breaks ${diagnostics.length} rule(s) of ORCHESTRATOR_SYNTAX_GUIDE; nothing ran:\n${shown.join('\n')}${more}`,
      { details: { orchestrator: name, diagnostics } },
    );
    this.diagnostics = Object.freeze([...diagnostics]);
  }
}

/** The limits a run can hit; see `OrchestratorLimits`. */
export type SandboxLimitName =
  | 'memoryBytes'
  | 'stackBytes'
  | 'cpuTimeMs'
  | 'wallClockMs'
  | 'hostCalls'
  | 'outputBytes';

/**
 * A run hit one of its limits and was ended. The QuickJS runtime that ran it has been disposed
 * and is never reused; other runs and the host process are unaffected. `details.limit` names the
 * limit and `details.value` its configured value; raise it in `limits` if the work is legitimate.
 */
export class SandboxLimitError extends FlyteError {
  /** Which limit was hit. */
  readonly limit: SandboxLimitName;
  /** The configured value of that limit. */
  readonly value: number;

  constructor(orchestrator: string, limit: SandboxLimitName, value: number, observed?: string) {
    super(
      'sandbox_limit',
      `Orchestrator "${orchestrator}" hit its ${limit} limit (${value})${observed ? `: ${observed}` : ''}. The run was ended and its sandbox disposed; raise limits.${limit} if this work is legitimate, or do less of it in one run.`,
      { details: { orchestrator, limit, value, ...(observed ? { observed } : {}) } },
    );
    this.limit = limit;
    this.value = value;
  }
}

/** Where in the orchestrator source something happened. 1-based. */
export interface GuestPosition {
  line: number;
  column: number;
}

/**
 * A run failed: the orchestrator code threw, a task it called failed, or the sandbox broke.
 * `details.callSite` is where in the orchestrator source the failing task was called (when a task
 * failed) and `guestStack` the guest stack with line:column in the orchestrator source. When a
 * task failed, `cause` is the task's own error.
 */
export class OrchestratorError extends FlyteError {
  /** The guest stack, positions in the orchestrator source (`name:line:column`). */
  readonly guestStack: string;
  /** Where the failing task was called, when a task failed. */
  readonly callSite: GuestPosition | undefined;
  /** The name of the task that failed, when a task failed. */
  readonly task: string | undefined;

  constructor(
    message: string,
    fields: {
      orchestrator: string;
      guestStack?: string;
      callSite?: GuestPosition | undefined;
      task?: string | undefined;
      cause?: unknown;
    },
  ) {
    super('orchestrator_failed', message, {
      ...(fields.cause === undefined ? {} : { cause: fields.cause }),
      details: {
        orchestrator: fields.orchestrator,
        ...(fields.task === undefined ? {} : { task: fields.task }),
        ...(fields.callSite === undefined ? {} : { callSite: fields.callSite }),
      },
    });
    this.guestStack = fields.guestStack ?? '';
    this.callSite = fields.callSite;
    this.task = fields.task;
  }
}

/**
 * A replayed run made a host call that differs from the journal it replays: another task, other
 * arguments, or other inputs than were recorded. The orchestrator code or its inputs changed since
 * the journal was written; start a new journal, or restore the code that wrote it.
 */
export class NondeterminismError extends FlyteError {
  constructor(
    orchestrator: string,
    details: { sequence: number; expected: string; received: string },
  ) {
    super(
      'nondeterminism',
      `Orchestrator "${orchestrator}" diverged from its journal at call #${details.sequence}: the journal recorded ${details.expected}, this run made ${details.received}. The code or inputs changed since the journal was written; replay with the code and inputs that wrote it, or start a new journal.`,
      { details: { orchestrator, ...details } },
    );
  }
}
