import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AnyObjectSchema,
  captureDefinitionSite,
  createTaskTemplate,
  type DefinitionSite,
  FlyteError,
  InvalidTaskIoError,
  parseTaskIo,
  type TaskDefinition,
  type TaskInterface,
  type TaskRunOptions,
  type TaskTemplateContext,
  typedInterfaceOf,
} from '@flyte/idl';
import {
  DataLoadingConfig_LiteralMapFormat,
  Resources_ResourceName,
  Secret_MountType,
  type TaskTemplate,
} from '@flyte/idl/core';
import type Docker from 'dockerode';
import { z } from 'zod';
import { untilAborted } from './abortable';
import { CappedOutput, LineSplitter, maskSecrets, tailOf } from './capped-output';
import { ConcurrencyLimit } from './concurrency-limit';
import { createDockerClient, ensureDockerReachable } from './docker-client';
import { drained } from './drained';
import {
  InvalidSandboxOptionsError,
  SandboxAbortedError,
  SandboxExitError,
  SandboxInputError,
  SandboxOutputError,
  SandboxRunError,
  SandboxTimeoutError,
} from './errors';
import { DEFAULT_BASE_IMAGE, type ImageSpec, resolveImage } from './image-builder';
import {
  type ArchiveEntry,
  type CollectedOutputs,
  collectOutputs,
  decodeOutput,
  inputEntries,
  OutputTooLargeError,
  packArchive,
} from './io-files';
import { isIoName, isPathKind, manifestOf } from './io-kinds';
import { programArgv, type SandboxLanguage, type SandboxProgram, wrapRun } from './programs';
import { reapOnce } from './reaper';
import { MarkerScanner, RunFrameSplitter, type RunStatus } from './run-frame';
import type { SandboxRunResult } from './run-result';
import {
  type AttachedRun,
  type ContainerSpec,
  prepareAttached,
  REMOVAL_WAIT_MS,
  removeContainer,
} from './sandbox-container';
import { WarmPool } from './warm-pool';

/** A container ready for one run, with the marker its run script ends the program output with. */
interface PreparedRun extends AttachedRun {
  readonly marker: string;
  /** Whether its run script waits for `go` and an input archive on stdin. */
  readonly unpack: boolean;
}

const GO_LINE = Buffer.from('go\n');
// How long a run waits for the orphan reaper of its Docker client before going on without it.
const REAPER_WAIT_MS = 5000;
// An empty tar archive: two zero blocks.
const EMPTY_TAR = Buffer.alloc(1024);

/** Resource limits of each run; every one has a safe default. */
export interface SandboxResources {
  /** CPU cores, fractions allowed (default 1). */
  cpu?: number;
  /** Memory limit as bytes or `"512Mi"`, `"1Gi"`, `"256m"` (default 512 MiB); swap is disabled. */
  memory?: number | string;
  /** Most processes and threads at once (default 256). */
  pids?: number;
  /** Size of the writable /tmp (default 64 MiB). */
  tmpSize?: number | string;
  /** Size of /var/outputs, and so the cap on all output files together (default 64 MiB). */
  outputsSize?: number | string;
  /** Size of /var/inputs (default 256 MiB). */
  inputsSize?: number | string;
}

/** A secret: a value only the code sees, as an environment variable. */
export type SandboxSecret = string;

/** Options of a warm pool (see {@link CreateSandboxOptions.pool}). */
export interface SandboxPoolOptions {
  /** How many started containers to keep ready. */
  size: number;
}

/** Everything {@link createSandbox} accepts. */
export interface CreateSandboxOptions<I extends AnyObjectSchema, O extends AnyObjectSchema> {
  /** Task name, unique within a project (for example `"stats.double"`). */
  name: string;
  /** Source code to run (code mode or, with `autoIo: false`, verbatim mode). */
  code?: string;
  /** A command to run instead of code (command mode): program and its fixed arguments. */
  command?: readonly string[];
  /** More arguments, appended to `command` (command mode) or passed to a verbatim script. */
  arguments?: readonly string[];
  /** Inputs, as a zod object (default: none). */
  inputs?: I;
  /** Outputs, as a zod object (default: none). */
  outputs?: O;
  /** Language of `code` (default `"python"`). */
  language?: SandboxLanguage;
  /**
   * Code mode (true, the default): inputs are variables, outputs are read from variables of
   * the same names. Verbatim mode (false): the script reads /var/inputs/<name> and writes
   * /var/outputs/<name> itself.
   */
  autoIo?: boolean;
  /** pip packages (python) or npm packages (javascript); a local path is copied in. */
  packages?: readonly string[];
  /** Debian packages installed with apt. */
  systemPackages?: readonly string[];
  /** Shell commands run as root at the end of the image build. */
  additionalCommands?: readonly string[];
  /** A ready image to run as is (no build); excludes the three options above. */
  image?: string;
  /** Image the build starts from (default `FLYTE_SANDBOX_BASE_IMAGE` or `python:3.12-slim`). */
  baseImage?: string;
  /** Limits of each run. */
  resources?: SandboxResources;
  /**
   * Wall-clock limit of a run in milliseconds (default 5 minutes), at most 2147483647 (about
   * 24.8 days, the longest Node.js timer); `Infinity` is refused.
   */
  timeout?: number;
  /** Environment variables of the code (visible in the task template: no secrets here). */
  env?: Readonly<Record<string, string>>;
  /**
   * Secrets, by environment variable name. The code sees them as environment variables; they
   * are masked (`***`) in stdout, stderr and errors, and never written into the template.
   */
  secrets?: Readonly<Record<string, SandboxSecret>>;
  /**
   * `"none"` (the default): no network at all. `"host"`: the host's network, an explicit
   * opt-in for code you trust to reach the network.
   */
  network?: 'none' | 'host';
  /** Keep started containers ready, so a run skips container creation. */
  pool?: SandboxPoolOptions;
  /** Most runs at once; more wait in a queue (default: the number of CPU cores). */
  concurrency?: number;
  /** Cap on each of stdout and stderr kept in memory, in bytes (default 1 MiB). */
  outputCap?: number;
  /** Whether a missing base image may be pulled from its registry (default true). */
  pullBaseImage?: boolean;
  /** The Docker client to use (default: `DOCKER_HOST` or the local socket). */
  docker?: Docker;
}

