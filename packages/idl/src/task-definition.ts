import { create, type JsonObject, type MessageInitShape } from '@bufbuild/protobuf';
import type { z } from 'zod';
import {
  type ContainerSchema,
  ResourceType,
  RuntimeMetadata_RuntimeType,
  RuntimeMetadataSchema,
  type SecurityContextSchema,
  type SqlSchema,
  TaskMetadataSchema,
  type TaskTemplate,
  TaskTemplateSchema,
} from './core';
import { captureDefinitionSite, type DefinitionSite } from './definition-site';
import { FlyteError } from './errors';
import { type AnyObjectSchema, type TaskInterface, typedInterfaceOf } from './literals';
import { parseTaskIo } from './task-io';

/** Options every task run accepts. */
export interface TaskRunOptions {
  /** Aborts the run; the task releases what it created (containers, external jobs) and rejects. */
  signal?: AbortSignal | undefined;
}

/** Where a task template will be registered: the fields of its flyteidl2 `Identifier`. */
export interface TaskTemplateContext {
  project: string;
  domain: string;
  /** The version the task is registered under (for example a git commit SHA). */
  version: string;
  org?: string | undefined;
}

/**
 * The contract every runnable thing in flyte-ts implements: a connector task, an orchestrator
 * and a code sandbox are all `TaskDefinition`s, so each can call or be called by the others
 * and each serializes to a real `flyteidl2.core.TaskTemplate`.
 */
export interface TaskDefinition<
  I extends AnyObjectSchema = AnyObjectSchema,
  O extends AnyObjectSchema = AnyObjectSchema,
> {
  /** Unique within a project, for example `"etl.load_orders"`. */
  readonly name: string;
  /** The flyteidl2 task type Flyte routes on, for example `"bigquery_query_job_task"`. */
  readonly taskType: string;
  /** Version of the task type's custom config format. */
  readonly taskTypeVersion: number;
  /** Named, typed inputs and outputs. */
  readonly interface: TaskInterface<I, O>;
  /** Where in the user's source the task was created; `undefined` when it cannot be known. */
  readonly definedAt: DefinitionSite | undefined;
  /** Runs the task locally. Inputs are checked against the interface before anything starts. */
  run(inputs: z.input<I>, options?: TaskRunOptions): Promise<z.output<O>>;
  /** The flyteidl2 task template a Flyte 2 cluster registers and runs. */
  toTaskTemplate(context: TaskTemplateContext): TaskTemplate;
}

/** What a task kind adds to the common template fields. */
export interface TaskTemplateExtras {
  /** Task metadata (timeout, retries, cache...); the runtime fields are always set by us. */
  metadata?: MessageInitShape<typeof TaskMetadataSchema>;
  /** Plugin-specific config, as a JSON object (`google.protobuf.Struct` on the wire). */
  custom?: JsonObject;
  /** What runs the task, when it is a container (code sandboxes, connector-less tasks). */
  container?: MessageInitShape<typeof ContainerSchema>;
  /** The statement, when the task is a SQL query (warehouse connectors). */
  sql?: MessageInitShape<typeof SqlSchema>;
  /** Flat string config for the task type's plugin. */
  config?: Record<string, string>;
  securityContext?: MessageInitShape<typeof SecurityContextSchema>;
}

/** The SDK version written into every template's runtime metadata. */
export const SDK_VERSION = '0.1.0';

/**
 * Builds the flyteidl2 `TaskTemplate` for a task: identifier, type, type version, typed
 * interface and runtime metadata, plus whatever the task kind adds (`custom`, `container`,
 * `sql`, `config` ...). Task kinds call this from their `toTaskTemplate`.
 */
