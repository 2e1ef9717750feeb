/**
 * Tools for connector authors: the conformance suite and an in-memory connector for examples,
 * tests and benchmarks. Import from `@flyte/connectors/testing` in test files (needs vitest,
 * which loads only as ESM: vitest transforms test files, so this holds in any vitest run; a plain
 * CommonJS `require` of this entry fails in vitest 4 by vitest's design. `FakeJobConnector` is
 * also exported from `@flyte/connectors` for use outside tests.)
 *
 * @packageDocumentation
 */
export {
  type FakeJob,
  FakeJobConnector,
  type FakeJobConnectorOptions,
  type FakeJobMeta,
  type FakeJobOutcome,
} from './fake-job-connector';
export { type ConnectorFixtures, testConnector } from './test-connector';