/** Options of {@link CodeSandbox.run}. */
export interface SandboxRunOptions extends TaskRunOptions {
  /** Receives stdout and stderr while the code runs, whole lines at a time, secrets masked. */
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  /** Where file and folder outputs are written (default: a new folder in the OS temp dir). */
  outputDir?: string;
  /** Receives image build output, when the run has to build the image first. */
  onBuildProgress?: (line: string) => void;
}

/** Options of {@link CodeSandbox.build}. */
export interface SandboxBuildOptions {
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

/** What a run resolves to: the typed outputs and how the run went. */
export type SandboxRunOutput<O extends AnyObjectSchema> = z.output<O> & SandboxRunResult;

/** A code sandbox: a {@link TaskDefinition} that runs code in a throwaway container. */
export interface CodeSandbox<I extends AnyObjectSchema, O extends AnyObjectSchema>
  extends TaskDefinition<I, O> {
  /**
   * Runs the code once in a fresh container. Resolves to the outputs and the run report.
   *
   * @throws SandboxExitError (non-zero exit, OOM), SandboxTimeoutError, SandboxAbortedError,
   * SandboxOutputError, SandboxInputError, DockerUnavailableError, and the build errors.
   */
  run(inputs: z.input<I>, options?: SandboxRunOptions): Promise<SandboxRunOutput<O>>;
  /** Builds (or finds) the image; returns its name. A later run does not build again. */
  build(options?: SandboxBuildOptions): Promise<string>;
  /** Builds the image and starts the warm pool (a no-op without `pool`). */
  warmUp(options?: SandboxBuildOptions): Promise<void>;
  /**
   * Removes the pool's idle containers and waits until the containers of finished runs are
   * removed (a run starts removing its container when it ends, without making the caller wait).
   * Runs in progress finish normally.
   */
  close(): Promise<void>;
}

const RESULT_FIELDS = [
  'exitCode',
  'stdout',
  'stderr',
  'durationMs',
  'oomKilled',
  'timedOut',
  'truncated',
];
const MiB = 1024 * 1024;
const MAX_CODE_BYTES = 100 * 1024;
// The longest delay a Node.js timer takes: it turns a longer one (Infinity too) into 1 ms,
// which would time every run out at once.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Parses `512Mi`, `1Gi`, `256m`, `1g`, `2048k` or a number of bytes. */
export function parseByteSize(value: number | string, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.floor(value);
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?\s*$/i.exec(String(value));
  if (!match?.[1]) {
    throw new Error(
      `${what} is ${JSON.stringify(value)}; give a number of bytes or a size like "512Mi", "1Gi" or "256m".`,
    );
  }
  const unit = (match[2] ?? '').toLowerCase().replace('i', '');
  const power = { '': 0, k: 1, m: 2, g: 3, t: 4 }[unit] ?? 0;
  return Math.floor(Number(match[1]) * 1024 ** power);
}

function validate<I extends AnyObjectSchema, O extends AnyObjectSchema>(
  options: CreateSandboxOptions<I, O>,
) {
  const sandbox = options.name;
  const fail = (option: string, message: string, value?: unknown): never => {
    throw new InvalidSandboxOptionsError(`Sandbox "${sandbox}": ${message}`, {
      sandbox,
      option,
      ...(value === undefined ? {} : { value }),
    });
  };
  if (!options.name?.trim()) fail('name', 'name must not be empty.');
  if ((options.code === undefined) === (options.command === undefined)) {
    fail('code', 'give exactly one of `code` (code or verbatim mode) or `command` (command mode).');
  }
  if (options.command?.length === 0) fail('command', '`command` must name a program.');
  if (options.code !== undefined && Buffer.byteLength(options.code) > MAX_CODE_BYTES) {
    fail(
      'code',
      `code is ${Buffer.byteLength(options.code)} bytes; the limit is ${MAX_CODE_BYTES}. Put large programs in a package or the image.`,
    );
  }
  const language = options.language ?? 'python';
  if (!['python', 'javascript', 'bash'].includes(language)) {
    fail(
      'language',
      `language ${JSON.stringify(language)} is not one of python, javascript, bash.`,
      language,
    );
  }
  const autoIo = options.command === undefined && options.autoIo !== false;
  if (autoIo && options.arguments?.length) {
    fail(
      'arguments',
      '`arguments` go to a command or a verbatim script (autoIo: false), not to code mode.',
    );
  }
  if (
    options.image &&
    (options.packages?.length ||
      options.systemPackages?.length ||
      options.additionalCommands?.length ||
      options.baseImage)
  ) {
    fail(
      'image',
      '`image` is used as is; it cannot be combined with packages, systemPackages, additionalCommands or baseImage.',
    );
  }
  for (const [stage, schema] of [
    ['inputs', options.inputs],
    ['outputs', options.outputs],
  ] as const) {
    for (const name of Object.keys(schema?.shape ?? {})) {
      if (!isIoName(name))
        fail(
          stage,
          `${stage} name ${JSON.stringify(name)} must be an identifier (letters, digits, _), since it is a file name and a variable.`,
          name,
        );
      if (stage === 'outputs' && RESULT_FIELDS.includes(name))
        fail(stage, `output name "${name}" is reserved for the run report; rename it.`, name);
    }
  }
  for (const name of [...Object.keys(options.env ?? {}), ...Object.keys(options.secrets ?? {})]) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      fail('env', `environment variable name ${JSON.stringify(name)} is not valid.`, name);
  }
  if (options.network && options.network !== 'none' && options.network !== 'host') {
    fail(
      'network',
      `network ${JSON.stringify(options.network)} is not "none" or "host".`,
      options.network,
    );
  }
  if (options.pool && !(Number.isInteger(options.pool.size) && options.pool.size >= 0)) {
    fail(
      'pool',
      `pool.size must be a whole number >= 0, not ${options.pool.size}.`,
      options.pool.size,
    );
  }
  if (options.timeout !== undefined && !(options.timeout > 0))
    fail('timeout', `timeout must be > 0 ms, not ${options.timeout}.`, options.timeout);
  if (options.timeout !== undefined && options.timeout > MAX_TIMEOUT_MS)
    fail(
      'timeout',
      `timeout is ${options.timeout} ms; at most ${MAX_TIMEOUT_MS} ms (about 24.8 days, the longest Node.js timer) is allowed.`,
      options.timeout,
    );
  const resources = options.resources ?? {};
  const size = (value: number | string | undefined, fallback: number, option: string) => {
    try {
      return value === undefined ? fallback : parseByteSize(value, option);
    } catch (error) {
      return fail(option, (error as Error).message, value);
    }
  };
  const cpu = resources.cpu ?? 1;
  if (!(cpu > 0)) fail('resources.cpu', `resources.cpu must be > 0, not ${cpu}.`, cpu);
  const pids = resources.pids ?? 256;
  if (!(Number.isInteger(pids) && pids >= 8))
    fail('resources.pids', `resources.pids must be a whole number >= 8, not ${pids}.`, pids);
  return {
    language,
    autoIo,
    memoryBytes: size(resources.memory, 512 * MiB, 'resources.memory'),
    tmpBytes: size(resources.tmpSize, 64 * MiB, 'resources.tmpSize'),
    outputsBytes: size(resources.outputsSize, 64 * MiB, 'resources.outputsSize'),
    inputsBytes: size(resources.inputsSize, 256 * MiB, 'resources.inputsSize'),
    cpu,
    pids,
  };
}

