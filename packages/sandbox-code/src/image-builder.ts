import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { untilAborted } from './abortable';
import { statusOf } from './docker-client';
import { BaseImageMissingError, ImageBuildError, InvalidPackageError } from './errors';
import { findMissingPackage } from './invalid-package';
import { type ArchiveEntry, packArchive } from './io-files';
import type { SandboxLanguage } from './programs';

/** The base image used when neither `baseImage` nor `FLYTE_SANDBOX_BASE_IMAGE` is set. */
export const DEFAULT_BASE_IMAGE = 'python:3.12-slim';
/** Repository of the images this package builds; the tag is a hash of the image spec. */
export const BUILT_IMAGE_REPOSITORY = 'flyte-sandbox/code';
/** Label on every image this package builds. */
export const BUILT_IMAGE_LABEL = 'flyte.sandbox.image';

/** What an image is built from. */
export interface ImageSpec {
  baseImage: string;
  language: SandboxLanguage;
  /** Debian packages, installed with apt. */
  systemPackages: readonly string[];
  /** pip packages (python) or npm packages (javascript); local paths are copied in. */
  packages: readonly string[];
  /** Shell commands run as root after the packages (for example `mkdir -p /opt/data`). */
  additionalCommands: readonly string[];
}

/** Options of an image build. */
export interface BuildOptions {
  /** Receives the build output, a line or a few at a time. */
  onProgress?: ((line: string) => void) | undefined;
  /** Stops waiting; a build shared with other callers goes on for them. */
  signal?: AbortSignal | undefined;
  /** Upper bound of a build, in milliseconds (default 20 minutes). */
  timeoutMs?: number | undefined;
  /** Whether a missing base image may be pulled (default true). */
  pullBaseImage?: boolean | undefined;
  /**
   * PEM certificates the package managers trust during the build (for a TLS-intercepting
   * proxy). Default: the file named by `FLYTE_SANDBOX_BUILD_CA_CERTS`, else by
   * `NODE_EXTRA_CA_CERTS`, else none. They are removed from the image after the installs.
   */
  caCertificatesFile?: string | undefined;
}

/** The CA file a build trusts: the option, `FLYTE_SANDBOX_BUILD_CA_CERTS`, `NODE_EXTRA_CA_CERTS`. */
export async function buildCaCertificates(file: string | undefined): Promise<Buffer | undefined> {
  const path = file ?? process.env.FLYTE_SANDBOX_BUILD_CA_CERTS ?? process.env.NODE_EXTRA_CA_CERTS;
  if (!path) return undefined;
  try {
    return await readFile(path);
  } catch (error) {
    if (file) throw error;
    return undefined;
  }
}

const CA_PATH = '/opt/flyte-sandbox/build-ca.pem';

/** Whether a package entry is a path on this machine rather than a registry name. */
export function isLocalPackage(entry: string): boolean {
  return /^(\.{1,2}\/|\/|file:)/.test(entry);
}

function localPath(entry: string): string {
  return resolve(entry.startsWith('file:') ? entry.slice('file:'.length) : entry);
}

async function collectLocal(
  path: string,
  prefix: string,
  entries: ArchiveEntry[],
  hash: ReturnType<typeof createHash>,
): Promise<void> {
  const info = await stat(path);
  if (info.isFile()) {
    const data = await readFile(path);
    hash.update(`${prefix}\0`).update(data);
    entries.push({ name: prefix, data, mode: 0o644 });
    return;
  }
  entries.push({ name: `${prefix}/`, mode: 0o755 });
  const names = (await readdir(path)).sort();
  for (const name of names) {
    // Build output and VCS data of a local package are not part of it.
    if (name === 'node_modules' || name === '.git' || name === 'build' || name === 'dist') continue;
    if (name.endsWith('.egg-info') || name === '__pycache__') continue;
    await collectLocal(join(path, name), `${prefix}/${name}`, entries, hash);
  }
}

const TRUST_CA = `if [ -f ${CA_PATH} ]; then export NODE_EXTRA_CA_CERTS=${CA_PATH} npm_config_cafile=${CA_PATH} PIP_CERT=${CA_PATH}; fi; `;

const shellInstall = (script: string, args: readonly string[]) =>
  // Exec form with a constant shell script: package names are argv entries, never parsed by sh.
  `RUN ${JSON.stringify(['sh', '-c', TRUST_CA + script, 'install', ...args])}`;

