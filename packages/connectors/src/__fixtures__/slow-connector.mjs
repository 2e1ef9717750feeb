// A connector module for the CLI tests: `connectors` export, jobs in memory, `get` takes 300 ms.
import { AsyncConnector } from '@flyte/connectors';
import { Phase } from '@flyte/idl';
import { z } from 'zod';

class SlowConnector extends AsyncConnector {
  name = 'Slow connector';
  taskTypeName = 'slow_job';
  metadataSchema = z.object({ jobId: z.string() });
  async create() {
    return { jobId: 'slow-1' };
  }
  async get() {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { phase: Phase.SUCCEEDED, message: 'done slowly' };
  }
  async delete() {}
}

export const connectors = [new SlowConnector()];