/**
 * The deadline and cancellation of one run, from the first step of `run()` (so a hung Docker
 * engine, a build or a queue cannot outlast it) to the last.
 */
class RunStop {
  /** Why the run was stopped, once it was. */
  why: 'timeout' | 'abort' | undefined;
  /** What the run was doing, for the error message of a stop before the code started. */
  phase = 'preparing its inputs';
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = () => this.stop('abort');

  constructor(
    timeoutMs: number,
    private readonly userSignal: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(() => this.stop('timeout'), timeoutMs);
    userSignal?.addEventListener('abort', this.onAbort, { once: true });
    if (userSignal?.aborted) this.stop('abort');
  }

  /** The caller's abort reason. */
  get reason(): unknown {
    return this.userSignal?.reason;
  }

  /** Aborts on timeout and on the caller's abort. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private stop(why: 'timeout' | 'abort') {
    if (this.why) return;
    this.why = why;
    this.controller.abort(why === 'abort' ? this.userSignal?.reason : new Error('timeout'));
  }

  dispose() {
    clearTimeout(this.timer);
    this.userSignal?.removeEventListener('abort', this.onAbort);
  }
}

/** Whether `promise` settles (either way) within `ms`. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Creates a code sandbox: code (python, javascript or bash) or a command that runs in a fresh,
 * locked-down Docker container per run, with typed inputs and outputs passed as files.
 *
 * Safe by default: a non-root user, all capabilities dropped, no-new-privileges, a read-only
 * root filesystem with small tmpfs mounts for /tmp and /var/outputs, memory (no swap), CPU
 * and pids limits, no network, no host paths and no Docker socket inside, a wall-clock
 * timeout, and capped output.
 *
 * @example
 * const double = createSandbox({
 *   name: 'math.double',
 *   code: 'result = x * 2',
 *   inputs: z.object({ x: z.number().int() }),
 *   outputs: z.object({ result: z.number().int() }),
 *   baseImage: 'flyte-sandbox/base:bookworm',
 * });
 * const { result } = await double.run({ x: 21 }); // 42
 */
export function createSandbox<
  I extends AnyObjectSchema = z.ZodObject<Record<string, never>>,
  O extends AnyObjectSchema = z.ZodObject<Record<string, never>>,
>(options: CreateSandboxOptions<I, O>): CodeSandbox<I, O> {
  const checked = validate(options);
  const definedAt: DefinitionSite | undefined = captureDefinitionSite(createSandbox);
  const inputsSchema = (options.inputs ?? z.object({})) as I;
  const outputsSchema = (options.outputs ?? z.object({})) as O;
  const iface: TaskInterface<I, O> = { inputs: inputsSchema, outputs: outputsSchema };
  typedInterfaceOf(iface);
  const manifest = {
    inputs: manifestOf(inputsSchema, 'inputs'),
    outputs: manifestOf(outputsSchema, 'outputs'),
  };
  const program: SandboxProgram =
    options.command !== undefined
      ? { mode: 'command', command: [...options.command, ...(options.arguments ?? [])] }
      : {
          mode: 'code',
          language: checked.language,
          code: options.code ?? '',
          autoIo: checked.autoIo,
        };
  const argv = [
    ...programArgv(program, manifest),
    ...(program.mode === 'code' && !program.autoIo
      ? verbatimArguments(checked.language, options.arguments ?? [])
      : []),
  ];
  const timeoutMs = options.timeout ?? 5 * 60_000;
  const secrets = Object.values(options.secrets ?? {}).filter((s) => s.length > 0);
  // Python block-buffers a pipe: without this, output printed before a timeout or a kill is
  // lost, and onOutput gets nothing until the code ends. Set for local runs and in the task
  // template alike, so the program behaves the same on a cluster.
  const plainEnv: Record<string, string> =
    program.mode === 'code' && checked.language === 'python'
      ? { PYTHONUNBUFFERED: '1', ...options.env }
      : { ...options.env };
  const env = Object.entries(plainEnv).map(([k, v]) => `${k}=${v}`);
  // Secrets travel in the input archive, not in the container's configuration (which
  // `docker inspect` shows); the run script exports them and deletes the files first.
  const secretEntries: ArchiveEntry[] = Object.entries(options.secrets ?? {}).map(
    ([name, value]) => ({
      name: `inputs/.flyte-secrets/${name}`,
      data: Buffer.from(value),
      mode: 0o400,
    }),
  );
  const imageSpec: ImageSpec | undefined = options.image
    ? undefined
    : {
        baseImage: options.baseImage ?? process.env.FLYTE_SANDBOX_BASE_IMAGE ?? DEFAULT_BASE_IMAGE,
        language: checked.language,
        systemPackages: options.systemPackages ?? [],
        packages: options.packages ?? [],
        additionalCommands: options.additionalCommands ?? [],
      };
  const limit = new ConcurrencyLimit(Math.max(1, options.concurrency ?? cpus().length));
  let docker: Docker | undefined = options.docker;
  let builtImage: string | undefined = options.image;
  let imagePromise: Promise<string> | undefined;
  let pool: WarmPool<PreparedRun> | undefined;
  let closed = false;
  // Removals of finished runs' containers (and of one still being created when its run
  // stopped): close() waits for them.
  const pendingRemovals = new Set<Promise<void>>();
  const trackRemoval = (gone: Promise<unknown>) => {
    const removal: Promise<void> = gone
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => pendingRemovals.delete(removal));
    pendingRemovals.add(removal);
  };

