import type { TaskDefinition, TaskRunOptions } from '@flyte/idl';
import { FlyteError } from '@flyte/idl';

/**
 * A `TaskDefinition`, or anything shaped like one whose `run` resolves to some value: an
 * orchestrator, whose `run` resolves to its output value rather than `{ o0 }`, is one.
 */
export interface CallableTask extends Omit<TaskDefinition, 'run'> {
  run(inputs: never, options?: TaskRunOptions): Promise<unknown>;
}

/**
 * A task an orchestrator may call: any `TaskDefinition` (a connector task, a code sandbox, another
 * orchestrator...) or a plain async function of JSON values.
 */
export type OrchestratorTask = CallableTask | ((...args: never[]) => unknown);

/** Marks an orchestrator, whose `run` returns its output value rather than `{ o0 }`. */
export const ORCHESTRATOR_BRAND = Symbol.for('@flyte/sandbox-orchestration/orchestrator');

/** Calls one task with arguments decoded from the guest; resolves to JSON text of the result. */
export type TaskInvoker = (argsJson: string, signal: AbortSignal) => Promise<string>;

function isTaskDefinition(task: OrchestratorTask): task is CallableTask {
  return (
    typeof task === 'object' &&
    task !== null &&
    typeof (task as CallableTask).run === 'function' &&
    typeof (task as CallableTask).interface === 'object'
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function toJsonText(task: string, value: unknown): string {
  if (value === undefined) return 'null';
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw notJson(task, (error as Error).message, error);
  }
  // JSON.stringify gives undefined, not an error, for a function or a symbol.
  if (text === undefined) {
    const kind = typeof value;
    throw notJson(
      task,
      kind === 'object' ? 'an object whose toJSON gives undefined' : `a ${kind}`,
      undefined,
    );
  }
  return text;
}

function notJson(task: string, what: string, cause: unknown): FlyteError {
  return new FlyteError(
    'task_result_not_json',
    `Task "${task}" returned a value that is not JSON (${what}); orchestrator code sees JSON values only, so return numbers, strings, booleans, null, arrays and plain objects.`,
    { ...(cause === undefined ? {} : { cause }), details: { task } },
  );
}

/**
 * Builds the host side of one task. A `TaskDefinition` takes its inputs positionally, in the order
 * of its input schema (`add(1, 2)`), or as one object of named inputs (`add({ a: 1, b: 2 })`) when
 * it has other than exactly one input: a one-input task takes a lone object as that input, since
 * it could not tell a named form from a value; a task whose only output is `o0` returns that value,
 * others return their outputs object. A plain function gets the arguments as they are.
 */
export function adaptTask(name: string, task: OrchestratorTask): TaskInvoker {
  if (isTaskDefinition(task)) {
    const inputNames = Object.keys(task.interface.inputs.shape);
    const outputNames = Object.keys(task.interface.outputs.shape);
    const direct = (task as unknown as Record<symbol, unknown>)[ORCHESTRATOR_BRAND] === true;
    const unwrap = !direct && outputNames.length === 1 && outputNames[0] === 'o0';
    return async (argsJson, signal) => {
      const args = JSON.parse(argsJson) as unknown[];
      let inputs: Record<string, unknown>;
      if (args.length === 1 && inputNames.length !== 1 && isPlainObject(args[0])) {
        inputs = args[0];
      } else {
        if (args.length > inputNames.length) {
          throw new FlyteError(
            'task_arguments',
            `Task "${name}" takes ${inputNames.length} input(s) (${inputNames.join(', ')}) but was called with ${args.length} arguments; pass them in that order, or one object of named inputs.`,
            { details: { task: name, inputs: inputNames, received: args.length } },
          );
        }
        inputs = Object.fromEntries(inputNames.map((input, i) => [input, args[i]]));
      }
      const result: unknown = await task.run(inputs as never, { signal });
      const value = unwrap ? (result as Record<string, unknown>).o0 : result;
      return toJsonText(name, value);
    };
  }
  if (typeof task !== 'function') {
    throw new FlyteError(
      'invalid_task',
      `tasks.${name} is ${task === null ? 'null' : typeof task}; give a TaskDefinition or an async function.`,
      { details: { task: name } },
    );
  }
  const fn = task as (...args: unknown[]) => unknown;
  return async (argsJson) => {
    const args = JSON.parse(argsJson) as unknown[];
    return toJsonText(name, await fn(...args));
  };
}
