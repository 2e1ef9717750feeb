import { request } from 'node:http';
import { relative } from 'node:path';
import { describe, it } from 'vitest';

/** Whether a Docker engine answered, and where it was looked for. */
export interface DockerProbe {
  ok: boolean;
  /** The endpoint asked: `unix:///var/run/docker.sock` or `tcp://host:port`. */
  endpoint: string;
  /** Why it is not usable, when `ok` is false. */
  reason?: string;
}

/** True when CI asked for Docker tests to fail rather than skip (`FLYTE_REQUIRE_DOCKER=1`). */
export const dockerRequired = process.env.FLYTE_REQUIRE_DOCKER === '1';

/**
 * Asks the Docker engine named by `DOCKER_HOST` (default: the local unix socket) for `/_ping`,
 * waiting at most `timeoutMs`. Never throws.
 */
export function probeDocker(timeoutMs = 3000): Promise<DockerProbe> {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const target = host.startsWith('unix://')
    ? { socketPath: host.slice('unix://'.length) }
    : (() => {
        const url = new URL(host.replace(/^tcp:/, 'http:'));
        return { host: url.hostname, port: Number(url.port || 2375) };
      })();
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve(
          res.statusCode === 200 && body.trim() === 'OK'
            ? { ok: true, endpoint: host }
            : {
                ok: false,
                endpoint: host,
                reason: `/_ping answered ${res.statusCode}: ${body.slice(0, 80)}`,
              },
        ),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ ok: false, endpoint: host, reason: error.message }));
    req.end();
  });
}

const probe = probeDocker();

/**
 * `describe` for tests that need a Docker engine. Without one, the block is skipped and one
 * line says which file and why; with `FLYTE_REQUIRE_DOCKER=1` it fails instead.
 *
 * @param file - The calling test file (`import.meta.url` or a path), for the skip line.
 */
export async function describeWithDocker(
  file: string,
  name: string,
  body: () => void,
): Promise<void> {
  const docker = await probe;
  if (docker.ok) {
    describe(name, body);
    return;
  }
  const where = relative(process.cwd(), file.replace(/^file:\/\//, ''));
  const why = `no Docker engine answered at ${docker.endpoint} (${docker.reason})`;
  if (dockerRequired) {
    describe(name, () => {
      it('needs a Docker engine (FLYTE_REQUIRE_DOCKER=1)', () => {
        throw new Error(`${why}. Start dockerd, or unset FLYTE_REQUIRE_DOCKER to skip.`);
      });
    });
    return;
  }
  process.stderr.write(
    `[docker] skipped ${where}: ${why}; set FLYTE_REQUIRE_DOCKER=1 to fail instead\n`,
  );
  describe.skip(name, body);
}