  // `signal` ends every wait here (the requests themselves are bounded by their own timeouts).
  const client = async (signal?: AbortSignal) => {
    docker ??= createDockerClient();
    const d = docker;
    await untilAborted(ensureDockerReachable(d), signal);
    // Reaping is housekeeping: a run waits for it a little, never for a hung engine.
    await untilAborted(settlesWithin(reapOnce(d), REAPER_WAIT_MS), signal);
    return d;
  };

  // `d` is the client a caller already checked; without one, one is checked here.
  const image = async (build: SandboxBuildOptions | undefined, d?: Docker): Promise<string> => {
    if (options.image) return options.image;
    const spec = imageSpec as ImageSpec;
    d ??= await client(build?.signal);
    imagePromise ??= resolveImage(d, spec, {
      onProgress: (line) => build?.onProgress?.(line),
      pullBaseImage: options.pullBaseImage ?? true,
    }).then(
      (name) => {
        builtImage = name;
        return name;
      },
      (error: unknown) => {
        imagePromise = undefined;
        throw error;
      },
    );
    return untilAborted(imagePromise, build?.signal);
  };

  const containerSpec = (img: string): ContainerSpec => ({
    image: img,
    memoryBytes: checked.memoryBytes,
    cpus: checked.cpu,
    pids: checked.pids,
    tmpBytes: checked.tmpBytes,
    outputsBytes: checked.outputsBytes,
    inputsBytes: checked.inputsBytes,
    network: options.network ?? 'none',
    user: '1000:1000',
  });

