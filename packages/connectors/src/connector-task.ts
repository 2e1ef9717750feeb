import type { JsonObject, MessageInitShape } from '@bufbuild/protobuf';
import {
  type AnyObjectSchema,
  captureDefinitionSite,
  createTaskTemplate,
  type DefinitionSite,
  FlyteError,
  type TaskDefinition,
  type TaskInterface,
  type TaskRunOptions,
  type TaskTemplateContext,
  typedInterfaceOf,
} from '@flyte/idl';
import type { SqlSchema, TaskTemplate } from '@flyte/idl/core';
import type { z } from 'zod';
import {
  type ConnectorRunDefaults,
  type ConnectorTaskLike,
  type RunConnectorTaskOptions,
  runConnectorTask,
} from './run-connector-task';

/** What a connector-backed task class must provide for {@link AsyncConnectorExecutorMixin}. */
export type ConnectorTaskBase = ConnectorTaskLike;

/**
 * A class whose instances are connector-backed tasks. TypeScript requires a mixin's base
 * constructor to take `...args: any[]` (error TS2545 otherwise); nothing else is `any`.
 */
// biome-ignore lint/suspicious/noExplicitAny: the mixin constructor signature TypeScript demands.
export type ConnectorTaskClass = abstract new (...args: any[]) => ConnectorTaskBase;

/**
 * Gives a task class the local connector executor as its `run`: the role of flyte-sdk's
 * `AsyncConnectorExecutorMixin`. `run(inputs, options)` calls {@link runConnectorTask} with the
 * task's `runDefaults` and the run's own options (a `signal`, a `timeout`, `onEvent` ...).
 *
 * @example
 * class QueryTask extends AsyncConnectorExecutorMixin(MyTaskBase) {}
 * await new QueryTask(...).run({ sql: 'select 1' }, { timeout: 60_000 });
 */
export function AsyncConnectorExecutorMixin<TBase extends ConnectorTaskClass>(Base: TBase) {
  abstract class ConnectorExecutor extends Base {
    /** Runs the task through its connector: create, poll until terminal, return the outputs. */
    run(
      inputs: z.input<InstanceType<TBase>['interface']['inputs']>,
      options: TaskRunOptions & RunConnectorTaskOptions = {},
    ): Promise<z.output<InstanceType<TBase>['interface']['outputs']>> {
      return runConnectorTask(this as ConnectorTaskLike, inputs, options) as Promise<
        z.output<InstanceType<TBase>['interface']['outputs']>
      >;
    }
  }
  return ConnectorExecutor;
}

/** What a {@link ConnectorTask} is made of. */
export interface ConnectorTaskOptions<I extends AnyObjectSchema, O extends AnyObjectSchema> {
  /** Unique within a project, for example `"etl.load_orders"`. */
  name: string;
  /** The task type its connector serves. */
  taskType: string;
  taskTypeVersion?: number | undefined;
  inputs: I;
  outputs: O;
  /** Connector-specific config, written into the template's `custom` field. */
  custom?: JsonObject | undefined;
  /** Flat string config, written into the template's `config` field. */
  config?: Record<string, string> | undefined;
  /** A SQL statement, for warehouse connectors (the template's `sql` target). */
  sql?: MessageInitShape<typeof SqlSchema> | undefined;
  /** Defaults for every local run (connector, registry, poll bounds, secrets ...). */
  runDefaults?: ConnectorRunDefaults | undefined;
}

class ConnectorTaskDefinition<I extends AnyObjectSchema, O extends AnyObjectSchema>
  implements ConnectorTaskBase
{
  readonly name: string;
  readonly taskType: string;
  readonly taskTypeVersion: number;
  readonly interface: TaskInterface<I, O>;
  readonly definedAt: DefinitionSite | undefined;
  readonly runDefaults: ConnectorRunDefaults | undefined;
  readonly #options: ConnectorTaskOptions<I, O>;

  constructor(options: ConnectorTaskOptions<I, O>) {
    if (!options.name.trim())
      throw new FlyteError('invalid_task', 'ConnectorTask: name must not be empty.');
    if (!options.taskType.trim()) {
      throw new FlyteError(
        'invalid_task',
        `ConnectorTask "${options.name}": taskType must not be empty; use the task type its connector serves.`,
      );
    }
    this.name = options.name;
    this.taskType = options.taskType;
    this.taskTypeVersion = options.taskTypeVersion ?? 0;
    this.interface = { inputs: options.inputs, outputs: options.outputs };
    this.runDefaults = options.runDefaults;
    this.#options = options;
    // The outermost constructor marks the boundary: the frame above it is the user's `new`.
    this.definedAt = captureDefinitionSite(
      new.target as unknown as (...args: unknown[]) => unknown,
    );
    // Fails now, not at registration time, when a schema has no flyteidl2 type.
    typedInterfaceOf(this.interface);
  }

  /** The flyteidl2 template, with this task's `custom`, `config` and `sql`. */
  toTaskTemplate(context: TaskTemplateContext): TaskTemplate {
    const { custom, config, sql } = this.#options;
    return createTaskTemplate(this, context, {
      ...(custom ? { custom } : {}),
      ...(config ? { config } : {}),
      ...(sql ? { sql } : {}),
    });
  }
}

/**
 * A task run by a connector: a {@link TaskDefinition} whose `run` creates the external job,
 * polls it and returns its outputs, and whose template a Flyte 2 cluster hands to the same
 * connector through `flyte-connector serve`. Extend it for a connector-specific task class.
 *
 * @example
 * const slow = new ConnectorTask({
 *   name: 'demo.slow',
 *   taskType: 'fake_job',
 *   inputs: z.object({ polls: z.number().int() }),
 *   outputs: z.object({ polls: z.number().int() }),
 *   runDefaults: { connector: new FakeJobConnector() },
 * });
 * await slow.run({ polls: 3 });
 */
export class ConnectorTask<
    I extends AnyObjectSchema = AnyObjectSchema,
    O extends AnyObjectSchema = AnyObjectSchema,
  >
  extends AsyncConnectorExecutorMixin(ConnectorTaskDefinition)<I, O>
  implements TaskDefinition<I, O>
{
  declare readonly interface: TaskInterface<I, O>;
  declare run: (
    inputs: z.input<I>,
    options?: TaskRunOptions & RunConnectorTaskOptions,
  ) => Promise<z.output<O>>;
}
