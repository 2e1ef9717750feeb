// Child process for reaper.int.test.ts: starts a long sandbox run and reports when it runs.
// Loaded from the built package (dist), as a user program would.
import { createSandbox } from '../../dist/index.js';

const sandbox = createSandbox({
  name: 'orphan.long',
  baseImage: 'flyte-sandbox/base:bookworm',
  timeout: 600_000,
  code: 'import time\nprint("running", flush=True)\ntime.sleep(600)',
});
await sandbox.run({}, {
  onOutput: (_stream, text) => {
    if (text.startsWith('running')) process.stdout.write('RUNNING\n');
  },
});
