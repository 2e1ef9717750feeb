import { z } from 'zod';
import { ConnectorTask } from './connector-task';
import { FakeJobConnector } from './fake-job-connector';
import { testConnector } from './test-connector';

// The conformance suite, run against the in-memory connector it ships with.
testConnector(new FakeJobConnector({ polls: 3 }), {
  task: new ConnectorTask({
    name: 'conformance.fake',
    taskType: 'fake_job',
    inputs: z.object({ polls: z.number().int(), outcome: z.string().optional() }),
    outputs: z.object({ polls: z.number().int() }),
  }),
  inputs: { polls: 3 },
  longRunningInputs: { polls: 1_000_000 },
  failingInputs: { polls: 2, outcome: 'fail' },
  secrets: { token: 'fake-secret-value-123' },
});
