// The script each worker thread runs (`isolation: 'worker'`): its own QuickJS WebAssembly module,
// sessions for the runs it is given, and task calls forwarded to the host thread.
import { parentPort } from 'node:worker_threads';
import { FlyteError } from '@flyte/idl';
import { SandboxLimitError } from './errors';
import { loadEngine } from './quickjs-engine';
import { type GuestOutcome, type HostBridge, SandboxSession } from './sandbox-session';
import type { FailedMessage, FromWorker, RunMessage, ToWorker } from './worker-protocol';

const port = parentPort;
if (!port)
  throw new Error('@flyte/sandbox-orchestration: worker-entry must run in a worker thread');

interface Pending {
  resolve(json: string): void;
  reject(error: Error): void;
}
const calls = new Map<string, Pending>();
const aborts = new Map<number, AbortController>();

const post = (message: FromWorker): void => port.postMessage(message);

async function run(message: RunMessage): Promise<void> {
  const { id } = message;
  const controller = new AbortController();
  aborts.set(id, controller);
  const engine = await loadEngine();
  let session: SandboxSession | undefined;
  let reply:
    | { type: 'done'; outcome: GuestOutcome }
    | { type: 'failed'; failure: FailedMessage['failure'] };
  try {
    session = new SandboxSession(
      engine,
      message.name,
      message.script,
      message.limits,
      message.prelude,
      { abortFlag: message.abortFlag },
    );
    const bridge: HostBridge = {
      call(task, args, sequence) {
        return new Promise<string>((resolve, reject) => {
          calls.set(`${id}:${sequence}`, { resolve, reject });
          post({ type: 'call', id, task, args, sequence });
        });
      },
    };
    const result = message.synchronous
      ? session.executeSync(message.request)
      : await session.execute(message.request, bridge, controller.signal);
    reply = { type: 'done', outcome: result.outcome };
  } catch (error) {
    if (controller.signal.aborted || Atomics.load(message.abortFlag, 0) !== 0) {
      reply = { type: 'failed', failure: { kind: 'aborted' } };
    } else if (error instanceof SandboxLimitError) {
      const observed = String(error.details.observed ?? '');
      reply = { type: 'failed', failure: { kind: 'limit', limit: error.limit, observed } };
    } else {
      const text =
        FlyteError.isInstance(error) || error instanceof Error ? error.message : String(error);
      reply = { type: 'failed', failure: { kind: 'error', message: text } };
    }
  } finally {
    aborts.delete(id);
    session?.dispose();
    for (const key of [...calls.keys()]) if (key.startsWith(`${id}:`)) calls.delete(key);
  }
  // Disposing can be what breaks the module, so the verdict comes after it.
  post({ ...reply, id, retiring: engine.broken });
  // A broken module may not run anything again; a new worker starts with a clean one.
  if (engine.broken) process.exit(70);
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'run':
      void run(message);
      return;
    case 'settle': {
      const key = `${message.id}:${message.sequence}`;
      const pending = calls.get(key);
      calls.delete(key);
      if (!pending) return;
      if (message.json !== undefined) {
        pending.resolve(message.json);
      } else {
        const error = new Error(message.failure?.message ?? 'failed');
        error.name = message.failure?.name ?? 'Error';
        pending.reject(error);
      }
      return;
    }
    case 'abort':
      aborts.get(message.id)?.abort(new Error('aborted by the host'));
      return;
  }
});