  const outputNames = Object.keys(manifest.outputs);
  const hasFileOutputs = Object.values(manifest.outputs).some((k) => isPathKind(k));
  const collect = outputNames.length > 0;
  // The container of one run: its main process is the run script, waiting (when `unpack`) for
  // `go` and the input archive on stdin. Warm-pool containers are these, made ahead of time.
  const prepareRun = async (
    d: Docker,
    img: string,
    unpack: boolean,
    onCreated?: (container: Docker.Container) => void,
  ): Promise<PreparedRun> => {
    const marker = `--flyte-sandbox-end-${randomUUID()}--`;
    const attached = await prepareAttached(
      d,
      containerSpec(img),
      {
        argv: wrapRun(argv, { marker, unpack, outputs: outputNames }),
        env,
        stdin: unpack ? EMPTY_TAR : undefined,
      },
      randomUUID(),
      onCreated,
    );
    return { container: attached.container, run: attached.run, marker, unpack };
  };

  const ensurePool = async (d: Docker, img: string) => {
    if (!options.pool?.size || closed) return undefined;
    if (!pool) {
      // Warm containers wait for their run: they live up to 6 hours, then are replaced.
      pool = new WarmPool(() => prepareRun(d, img, true), options.pool.size);
      pool.fill();
    }
    return pool;
  };

  const sandbox: CodeSandbox<I, O> = {
    name: options.name,
    taskType: 'sandbox-code',
    taskTypeVersion: 1,
    interface: iface,
    definedAt,

    async build(buildOptions = {}) {
      return image(buildOptions);
    },

    async warmUp(buildOptions = {}) {
      const d = await client();
      const p = await ensurePool(d, await image(buildOptions, d));
      await p?.ready();
    },

    async close() {
      closed = true;
      await pool?.close();
      await Promise.all([...pendingRemovals]);
    },

    async run(inputs, runOptions = {}) {
      const stop = new RunStop(timeoutMs, runOptions.signal);
      let release: (() => void) | undefined;
      // Settles once no container of this run can still appear; the slot is held until then.
      let containerSettled: Promise<unknown> = Promise.resolve();
      try {
        // An abort before the run (or while it waits for Docker, its image or a slot) is a
        // SandboxAbortedError like one during it.
        stop.signal.throwIfAborted();
        let parsed: Record<string, unknown>;
        try {
          parsed = parseTaskIo(inputsSchema, inputs, {
            task: options.name,
            stage: 'inputs',
            kind: 'Sandbox',
            hint: 'Pass values that match the inputs schema.',
          }) as Record<string, unknown>;
        } catch (error) {
          if (!InvalidTaskIoError.isInstance(error)) throw error;
          // The same message, as this package's own error naming the first bad input.
          const issues = (error.cause as z.ZodError).issues;
          throw new SandboxInputError(
            error.message,
            { sandbox: options.name, input: String(issues[0]?.path[0] ?? '') },
            error.cause,
          );
        }
        const entries = await inputEntries(
          options.name,
          manifest.inputs,
          parsed,
          checked.inputsBytes,
        );
        entries.push(...secretEntries);
        const archive = entries.length ? await packArchive(entries) : undefined;
        // One reachability check per run, shared with the image build.
        stop.phase = 'waiting for the Docker engine';
        const d = await client(stop.signal);
        stop.phase = 'resolving (or building) its image';
        const img = await image(
          {
            ...(runOptions.onBuildProgress ? { onProgress: runOptions.onBuildProgress } : {}),
            signal: stop.signal,
          },
          d,
        );
        stop.phase = `waiting for a free slot (concurrency ${limit.limit})`;
        release = await limit.acquire(stop.signal);
        stop.phase = 'starting its container';
        return await runIn(d, img, archive, runOptions, stop, (settled) => {
          containerSettled = settled;
        });
      } catch (error) {
        // Whatever a wait rejected with once the run was stopped (the signal's reason, a
        // DOMException), the caller gets this package's error.
        if (stop.why && !(error instanceof SandboxRunError)) {
          stoppedError(stop, {
            exitCode: -1,
            stdout: '',
            stderr: '',
            durationMs: 0,
            oomKilled: false,
            timedOut: stop.why === 'timeout',
            truncated: false,
          });
        }
        throw error;
      } finally {
        stop.dispose();
        const free = release;
        if (free) void containerSettled.then(free, free);
      }
    },
    toTaskTemplate(context: TaskTemplateContext): TaskTemplate {
      const templateImage =
        builtImage ??
        (imageSpec &&
        !imageSpec.packages.length &&
        !imageSpec.systemPackages.length &&
        !imageSpec.additionalCommands.length
          ? imageSpec.baseImage
          : undefined);
      if (!templateImage) {
        throw new FlyteError(
          'image_not_built',
          `Sandbox "${options.name}": its image is built from packages; call \`await sandbox.build()\` before toTaskTemplate() so the template can name the image (and push that image where the cluster can pull it).`,
          { details: { sandbox: options.name } },
        );
      }
      const [command, ...args] = argv;
      return createTaskTemplate(this, context, {
        container: {
          image: templateImage,
          command: command === undefined ? [] : [command],
          args,
          env: Object.entries(plainEnv).map(([key, value]) => ({ key, value })),
          resources: {
            requests: [
              { name: Resources_ResourceName.CPU, value: String(checked.cpu) },
              { name: Resources_ResourceName.MEMORY, value: String(checked.memoryBytes) },
            ],
            limits: [
              { name: Resources_ResourceName.CPU, value: String(checked.cpu) },
              { name: Resources_ResourceName.MEMORY, value: String(checked.memoryBytes) },
            ],
          },
          dataConfig: {
            enabled: true,
            inputPath: '/var/inputs',
            outputPath: '/var/outputs',
            format: DataLoadingConfig_LiteralMapFormat.JSON,
          },
        },
        metadata: { timeout: { seconds: BigInt(Math.ceil(timeoutMs / 1000)) } },
        custom: {
          mode: program.mode === 'command' ? 'command' : checked.autoIo ? 'code' : 'verbatim',
          ...(program.mode === 'code' ? { language: checked.language } : {}),
          network: options.network ?? 'none',
          pids: checked.pids,
        },
        // Only the names of secrets: their values never leave this process except into the run.
        ...(options.secrets && Object.keys(options.secrets).length
          ? {
              securityContext: {
                secrets: Object.keys(options.secrets).map((key) => ({
                  key,
                  envVar: key,
                  mountRequirement: Secret_MountType.ENV_VAR,
                })),
              },
            }
          : {}),
      });
    },
  };