export function createTaskTemplate(
  task: Pick<TaskDefinition, 'name' | 'taskType' | 'taskTypeVersion' | 'interface'>,
  context: TaskTemplateContext,
  extras: TaskTemplateExtras = {},
): TaskTemplate {
  for (const key of ['project', 'domain', 'version'] as const) {
    if (!context[key]) {
      throw new FlyteError(
        'invalid_template_context',
        `Task "${task.name}": ${key} is empty; pass a ${key} to toTaskTemplate().`,
        {
          details: { task: task.name, field: key },
        },
      );
    }
  }
  const template = create(TaskTemplateSchema, {
    ...(extras.custom ? { custom: extras.custom } : {}),
    ...(extras.config ? { config: extras.config } : {}),
    ...(extras.securityContext ? { securityContext: extras.securityContext } : {}),
    ...(extras.container ? { target: { case: 'container', value: extras.container } } : {}),
    ...(extras.sql ? { target: { case: 'sql', value: extras.sql } } : {}),
    id: {
      resourceType: ResourceType.TASK,
      project: context.project,
      domain: context.domain,
      name: task.name,
      version: context.version,
      org: context.org ?? '',
    },
    type: task.taskType,
    taskTypeVersion: task.taskTypeVersion,
    interface: typedInterfaceOf(task.interface),
  });
  template.metadata = create(TaskMetadataSchema, extras.metadata);
  template.metadata.runtime = create(RuntimeMetadataSchema, {
    type: RuntimeMetadata_RuntimeType.FLYTE_SDK,
    version: SDK_VERSION,
    flavor: 'typescript',
  });
  return template;
}

// Settles with `work`, or rejects with the signal's reason as soon as it aborts, so a caller is
// never held by a function that does not watch its signal.
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // Handled either way, so a late rejection after an abort is not an unhandled rejection.
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    if (signal.aborted) onAbort();
  });
}

/** What {@link defineTask} needs. */
export interface DefineTaskOptions<I extends AnyObjectSchema, O extends AnyObjectSchema> {
  name: string;
  taskType: string;
  taskTypeVersion?: number;
  inputs: I;
  outputs: O;
  /** The work itself. Receives checked inputs; its result is checked against `outputs`. */
  run: (inputs: z.output<I>, options: { signal: AbortSignal }) => Promise<z.input<O>>;
  /** Custom config (a JSON object) written into the template for the task type's plugin. */
  custom?: JsonObject;
}

/**
 * Creates a {@link TaskDefinition} from a function: inputs are validated before it runs, the
 * result is validated against `outputs`, and the caller's source position is recorded as
 * `definedAt`. Task kinds with richer behaviour implement `TaskDefinition` themselves.
 *
 * When the run's `signal` aborts, `run` rejects with `signal.reason` at once, whether or not the
 * function has finished; the function gets the same signal and is expected to stop its own work
 * (a result or error it produces afterwards is ignored).
 *
 * @example
 * const add = defineTask({
 *   name: 'math.add',
 *   taskType: 'typescript-function',
 *   inputs: z.object({ a: z.number(), b: z.number() }),
 *   outputs: z.object({ sum: z.number() }),
 *   run: async ({ a, b }) => ({ sum: a + b }),
 * });
 * await add.run({ a: 1, b: 2 }); // { sum: 3 }
 */
export function defineTask<I extends AnyObjectSchema, O extends AnyObjectSchema>(
  options: DefineTaskOptions<I, O>,
): TaskDefinition<I, O> {
  if (!options.name.trim())
    throw new FlyteError('invalid_task', 'defineTask: name must not be empty.');
  const definedAt = captureDefinitionSite(defineTask);
  const iface: TaskInterface<I, O> = { inputs: options.inputs, outputs: options.outputs };
  // Fails now, not at registration time, when a schema has no flyteidl2 type.
  typedInterfaceOf(iface);
  return {
    name: options.name,
    taskType: options.taskType,
    taskTypeVersion: options.taskTypeVersion ?? 0,
    interface: iface,
    definedAt,
    async run(inputs, runOptions = {}) {
      const signal = runOptions.signal ?? new AbortController().signal;
      signal.throwIfAborted();
      const parsed = parseTaskIo(options.inputs, inputs, { task: options.name, stage: 'inputs' });
      // Through a promise: a JavaScript caller's run may return a plain value or throw at once.
      const work = Promise.resolve().then(() => options.run(parsed, { signal }));
      const result = await untilAborted(work, signal);
      return parseTaskIo(options.outputs, result, { task: options.name, stage: 'outputs' });
    },
    toTaskTemplate(context) {
      return createTaskTemplate(this, context, options.custom ? { custom: options.custom } : {});
    },
  };
}
