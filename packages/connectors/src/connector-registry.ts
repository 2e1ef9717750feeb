import { create } from '@bufbuild/protobuf';
import { type Connector, ConnectorSchema, TaskCategorySchema } from '@flyte/idl/connector';
import type { AsyncConnector } from './async-connector';
import { ConnectorNotFoundError, DuplicateConnectorError } from './errors';

/** Any connector, whatever its metadata type. */
// biome-ignore lint/suspicious/noExplicitAny: metadata types vary per connector; callers decode with the connector's own schema.
export type AnyConnector = AsyncConnector<any>;

/** Options for {@link ConnectorRegistry.register}. */
export interface RegisterOptions {
  /** Replace a connector already registered for the same task type and version. */
  override?: boolean;
}

const keyOf = (taskType: string, version: number) => `${taskType}@v${version}`;

/**
 * Connectors by task type and version. Servers and tests create their own registry; the
 * {@link defaultRegistry} is for programs that want one global place.
 */
export class ConnectorRegistry {
  readonly #byTaskType = new Map<string, AnyConnector>();

  /**
   * Adds a connector for its `taskTypeName` and `taskTypeVersion`.
   *
   * @throws DuplicateConnectorError when that task type and version is taken and `override`
   * is not set.
   */
  register(connector: AnyConnector, options: RegisterOptions = {}): this {
    const key = keyOf(connector.taskTypeName, connector.taskTypeVersion);
    const existing = this.#byTaskType.get(key);
    if (existing && existing !== connector && !options.override) {
      throw new DuplicateConnectorError(
        `Task type "${connector.taskTypeName}" version ${connector.taskTypeVersion} is already served by connector "${existing.name}"; cannot also register "${connector.name}". Remove one of them, or pass { override: true } to replace it.`,
        {
          taskType: connector.taskTypeName,
          taskTypeVersion: connector.taskTypeVersion,
          existing: existing.name,
          incoming: connector.name,
        },
      );
    }
    this.#byTaskType.set(key, connector);
    return this;
  }

  /** Whether a connector serves this task type and version. */
  has(taskType: string, taskTypeVersion = 0): boolean {
    return this.#byTaskType.has(keyOf(taskType, taskTypeVersion));
  }

  /**
   * The connector for a task type and version.
   *
   * @throws ConnectorNotFoundError listing the registered task types.
   */
  getConnector(taskType: string, taskTypeVersion = 0): AnyConnector {
    const connector = this.#byTaskType.get(keyOf(taskType, taskTypeVersion));
    if (connector) return connector;
    const registered = [...this.#byTaskType.keys()];
    throw new ConnectorNotFoundError(
      `No connector for task type "${taskType}" version ${taskTypeVersion}. Registered: ${registered.join(', ') || '(none)'}. Register one with registry.register(connector), or load its module (flyte-connector serve --module <package>).`,
      { taskType, taskTypeVersion, registered },
    );
  }

  /** Every registered connector, once each (a connector may serve several task types). */
  connectors(): AnyConnector[] {
    return [...new Set(this.#byTaskType.values())];
  }

  /**
   * The flyteidl2 `Connector` messages: one per connector name, with every task category
   * (task type and version) it serves.
   */
  listConnectors(): Connector[] {
    const byName = new Map<string, Connector>();
    for (const connector of this.#byTaskType.values()) {
      let message = byName.get(connector.name);
      if (!message) {
        message = create(ConnectorSchema, { name: connector.name });
        byName.set(connector.name, message);
      }
      message.supportedTaskCategories.push(
        create(TaskCategorySchema, {
          name: connector.taskTypeName,
          version: connector.taskTypeVersion,
        }),
      );
    }
    return [...byName.values()];
  }

  /**
   * The flyteidl2 `Connector` message for a connector name.
   *
   * @throws ConnectorNotFoundError listing the registered connector names.
   */
  getConnectorMetadata(name: string): Connector {
    const found = this.listConnectors().find((c) => c.name === name);
    if (found) return found;
    const registered = this.listConnectors().map((c) => c.name);
    throw new ConnectorNotFoundError(
      `No connector named "${name}". Registered: ${registered.join(', ') || '(none)'}.`,
      { name, registered },
    );
  }
}

/** The process-wide registry, for programs that register connectors at import time. */
export const defaultRegistry: ConnectorRegistry = new ConnectorRegistry();