/** The Dockerfile and build context of a spec, and the hash of everything in them. */
export async function buildContextOf(
  spec: ImageSpec,
  baseImageId: string,
  caCertificates?: Buffer,
): Promise<{ dockerfile: string; entries: ArchiveEntry[]; hash: string }> {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      format: 1,
      baseImageId,
      language: spec.language,
      systemPackages: spec.systemPackages,
      packages: spec.packages,
      additionalCommands: spec.additionalCommands,
    }),
  );
  const entries: ArchiveEntry[] = [];
  const packageArgs: string[] = [];
  for (const [index, entry] of spec.packages.entries()) {
    if (!isLocalPackage(entry)) {
      packageArgs.push(entry);
      continue;
    }
    const source = localPath(entry);
    const target = `packages/${index}-${basename(source)}`;
    await collectLocal(source, target, entries, hash);
    packageArgs.push(`/opt/flyte-sandbox/${target}`);
  }
  const lines = [`FROM ${spec.baseImage}`, 'USER root'];
  if (caCertificates) {
    entries.push({ name: 'build-ca.pem', data: caCertificates, mode: 0o644 });
    lines.push(`COPY build-ca.pem ${CA_PATH}`);
  }
  if (spec.systemPackages.length) {
    lines.push(
      shellInstall(
        'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" && rm -rf /var/lib/apt/lists/*',
        spec.systemPackages,
      ),
    );
  }
  if (entries.some((e) => e.name.startsWith('packages/'))) {
    lines.push('COPY packages/ /opt/flyte-sandbox/packages/');
  }
  if (packageArgs.length && spec.language === 'javascript') {
    lines.push(
      shellInstall(
        'mkdir -p /opt/flyte-sandbox/node && cd /opt/flyte-sandbox/node && npm install --no-audit --no-fund --omit=dev --prefix /opt/flyte-sandbox/node "$@" && npm cache clean --force',
        packageArgs,
      ),
      'ENV NODE_PATH=/opt/flyte-sandbox/node/node_modules',
    );
  } else if (packageArgs.length) {
    // Local folders build with the base image's own setuptools: no index is needed for them.
    lines.push(
      shellInstall(
        'PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --no-cache-dir --disable-pip-version-check --no-build-isolation "$@"',
        packageArgs,
      ),
    );
  }
  for (const command of spec.additionalCommands)
    lines.push(`RUN ${command.replace(/\n/g, ' \\\n')}`);
  if (caCertificates) lines.push(`RUN ["rm", "-f", "${CA_PATH}"]`);
  const dockerfile = `${lines.join('\n')}\n`;
  hash.update(dockerfile);
  return { dockerfile, entries, hash: hash.digest('hex') };
}

/**
 * The id of `image` on the engine; pulls it when missing and allowed.
 *
 * @throws BaseImageMissingError when it is missing and cannot be pulled.
 */
