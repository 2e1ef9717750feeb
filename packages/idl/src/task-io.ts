import type { z } from 'zod';
import { FlyteError } from './errors';

/** Where a value was checked: which task, which side, and how to name the task in messages. */
export interface TaskIoBoundary {
  /** The task's name. */
  task: string;
  /** `inputs`, `outputs`, `output` ...: also the first segment of every issue path. */
  stage: string;
  /** How the task is named in the message (`Task`, `Connector task`, `Orchestrator`). */
  kind?: string;
  /** A sentence appended to the message saying what to do. */
  hint?: string;
}

/**
 * zod's issues as lines `root.path.to.field: problem`, the form every `@flyte` error that reports
 * a schema mismatch uses in its message and `details.issues`.
 */
export function zodIssueLines(error: z.ZodError, root: string): string[] {
  return error.issues.map(
    (issue) => `${[root, ...issue.path.map(String)].join('.')}: ${issue.message}`,
  );
}

/**
 * Values crossing a task boundary did not match the task's schema. The message lists every
 * issue as `stage.path: problem`; `details.issues` holds the same lines.
 */
export class InvalidTaskIoError extends FlyteError {
  constructor(boundary: TaskIoBoundary, error: z.ZodError) {
    const issues = zodIssueLines(error, boundary.stage);
    super(
      'invalid_task_io',
      `${boundary.kind ?? 'Task'} "${boundary.task}" got invalid ${boundary.stage}: ${issues.join('; ')}${boundary.hint ? `. ${boundary.hint}` : ''}`,
      { cause: error, details: { task: boundary.task, stage: boundary.stage, issues } },
    );
  }
}

/**
 * Checks values at a task boundary (inputs before a run, outputs after it) and returns the
 * parsed values, with zod's defaults and coercions applied.
 *
 * @throws InvalidTaskIoError listing every issue.
 */
export function parseTaskIo<S extends z.ZodType>(
  schema: S,
  value: unknown,
  boundary: TaskIoBoundary,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new InvalidTaskIoError(boundary, result.error);
}
