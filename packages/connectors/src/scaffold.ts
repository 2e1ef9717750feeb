import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConnectorCliError } from './errors';

/** What {@link scaffoldConnector} creates. */
export interface ScaffoldOptions {
  /** Connector name, kebab-case: `warehouse` makes `@flyte/connector-warehouse`. */
  name: string;
  /** The workspace root. Default `process.cwd()`. */
  cwd?: string;
  /** Where to create the package, relative to `cwd`. Default `packages/connector-<name>`. */
  directory?: string;
}

const pascal = (name: string) =>
  name.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
const snake = (name: string) => name.replace(/-/g, '_');

function conditions(entry: string) {
  return {
    import: { types: `./dist/${entry}.d.ts`, default: `./dist/${entry}.js` },
    require: { types: `./dist/${entry}.d.cts`, default: `./dist/${entry}.cjs` },
  };
}

/**
 * Creates a connector package with the house layout: package.json (ESM + CJS exports, types
 * first), tsup/vitest/tsconfig files, a README, a connector over a small job API interface, a
 * task class, a test file wired to the conformance suite, and a packaging smoke test.
 * Returns the package directory.
 *
 * @throws ConnectorCliError when the name is not kebab-case or the directory exists.
 */
export async function scaffoldConnector(options: ScaffoldOptions): Promise<string> {
  const { name } = options;
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) {
    throw new ConnectorCliError(
      `Connector name "${name}" must be kebab-case (lowercase letters, digits, dashes), for example "warehouse".`,
      { name },
    );
  }
  const dir = resolve(
    options.cwd ?? process.cwd(),
    options.directory ?? join('packages', `connector-${name}`),
  );
  if (existsSync(dir)) {
    throw new ConnectorCliError(`${dir} already exists; choose another name or --dir.`, {
      directory: dir,
    });
  }
  const Name = pascal(name);
  const taskType = `${snake(name)}_job`;
  const pkg = `@flyte/connector-${name}`;
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(
      {
        name: pkg,
        version: '0.0.0',
        description: `Flyte connector for ${name} jobs.`,
        license: 'Apache-2.0',
        type: 'module',
        sideEffects: false,
        engines: { node: '>=20.19' },
        exports: { '.': conditions('index'), './package.json': './package.json' },
        main: './dist/index.cjs',
        module: './dist/index.js',
        types: './dist/index.d.cts',
        files: ['dist', 'README.md', 'CHANGELOG.md'],
        flyte: { connectors: './dist/index.js' },
        scripts: {
          build: 'tsup',
          typecheck: 'tsc --noEmit',
          test: 'vitest run',
          lint: 'publint --strict && attw --pack . --profile node16',
        },
        dependencies: { '@flyte/connectors': 'workspace:^', '@flyte/idl': 'workspace:^' },
        devDependencies: { zod: '^4.6.7' },
        peerDependencies: { zod: '^4.1.0' },
      },
      null,
      2,
    )}\n`,
    'tsconfig.json': `{\n  "extends": "../../tsconfig.base.json",\n  "include": ["src"]\n}\n`,
    'tsup.config.ts': `import { defineFlytePackage } from '../../tsup.base';\n\nexport default defineFlytePackage({ index: 'src/index.ts' });\n`,
    'vitest.config.ts': `import { defineProject } from 'vitest/config';\n\nexport default defineProject({ test: { name: '${pkg}' } });\n`,
    'README.md': `# ${pkg}

