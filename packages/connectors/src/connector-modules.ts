import { existsSync } from 'node:fs';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyConnector, ConnectorRegistry } from './connector-registry';
import { ConnectorCliError, DuplicateConnectorError } from './errors';

/** Where a connector came from: a `--module` argument or a discovered package. */
export interface LoadedConnector {
  connector: AnyConnector;
  /** The module specifier or package name that provided it. */
  source: string;
}

/** A module that provides connectors, and how it was found. */
export interface ConnectorModule {
  /** What to import: an absolute file path or a package name. */
  specifier: string;
  /** How to name it in messages (package name or path). */
  source: string;
}

function isConnector(value: unknown): value is AnyConnector {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    typeof c.taskTypeName === 'string' &&
    typeof c.name === 'string' &&
    typeof c.create === 'function' &&
    typeof c.get === 'function' &&
    typeof c.delete === 'function'
  );
}

/**
 * Finds installed packages that declare connectors in their package.json
 * (`"flyte": { "connectors": "./dist/connectors.js" }`), the counterpart of Python entry
 * points: looks in `node_modules` of `cwd` and every parent folder.
 */
export async function discoverConnectorModules(cwd: string): Promise<ConnectorModule[]> {
  const found = new Map<string, ConnectorModule>();
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const modules = join(dir, 'node_modules');
    if (existsSync(modules)) {
      for (const entry of await readdir(modules)) {
        const candidates = entry.startsWith('@')
          ? (await readdir(join(modules, entry)).catch(() => [])).map((n) =>
              join(modules, entry, n),
            )
          : entry.startsWith('.')
            ? []
            : [join(modules, entry)];
        for (const packageDir of candidates) {
          const manifestPath = join(packageDir, 'package.json');
          if (!existsSync(manifestPath)) continue;
          let manifest: { name?: string; flyte?: { connectors?: unknown } };
          try {
            manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
          } catch {
            continue;
          }
          const entryPoint = manifest.flyte?.connectors;
          if (typeof entryPoint !== 'string') continue;
          const real = await realpath(packageDir);
          if (found.has(real)) continue;
          found.set(real, { specifier: join(real, entryPoint), source: manifest.name ?? real });
        }
      }
    }
    if (dirname(dir) === dir) break;
  }
  return [...found.values()];
}

/** Turns a `--module` argument (a file path or a package name) into something to import. */
export function resolveModuleArgument(argument: string, cwd: string): ConnectorModule {
  if (argument.startsWith('.') || isAbsolute(argument) || /\.(c|m)?js$/.test(argument)) {
    const path = resolve(cwd, argument);
    if (!existsSync(path)) {
      throw new ConnectorCliError(`--module ${argument}: no such file (${path}).`, {
        module: argument,
      });
    }
    return { specifier: path, source: argument };
  }
  try {
    return {
      specifier: createRequire(join(cwd, 'package.json')).resolve(argument),
      source: argument,
    };
  } catch (cause) {
    throw new ConnectorCliError(
      `--module ${argument}: cannot find package "${argument}" from ${cwd}. Install it, or pass a file path.`,
      { module: argument },
      { cause },
    );
  }
}

/**
 * Imports connector modules and registers what they provide. A module provides connectors as
 * its `connectors` export (an array), its default export (a connector or an array), or a
 * `register(registry)` function.
 *
 * @throws ConnectorCliError naming both sources when two of them serve the same task type.
 */
export async function loadConnectorModules(
  modules: readonly ConnectorModule[],
  registry: ConnectorRegistry,
): Promise<LoadedConnector[]> {
  const loaded: LoadedConnector[] = [];
  const sourceOf = new Map<string, string>();
  for (const module of modules) {
    let namespace: Record<string, unknown>;
    try {
      namespace = await import(
        isAbsolute(module.specifier) ? pathToFileURL(module.specifier).href : module.specifier
      );
    } catch (cause) {
      throw new ConnectorCliError(
        `Cannot load connector module ${module.source}: ${(cause as Error).message}`,
        { module: module.source },
        { cause },
      );
    }
    const provided: unknown[] = [];
    for (const value of [namespace.connectors, namespace.default]) {
      if (Array.isArray(value)) provided.push(...value);
      else if (isConnector(value)) provided.push(value);
    }
    const connectors = provided.filter(isConnector);
    if (typeof namespace.register === 'function') {
      // Catch what register() adds through a registry that records each connector.
      const recording = {
        register: (connector: AnyConnector) => {
          connectors.push(connector);
          return recording;
        },
      };
      await (namespace.register as (r: unknown) => unknown)(recording);
    }
    if (connectors.length === 0) {
      throw new ConnectorCliError(
        `Connector module ${module.source} provides no connector. Export \`connectors\` (an array of AsyncConnector instances), a default connector, or a register(registry) function.`,
        { module: module.source },
      );
    }
    for (const connector of connectors) {
      const key = `${connector.taskTypeName} v${connector.taskTypeVersion}`;
      try {
        registry.register(connector);
      } catch (error) {
        if (!DuplicateConnectorError.isInstance(error)) throw error;
        throw new ConnectorCliError(
          `Task type "${connector.taskTypeName}" version ${connector.taskTypeVersion} is registered twice: by ${sourceOf.get(key) ?? 'an earlier module'} and by ${module.source}. Uninstall one of them, or pass only one with --module.`,
          { taskType: connector.taskTypeName, sources: [sourceOf.get(key), module.source] },
          { cause: error },
        );
      }
      sourceOf.set(key, module.source);
      loaded.push({ connector, source: module.source });
    }
  }
  return loaded;
}
