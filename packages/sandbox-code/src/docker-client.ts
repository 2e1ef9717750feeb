import Docker from 'dockerode';
import { DockerUnavailableError } from './errors';

/** Where the Docker engine is, as `DOCKER_HOST` says (default: the local unix socket). */
export function dockerEndpoint(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/** A dockerode client for `DOCKER_HOST` (dockerode reads it) or the local socket. */
export function createDockerClient(): Docker {
  return new Docker();
}

/**
 * Checks that the engine answers `/_ping` within `timeoutMs`.
 *
 * @throws DockerUnavailableError naming the endpoint and what to do.
 */
export async function ensureDockerReachable(docker: Docker, timeoutMs = 5000): Promise<void> {
  const endpoint = dockerEndpoint();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    throw new DockerUnavailableError(
      `No Docker engine answered at ${endpoint} (${(error as Error).message}). Start Docker (for example \`bash scripts/start-docker.sh\` in flyte-ts, or Docker Desktop), or point DOCKER_HOST at a running engine.`,
      { endpoint },
      error,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** The HTTP status of a dockerode error, when it has one. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}