export async function ensureBaseImage(
  docker: Docker,
  image: string,
  options: BuildOptions = {},
): Promise<string> {
  try {
    return (await docker.getImage(image).inspect()).Id;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  let pullError: unknown = new Error('pulling is turned off (pullBaseImage: false)');
  if (options.pullBaseImage !== false) {
    try {
      await followStream(
        await docker.pull(image),
        docker,
        options.onProgress,
        options.timeoutMs ?? 10 * 60_000,
        options.signal,
      );
      return (await docker.getImage(image).inspect()).Id;
    } catch (error) {
      pullError = error;
    }
  }
  throw new BaseImageMissingError(
    `The base image ${JSON.stringify(image)} is not on the Docker engine and could not be pulled (${(pullError as Error).message}). Either pull it (\`docker pull ${image}\`) on a machine that can reach its registry, or build the registry-free base image with \`bash scripts/sandbox-base-image.sh\` and use it: baseImage: 'flyte-sandbox/base:bookworm' (or FLYTE_SANDBOX_BASE_IMAGE=flyte-sandbox/base:bookworm).`,
    { image },
    pullError,
  );
}

interface ProgressEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

async function followStream(
  stream: NodeJS.ReadableStream,
  docker: Docker,
  onProgress: ((line: string) => void) | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  log?: string[],
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolvePromise, reject) => {
      timer = setTimeout(() => {
        (stream as Readable).destroy?.();
        reject(new Error(`no result within ${timeoutMs} ms`));
      }, timeoutMs);
      onAbort = () => reject(signal?.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      docker.modem.followProgress(
        stream,
        (error: Error | null, events: ProgressEvent[]) => {
          const failed = events?.find((event) => event.error || event.errorDetail);
          if (error) reject(error);
          else if (failed) reject(new Error(failed.errorDetail?.message ?? failed.error));
          else resolvePromise();
        },
        (event: ProgressEvent) => {
          const text = event.stream ?? (event.status ? `${event.status}\n` : undefined);
          if (text) {
            log?.push(text);
            if (log && log.length > 2000) log.splice(0, log.length - 2000);
            onProgress?.(text);
          }
          if (event.error) log?.push(`${event.error}\n`);
        },
      );
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

const inFlight = new Map<string, Promise<string>>();

/**
 * Returns the image to run for `spec`: the base image itself when nothing is to be added,
 * otherwise `flyte-sandbox/code:<hash>` built on demand. The tag is a hash of the whole spec
 * (base image id and local package contents included), so an existing tag is reused without a
 * build, and concurrent requests for one spec share one build.
 *
 * @throws BaseImageMissingError, InvalidPackageError (naming the package), ImageBuildError.
 */
export async function resolveImage(
  docker: Docker,
  spec: ImageSpec,
  options: BuildOptions = {},
): Promise<string> {
  options.signal?.throwIfAborted();
  const baseImageId = await ensureBaseImage(docker, spec.baseImage, options);
  if (!spec.systemPackages.length && !spec.packages.length && !spec.additionalCommands.length) {
    return spec.baseImage;
  }
  const context = await buildContextOf(
    spec,
    baseImageId,
    await buildCaCertificates(options.caCertificatesFile),
  );
  const tag = `${BUILT_IMAGE_REPOSITORY}:${context.hash.slice(0, 24)}`;
  let build = inFlight.get(tag);
  if (!build) {
    build = buildOnce(docker, spec, tag, context, options).finally(() => inFlight.delete(tag));
    inFlight.set(tag, build);
  }
  return untilAborted(build, options.signal);
}

async function buildOnce(
  docker: Docker,
  spec: ImageSpec,
  tag: string,
  context: { dockerfile: string; entries: ArchiveEntry[]; hash: string },
  options: BuildOptions,
): Promise<string> {
  try {
    await docker.getImage(tag).inspect();
    return tag;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  const archive = await packArchive([
    { name: 'Dockerfile', data: Buffer.from(context.dockerfile), mode: 0o644 },
    ...context.entries,
  ]);
  const log: string[] = [];
  try {
    const stream = await docker.buildImage(Readable.from([archive]), {
      t: tag,
      // Builds reach apt and npm registries through the host's network; runs never do.
      networkmode: 'host',
      labels: { [BUILT_IMAGE_LABEL]: '1', 'flyte.sandbox.spec-hash': context.hash },
      rm: true,
      forcerm: true,
    });
    await followStream(
      stream,
      docker,
      options.onProgress,
      options.timeoutMs ?? 20 * 60_000,
      undefined,
      log,
    );
  } catch (error) {
    const text = log.join('') + String((error as Error).message ?? '');
    const missing = findMissingPackage(text);
    if (missing) {
      const declared = [...spec.systemPackages, ...spec.packages].find(
        (entry) => entry === missing.packageName || entry.startsWith(missing.packageName),
      );
      const name = declared ?? missing.packageName;
      throw new InvalidPackageError(
        `${missing.manager} cannot find the package ${JSON.stringify(name)} while building the sandbox image on ${spec.baseImage}. Check its name (and, for ${missing.manager === 'apt' ? "systemPackages, that it exists in the base image's Debian release" : missing.manager === 'pip' ? 'packages, that it exists on the package index or the local path is a Python project' : 'packages, that it is published on the npm registry'}).`,
        { packageName: name, manager: missing.manager, image: spec.baseImage },
      );
    }
    const tail = log.join('').slice(-3000);
    throw new ImageBuildError(
      `Building the sandbox image ${tag} on ${spec.baseImage} failed: ${(error as Error).message}. Build log tail:\n${tail}`,
      { image: tag, logTail: tail },
      error,
    );
  }
  return tag;
}
