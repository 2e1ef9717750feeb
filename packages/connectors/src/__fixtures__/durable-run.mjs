// A durable connector run in its own process, for the SIGKILL re-attach test. Uses the built
// package (self-reference through the exports map). Jobs live in files, so they outlive us.
// Usage: node durable-run.mjs <workDir> <runId> <polls>
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsyncConnector, ConnectorTask, FileStateStore, runConnectorTask } from '@flyte/connectors';
import { Phase } from '@flyte/idl';
import { z } from 'zod';

const [workDir, runId, polls] = process.argv.slice(2);
const jobs = join(workDir, 'jobs');
mkdirSync(jobs, { recursive: true });

class FileJobConnector extends AsyncConnector {
  name = 'File job connector';
  taskTypeName = 'file_job';
  metadataSchema = z.object({ jobId: z.string() });
  async create({ inputs }) {
    const jobId = `job-${process.pid}-${Date.now()}`;
    writeFileSync(join(jobs, `${jobId}.json`), JSON.stringify({ polls: 0, needed: inputs.polls }));
    appendFileSync(join(workDir, 'creates.log'), `${jobId}\n`);
    return { jobId };
  }
  async get({ resourceMeta }) {
    const path = join(jobs, `${resourceMeta.jobId}.json`);
    const job = JSON.parse(readFileSync(path, 'utf8'));
    job.polls++;
    writeFileSync(path, JSON.stringify(job));
    return job.polls >= job.needed
      ? { phase: Phase.SUCCEEDED, outputs: { polls: job.polls } }
      : { phase: Phase.RUNNING };
  }
  async delete() {}
}

const task = new ConnectorTask({
  name: 'durable.file_job',
  taskType: 'file_job',
  inputs: z.object({ polls: z.number().int() }),
  outputs: z.object({ polls: z.number().int() }),
});
const result = await runConnectorTask(task, { polls: Number(polls) }, {
  connector: new FileJobConnector(),
  stateStore: new FileStateStore(join(workDir, 'state')),
  runId,
  minPollInterval: 20,
  maxPollInterval: 20,
  onEvent: (event) => process.stdout.write(`${JSON.stringify({ type: event.type, reattached: event.reattached })}\n`),
});
process.stdout.write(`${JSON.stringify({ type: 'result', result })}\n`);
