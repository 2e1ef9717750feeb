/**
 * The `flyte-connector` command line: `serve`, `list` and `new`. `runCli` is what the bin runs;
 * it is exported so a program can embed the same behaviour.
 *
 * @packageDocumentation
 */
import { parseArgs } from 'node:util';
import { FlyteError } from '@flyte/idl';
import {
  type ConnectorModule,
  discoverConnectorModules,
  type LoadedConnector,
  loadConnectorModules,
  resolveModuleArgument,
} from './connector-modules';
import { ConnectorRegistry } from './connector-registry';
import { createConnectorService } from './connector-service';
import { ConnectorCliError } from './errors';
import { scaffoldConnector } from './scaffold';

export {
  type ConnectorModule,
  discoverConnectorModules,
  type LoadedConnector,
  loadConnectorModules,
  resolveModuleArgument,
} from './connector-modules';
export { type ScaffoldOptions, scaffoldConnector } from './scaffold';

/** Where the CLI writes and what it runs in. */
export interface CliContext {
  cwd?: string;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Resolves when `serve` should stop; defaults to the first SIGTERM or SIGINT. */
  stopSignal?: AbortSignal;
}

const USAGE = `Usage:
  flyte-connector serve [--port 8000] [--metrics-port 9090] [--host 0.0.0.0] [--module <package|file>]... [--no-discover]
  flyte-connector list [--module <package|file>]... [--no-discover]
  flyte-connector new <name> [--dir packages/connector-<name>]

Connectors come from each --module and from installed packages whose package.json declares
"flyte": { "connectors": "<entry>" }.
`;

function table(loaded: readonly LoadedConnector[]): string {
  const rows = [
    ['CONNECTOR', 'TASK TYPE', 'VERSION', 'SOURCE'],
    ...loaded.map(({ connector, source }) => [
      connector.name,
      connector.taskTypeName,
      String(connector.taskTypeVersion),
      source,
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return `${rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function port(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConnectorCliError(
      `${flag} ${value}: not a port number; use an integer from 0 to 65535.`,
      { flag, value },
    );
  }
  return n;
}

async function load(
  values: { module?: string[] | undefined; 'no-discover'?: boolean | undefined },
  cwd: string,
) {
  const modules: ConnectorModule[] = (values.module ?? []).map((m) =>
    resolveModuleArgument(m, cwd),
  );
  if (!values['no-discover']) modules.push(...(await discoverConnectorModules(cwd)));
  const registry = new ConnectorRegistry();
  const loaded = await loadConnectorModules(modules, registry);
  return { registry, loaded };
}

function stopOnSignals(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  controller.signal.addEventListener('abort', () => {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  });
  return controller.signal;
}

/**
 * Runs `flyte-connector` with its arguments (without `node` and the script) and resolves with
 * the exit code. `serve` resolves after a graceful shutdown (SIGTERM/SIGINT, or `stopSignal`).
 */
export async function runCli(argv: readonly string[], context: CliContext = {}): Promise<number> {
  const cwd = context.cwd ?? process.cwd();
  const out = context.stdout ?? ((t: string) => process.stdout.write(t));
  const err = context.stderr ?? ((t: string) => process.stderr.write(t));
  const [command, ...rest] = argv;
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        'metrics-port': { type: 'string' },
        host: { type: 'string' },
        module: { type: 'string', multiple: true },
        'no-discover': { type: 'boolean' },
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help || command === undefined || command === 'help' || command === '--help') {
      out(USAGE);
      return command === undefined ? 1 : 0;
    }
    switch (command) {
      case 'list': {
        const { loaded } = await load(values, cwd);
        out(
          loaded.length
            ? table(loaded)
            : 'No connectors found. Pass --module, or install a package that declares "flyte": { "connectors": ... }.\n',
        );
        return 0;
      }
      case 'serve': {
        const { registry, loaded } = await load(values, cwd);
        if (loaded.length === 0) {
          throw new ConnectorCliError(
            'Nothing to serve: no connectors found. Pass --module <package|file>, or install a package that declares "flyte": { "connectors": ... }.',
          );
        }
        const service = await createConnectorService(registry, {
          port: port(values.port, '--port', 8000),
          metricsPort: port(values['metrics-port'], '--metrics-port', 9090),
          host: values.host ?? '0.0.0.0',
        });
        // Only once serving: a start that fails leaves no handler behind in an embedding process.
        const stop = context.stopSignal ?? stopOnSignals();
        out(table(loaded));
        out(
          `Serving flyteidl2 AsyncConnectorService on ${values.host ?? '0.0.0.0'}:${service.port}, metrics on :${service.metricsPort}/metrics\n`,
        );
        await new Promise<void>((resolve) => {
          if (stop.aborted) resolve();
          stop.addEventListener('abort', () => resolve(), { once: true });
        });
        out('Shutting down: finishing calls in flight...\n');
        await service.close();
        out('Stopped.\n');
        return 0;
      }
      case 'new': {
        const name = positionals[0];
        if (!name)
          throw new ConnectorCliError(
            'new: give the connector a name, for example `flyte-connector new warehouse`.',
          );
        const dir = await scaffoldConnector({
          name,
          cwd,
          ...(values.dir ? { directory: values.dir } : {}),
        });
        out(
          `Created ${dir}. Next: pnpm install, then pnpm --filter @flyte/connector-${name} test.\n`,
        );
        return 0;
      }
      default:
        throw new ConnectorCliError(`Unknown command "${command}".\n${USAGE}`, { command });
    }
  } catch (error) {
    const message =
      FlyteError.isInstance(error) || error instanceof TypeError ? error.message : String(error);
    err(`flyte-connector: ${message}\n`);
    return 1;
  }
}