A Flyte connector for ${name} jobs: runs \`${taskType}\` tasks locally with \`@flyte/connectors\`, or
serves them to a Flyte 2 cluster with \`flyte-connector serve\`.

\`\`\`sh
npm install ${pkg} @flyte/connectors zod
\`\`\`

\`\`\`ts
import { ${Name}Connector, ${Name}Task } from '${pkg}';
import { z } from 'zod';

// Implement ${Name}JobApi with your service's client (submit, status, cancel).
const connector = new ${Name}Connector(myJobApi);
const task = new ${Name}Task({
  name: 'example.${snake(name)}',
  inputs: z.object({ query: z.string() }),
  outputs: z.object({ result: z.string() }),
  connector,
});
const { result } = await task.run({ query: 'hello' });
\`\`\`

\`flyte-connector serve\` finds this package through \`"flyte": { "connectors": ... }\` in its
package.json, which points at the module exporting \`connectors\`.
`,
    'packaging.smoke.mjs': `// Run by the repository's packaging test from ESM and CJS, with only the packed tarball installed.
export default function smoke(lib) {
  if (typeof lib.${Name}Connector !== 'function') throw new Error('no ${Name}Connector export');
}
`,
    [`src/${name}-connector.ts`]: `import {
  AsyncConnector,
  type CreateParams,
  type Resource,
  type ResourceParams,
  TransientConnectorError,
} from '@flyte/connectors';
import { phaseFromState } from '@flyte/idl';
import { z } from 'zod';

/** The calls this connector needs from the ${name} service. Implement it with its client. */
export interface ${Name}JobApi {
  /** Starts a job and returns its id. */
  submit(request: { inputs: Record<string, unknown>; token: string | undefined }, signal: AbortSignal): Promise<string>;
  /** The job's state (for example RUNNING, DONE, FAILED) and, once done, its outputs. */
  status(jobId: string, signal: AbortSignal): Promise<{ state: string; outputs?: Record<string, unknown>; error?: string }>;
  /** Cancels the job; cancelling a finished or cancelled job must succeed. */
  cancel(jobId: string, signal: AbortSignal): Promise<void>;
}

const metadata = z.object({ jobId: z.string().min(1) });

/** Runs \`${taskType}\` tasks as ${name} jobs. */
export class ${Name}Connector extends AsyncConnector<z.infer<typeof metadata>> {
  readonly name = '${Name} connector';
  readonly taskTypeName = '${taskType}';
  readonly metadataSchema = metadata;

  /** @param api - The ${name} service client. */
  constructor(private readonly api: ${Name}JobApi) {
    super();
  }

  async create({ inputs, secrets, signal }: CreateParams) {
    const jobId = await this.api.submit({ inputs, token: secrets.${snake(name)}_token }, signal);
    return { jobId };
  }

  async get({ resourceMeta, signal }: ResourceParams<z.infer<typeof metadata>>): Promise<Resource> {
    let status: Awaited<ReturnType<${Name}JobApi['status']>>;
    try {
      status = await this.api.status(resourceMeta.jobId, signal);
    } catch (error) {
      // Ask for a retry: a status call that fails says nothing about the job itself.
      throw new TransientConnectorError(\`${Name} status of job \${resourceMeta.jobId} failed; retrying.\`, { cause: error });
    }
    return {
      phase: phaseFromState(status.state),
      message: status.error,
      outputs: status.outputs,
    };
  }

  async delete({ resourceMeta, signal }: ResourceParams<z.infer<typeof metadata>>) {
    await this.api.cancel(resourceMeta.jobId, signal);
  }
}
`,
    [`src/${name}-task.ts`]: `import { type ConnectorRunDefaults, ConnectorTask } from '@flyte/connectors';
import type { AnyObjectSchema } from '@flyte/idl';
import type { ${Name}Connector } from './${name}-connector';

/** What a ${Name}Task is made of. */
export interface ${Name}TaskOptions<I extends AnyObjectSchema, O extends AnyObjectSchema> {
  name: string;
  inputs: I;
  outputs: O;
  /** The connector local runs use (a Flyte cluster uses the one it is served by). */
  connector?: ${Name}Connector;
  runDefaults?: ConnectorRunDefaults;
}

/** A task run as a ${name} job. */
export class ${Name}Task<I extends AnyObjectSchema, O extends AnyObjectSchema> extends ConnectorTask<I, O> {
  constructor(options: ${Name}TaskOptions<I, O>) {
    super({
      name: options.name,
      taskType: '${taskType}',
      inputs: options.inputs,
      outputs: options.outputs,
      runDefaults: { ...options.runDefaults, ...(options.connector ? { connector: options.connector } : {}) },
    });
  }
}
`,
    'src/index.ts': `import type { AnyConnector } from '@flyte/connectors';

export { type ${Name}JobApi, ${Name}Connector } from './${name}-connector';
export { ${Name}Task, type ${Name}TaskOptions } from './${name}-task';

/**
 * What \`flyte-connector serve\` loads from this package. Fill it with a connector built on your
 * service's client; it starts empty because the client needs configuration.
 */
export const connectors: AnyConnector[] = [];
`,
    [`src/${name}-connector.test.ts`]: `import { testConnector } from '@flyte/connectors/testing';
import { z } from 'zod';
import { type ${Name}JobApi, ${Name}Connector } from './${name}-connector';
import { ${Name}Task } from './${name}-task';

// An in-memory ${name} service: each job is DONE after three status calls.
class InMemoryJobApi implements ${Name}JobApi {
  readonly jobs = new Map<string, { polls: number; needed: number; state: string; inputs: Record<string, unknown> }>();
  async submit({ inputs }: { inputs: Record<string, unknown> }) {
    const id = \`job-\${this.jobs.size + 1}\`;
    this.jobs.set(id, { polls: 0, needed: Number(inputs.polls ?? 3), state: 'RUNNING', inputs });
    return id;
  }
  async status(jobId: string) {
    const job = this.jobs.get(jobId);
    if (!job) throw new Error(\`no job \${jobId}\`);
    if (job.state === 'RUNNING' && ++job.polls >= job.needed) job.state = 'DONE';
    return job.state === 'DONE' ? { state: 'DONE', outputs: { polls: job.polls } } : { state: job.state };
  }
  async cancel(jobId: string) {
    const job = this.jobs.get(jobId);
    if (job && job.state === 'RUNNING') job.state = 'CANCELLED';
  }
}

const connector = new ${Name}Connector(new InMemoryJobApi());
const task = new ${Name}Task({
  name: 'test.${snake(name)}',
  inputs: z.object({ polls: z.number().int() }),
  outputs: z.object({ polls: z.number().int() }),
  connector,
  runDefaults: { minPollInterval: 1, maxPollInterval: 5 },
});

testConnector(connector, { task, inputs: { polls: 3 }, longRunningInputs: { polls: 1_000_000 } });
`,
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content, { flag: 'wx' });
  }
  return dir;
}