  async function runIn(
    d: Docker,
    img: string,
    archive: Buffer | undefined,
    runOptions: SandboxRunOptions,
    runStop: RunStop,
    onSettled: (settled: Promise<unknown>) => void,
  ): Promise<SandboxRunOutput<O>> {
    // The run's own time, from the creation of its container: not its waits for the engine, the image
    // or a slot (which count against its timeout all the same).
    const startedAt = performance.now();
    const cap = options.outputCap ?? MiB;
    const stdout = new CappedOutput(cap, secrets);
    const stderr = new CappedOutput(cap, secrets);
    const onOutput = runOptions.onOutput;
    const lines = onOutput
      ? {
          stdout: new LineSplitter((text) => onOutput('stdout', text), secrets),
          stderr: new LineSplitter((text) => onOutput('stderr', text), secrets),
        }
      : undefined;
    let current: Docker.Container | undefined;
    // The removal a stop (or an output failure) started: awaited before the run rejects.
    let removing: Promise<void> | undefined;
    const removeCurrent = () => {
      if (current && !removing) removing = removeContainer(current).catch(() => undefined);
    };
    // Resolves on timeout or abort, so no wait below outlives them (even a hung Docker call).
    const whenStopped = new Promise<undefined>((resolve) => {
      if (runStop.signal.aborted) resolve(undefined);
      runStop.signal.addEventListener('abort', () => resolve(undefined), { once: true });
    });
    // Removing the container ends the stream and every process in it.
    const onStop = () => removeCurrent();
    runStop.signal.addEventListener('abort', onStop, { once: true });
    const setContainer = (container: Docker.Container) => {
      current = container;
      if (runStop.why) removeCurrent();
    };
    let preparing: Promise<PreparedRun> | undefined;
    // Set when a stop came while the engine was creating the container and it did not finish
    // within REMOVAL_WAIT_MS: the container is removed if it ever appears (setContainer), and
    // neither the slot nor close() waits for it any longer (a hung engine would hold them).
    let stillCreating = false;
    // Settles once this run's container is removed, or can no longer be waited for: tracked from
    // the moment a container may exist, so a close() called right after a stop waits for it.
    let finishCleanup: (done: Promise<unknown>) => void = () => undefined;
    const cleanup = new Promise<unknown>((resolve) => {
      finishCleanup = resolve;
    });
    runStop.phase = 'starting its container';
    let endedAt: number | undefined;
    const report = (exitCode: number, oomKilled: boolean): SandboxRunResult => ({
      exitCode,
      stdout: stdout.text(),
      stderr: stderr.text(),
      durationMs: Math.round((endedAt ?? performance.now()) - startedAt),
      oomKilled,
      timedOut: runStop.why === 'timeout',
      truncated: stdout.truncated || stderr.truncated,
    });
    let frame: RunFrameSplitter | undefined;
    // Outputs are read while they stream in (bounded, with backpressure), not after.
    let collecting: Promise<CollectedOutputs> | undefined;
    let failCollecting: () => void = () => undefined;
    const collectFailed = new Promise<void>((resolve) => {
      failCollecting = resolve;
    });
    // A folder this run made for file outputs: removed again if the run fails.
    let createdDir: string | undefined;
    let succeeded = false;
    const startCollecting = (status: RunStatus, outputs: RunFrameSplitter['outputs']) => {
      if (!collect || status.exitCode !== 0 || status.unpackFailed) {
        // Not read: its bytes are dropped as they come.
        outputs.destroy();
        return;
      }
      collecting = (async () => {
        let hostDir = runOptions.outputDir ?? '';
        if (!runOptions.outputDir && hasFileOutputs) {
          createdDir = await mkdtemp(join(tmpdir(), 'flyte-sandbox-'));
          hostDir = createdDir;
        }
        return collectOutputs(outputs, manifest.outputs, hostDir, checked.outputsBytes);
      })();
      collecting.catch(() => {
        outputs.destroy();
        // Stop the container sending the rest (for example a huge sparse file).
        removeCurrent();
        failCollecting();
      });
    };
    try {
      try {
        const warm = await ensurePool(d, img);
        // Nothing is created for a run that is stopped already.
        runStop.signal.throwIfAborted();
        // A container that arrives after a stop is removed by setContainer.
        const starting = warm
          ? warm.take().then((taken) => {
              setContainer(taken.container);
              return taken;
            })
          : prepareRun(d, img, archive !== undefined, setContainer);
        preparing = starting;
        starting.catch(() => undefined);
        trackRemoval(cleanup);
        const prepared = await Promise.race([starting, whenStopped]);
        if (!prepared) {
          // The engine may still be creating the container: wait for it (bounded), so the
          // rejection below can say truly that nothing is left.
          stillCreating = !(await settlesWithin(starting, REMOVAL_WAIT_MS));
          throw new Error('stopped before the container started');
        }
        runStop.phase = '';
        const splitter: RunFrameSplitter = new RunFrameSplitter(
          prepared.marker,
          (chunk) => {
            stdout.push(chunk);
            lines?.stdout.push(chunk);
          },
          (status) => startCollecting(status, splitter.outputs),
        );
        frame = splitter;
        let stderrEnded: () => void = () => undefined;
        const stderrDone = new Promise<void>((resolve) => {
          stderrEnded = resolve;
        });
        const stderrScanner = new MarkerScanner(Buffer.from(prepared.marker), (chunk) => {
          stderr.push(chunk);
          lines?.stderr.push(chunk);
        });
        const stdin = prepared.unpack ? Buffer.concat([GO_LINE, archive ?? EMPTY_TAR]) : undefined;
        const streamed = prepared.run(stdin, {
          // When the outputs reader falls behind, the container's output waits for it.
          onStdout: (chunk) => (splitter.push(chunk) ? undefined : drained(splitter.outputs)),
          onStderr: (chunk) => {
            if (stderrScanner.found) return undefined;
            if (stderrScanner.push(chunk) !== undefined) stderrEnded();
            return undefined;
          },
        });
        // The run is over when both markers arrived (the container may still be exiting) or,
        // if it was killed, when its stream ends.
        streamed.catch(() => undefined);
        await Promise.race([
          streamed.finally(() => stderrScanner.flush()),
          Promise.all([splitter.done, stderrDone]),
          whenStopped,
          collectFailed,
        ]);
      } catch (error) {
        if (!runStop.why) throw error;
      }
      endedAt = performance.now();
      frame?.end();
      lines?.stdout.flush();
      lines?.stderr.flush();
      // The report masks and joins up to the whole capped output: built only when needed.
      if (runStop.why) {
        // The error says the container was killed and removed: make it true first.
        await removing;
        stoppedError(runStop, report(frame?.status?.exitCode ?? -1, false), stillCreating);
      }
      const status = frame?.status;
      if (!frame || !status) {
        const failure = report(-1, false);
        throw new SandboxExitError(
          `Sandbox "${options.name}" ended without reporting an exit code (its container was killed, or the image lacks \`sh\`). stderr (tail):\n${tailOf(failure.stderr)}`,
          failure,
        );
      }
      const oomKilled = status.oomKills > 0;
      const result = report(status.exitCode, oomKilled);
      if (status.unpackFailed) {
        throw new SandboxExitError(
          `Sandbox "${options.name}" could not unpack its inputs into /var/inputs, so the code did not run (the image needs \`sh\` and \`tar\`; "No space left on device" means the inputs exceed resources.inputsSize of ${checked.inputsBytes} bytes). stderr (tail):\n${tailOf(result.stderr)}`,
          result,
        );
      }
      if (status.exitCode !== 0) {
        const why = oomKilled
          ? `ran out of memory (limit ${checked.memoryBytes} bytes) and was killed; raise resources.memory or use less memory`
          : `exited with code ${status.exitCode}`;
        throw new SandboxExitError(
          `Sandbox "${options.name}" ${why}. stderr (tail):\n${tailOf(result.stderr)}`,
          result,
        );
      }
      if (!collect) {
        succeeded = true;
        return result as SandboxRunOutput<O>;
      }
      let collected: CollectedOutputs;
      try {
        if (!collecting) throw new Error('the output stream did not start');
        collected = await collecting;
      } catch (error) {
        await removing;
        if (error instanceof OutputTooLargeError) {
          throw new SandboxOutputError(
            `Sandbox "${options.name}": outputs are larger than the cap of ${error.maxBytes} bytes (at "${error.entry}"); the container was removed. Raise resources.outputsSize or write less (a sparse file counts at its full length).`,
            error.entry,
            result,
            error,
          );
        }
        throw new SandboxOutputError(
          `Sandbox "${options.name}": could not read /var/outputs (${(error as Error).message}). Processes left running may have written over the output stream, or the image lacks \`tar\`. stderr (tail):\n${tailOf(result.stderr)}`,
          '',
          result,
          error,
        );
      }
      const values = decodeAll(collected, result);
      succeeded = true;
      return { ...values, ...result } as SandboxRunOutput<O>;
    } finally {
      runStop.signal.removeEventListener('abort', onStop);
      frame?.outputs.destroy();
      // Once no container can still appear, its removal: the one a stop or an output failure
      // started (already awaited), or one started now and not awaited, so the result is not
      // delayed by it. close() waits for it; the reaper catches any a killed process left.
      const settled = stillCreating
        ? Promise.resolve()
        : (preparing ?? Promise.resolve()).then(
            () => undefined,
            () => undefined,
          );
      onSettled(settled);
      finishCleanup(
        settled.then(() => {
          removeCurrent();
          return removing;
        }),
      );
      if (collecting) await collecting.catch(() => undefined);
      // A temp folder that cannot be removed does not change the run's outcome.
      if (createdDir && !succeeded)
        await rm(createdDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Throws the error of a stopped run: SandboxTimeoutError or SandboxAbortedError. */
  function stoppedError(runStop: RunStop, result: SandboxRunResult, stillCreating = false): never {
    const what = stillCreating
      ? `before its code started (the Docker engine was still creating its container after ${REMOVAL_WAIT_MS / 1000} s; it is removed if it ever appears)`
      : runStop.phase
        ? `before its code started (it was still ${runStop.phase}); nothing of it is left running`
        : 'its container was killed and removed';
    if (runStop.why === 'timeout') {
      const hint = runStop.phase
        ? 'The timeout counts from the start of run(): check that the Docker engine answers, call build() or warmUp() first to keep an image build out of it, or raise `timeout`.'
        : 'Raise `timeout` or make the code faster.';
      throw new SandboxTimeoutError(
        `Sandbox "${options.name}" did not finish within its timeout of ${timeoutMs} ms; ${what}. ${hint} stderr (tail):\n${tailOf(result.stderr)}`,
        { ...result, timedOut: true },
      );
    }
    throw new SandboxAbortedError(
      `Sandbox "${options.name}" was aborted by its AbortSignal; ${what}.`,
      result,
      runStop.reason,
    );
  }

  function decodeAll(
    collected: CollectedOutputs,
    result: SandboxRunResult,
  ): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    for (const [name, kind] of Object.entries(manifest.outputs)) {
      const field = outputsSchema.shape[name] as z.ZodType;
      let raw: unknown;
      try {
        raw = decodeOutput(kind, name, collected);
      } catch (error) {
        const message = (error as Error).message;
        if (message === 'missing') {
          if (field.safeParse(undefined).success) continue;
          throw new SandboxOutputError(
            `Sandbox "${options.name}": output "${name}" is missing: ${program.mode === 'code' && checked.autoIo ? `set a variable named ${name}` : `write /var/outputs/${name}`}. stderr (tail):\n${tailOf(result.stderr)}`,
            name,
            result,
          );
        }
        throw new SandboxOutputError(
          `Sandbox "${options.name}": output "${name}" cannot be read as ${kind}: ${maskSecrets(message, secrets)}. stderr (tail):\n${tailOf(result.stderr)}`,
          name,
          result,
          error,
        );
      }
      let checkedValue = field.safeParse(raw);
      if (!checkedValue.success && typeof raw === 'number' && Number.isInteger(raw))
        checkedValue = field.safeParse(BigInt(raw));
      if (!checkedValue.success) {
        throw new SandboxOutputError(
          `Sandbox "${options.name}": output "${name}" does not match its schema: ${checkedValue.error.issues.map((i) => i.message).join('; ')} (got ${maskSecrets(JSON.stringify(raw, (_k, v) => (typeof v === 'bigint' ? String(v) : v))?.slice(0, 200) ?? 'undefined', secrets)}). stderr (tail):\n${tailOf(result.stderr)}`,
          name,
          result,
          checkedValue.error,
        );
      }
      values[name] = checkedValue.data;
    }
    return values;
  }
  return sandbox;
}

function verbatimArguments(language: SandboxLanguage, args: readonly string[]): string[] {
  // `bash -c code` takes the first following word as $0; python and node take them as argv.
  if (!args.length) return [];
  return language === 'bash'
    ? ['sandbox', ...args]
    : language === 'javascript'
      ? ['--', ...args]
      : [...args];
}
