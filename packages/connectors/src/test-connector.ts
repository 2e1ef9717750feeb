import { isTerminalPhase, Phase, type TaskTemplateContext } from '@flyte/idl';
import type { TaskTemplate } from '@flyte/idl/core';
import { describe, expect, it } from 'vitest';
import type { AnyConnector } from './connector-registry';
import { InvalidResourceMetaError } from './errors';
import type { ConnectorTaskLike } from './run-connector-task';

/** What {@link testConnector} runs the connector with. */
export interface ConnectorFixtures {
  /** The task the connector runs: its template is passed to `create`. */
  task: ConnectorTaskLike;
  /** Inputs of a job that succeeds. */
  inputs: Record<string, unknown>;
  /** Inputs of a job that keeps running long enough to be deleted while running. Default `inputs`. */
  longRunningInputs?: Record<string, unknown>;
  /** Inputs that make `create` or the job fail: the failure is checked for secret values. */
  failingInputs?: Record<string, unknown>;
  /** Secrets passed to every call (use fake values); they must never appear in an error. */
  secrets?: Record<string, string>;
  /** Bound of each test, in milliseconds. Default 30 000. */
  timeout?: number;
  /** Wait between polls, in milliseconds. Default 10. */
  pollInterval?: number;
  /** Most polls before a job must be terminal. Default 1000. */
  maxPolls?: number;
}

const CONTEXT: TaskTemplateContext = { project: 'conformance', domain: 'test', version: 'v0' };
const VALID_PHASES = new Set(Object.values(Phase).filter((v): v is Phase => typeof v === 'number'));

/**
 * The conformance suite every connector package runs in one line, inside a vitest test file:
 * create then get until terminal, `delete` idempotent (twice while running, and after
 * completion), metadata round-trips through bytes, a bad metadata fails clearly naming the
 * connector, phases are valid flyteidl2 phases, and secrets never leak into errors.
 *
 * @example
 * // my-connector.test.ts
 * testConnector(new MyConnector(), { task: myTask, inputs: { sql: 'select 1' } });
 */
export function testConnector(connector: AnyConnector, fixtures: ConnectorFixtures): void {
  const timeout = fixtures.timeout ?? 30_000;
  const secrets = fixtures.secrets ?? { conformance_token: 'conformance-secret-3f1c9a' };
  const secretValues = Object.values(secrets).filter((v) => v.length > 0);
  const template: TaskTemplate = fixtures.task.toTaskTemplate(CONTEXT);
  const signal = () => AbortSignal.timeout(timeout);
  const create = (inputs: Record<string, unknown>) =>
    connector.create({
      taskTemplate: template,
      inputs,
      outputPrefix: '',
      secrets,
      signal: signal(),
    });
  const get = (resourceMeta: unknown) => connector.get({ resourceMeta, secrets, signal: signal() });
  const del = (resourceMeta: unknown) =>
    connector.delete({ resourceMeta, secrets, signal: signal() });

  async function pollToTerminal(meta: unknown): Promise<Phase[]> {
    const phases: Phase[] = [];
    for (let i = 0; i < (fixtures.maxPolls ?? 1000); i++) {
      const resource = await get(meta);
      phases.push(resource.phase);
      if (isTerminalPhase(resource.phase)) return phases;
      await new Promise((r) => setTimeout(r, fixtures.pollInterval ?? 10));
    }
    throw new Error(
      `Connector "${connector.name}": the job was not terminal after ${fixtures.maxPolls ?? 1000} polls.`,
    );
  }

  function expectNoSecret(error: unknown) {
    const e = error as Error & { details?: unknown };
    const text = `${e?.message}\n${e?.stack}\n${JSON.stringify(e?.details ?? null)}\n${String(e?.cause)}`;
    for (const value of secretValues)
      expect(text, 'a secret value appears in an error').not.toContain(value);
  }

  describe(`connector conformance: ${connector.name} (${connector.taskTypeName} v${connector.taskTypeVersion})`, () => {
    it('names itself and the task type it serves', () => {
      expect(connector.name.trim()).not.toBe('');
      expect(connector.taskTypeName.trim()).not.toBe('');
      expect(Number.isInteger(connector.taskTypeVersion) && connector.taskTypeVersion >= 0).toBe(
        true,
      );
      expect(template.type).toBe(connector.taskTypeName);
    });

    it('creates a job and reports valid phases until a terminal one', { timeout }, async () => {
      const meta = await create(fixtures.inputs);
      const phases = await pollToTerminal(meta);
      for (const phase of phases)
        expect(VALID_PHASES.has(phase), `phase ${phase} is not a flyteidl2 phase`).toBe(true);
      expect(phases.at(-1)).toBe(Phase.SUCCEEDED);
    });

    it('round-trips its metadata through resource_meta bytes (UTF-8 JSON)', {
      timeout,
    }, async () => {
      const meta = await create(fixtures.inputs);
      try {
        const bytes = connector.encodeMeta(meta);
        expect(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))).toEqual(
          JSON.parse(JSON.stringify(meta)),
        );
        expect(connector.decodeMeta(bytes)).toEqual(meta);
      } finally {
        await del(meta);
      }
    });

    it('rejects bad metadata with an error naming the connector', () => {
      for (const bad of [
        new Uint8Array([0xff, 0xfe]),
        new TextEncoder().encode('not json'),
        new TextEncoder().encode('[1,2]'),
      ]) {
        let error: unknown;
        try {
          connector.decodeMeta(bad);
        } catch (e) {
          error = e;
        }
        expect(InvalidResourceMetaError.isInstance(error)).toBe(true);
        expect((error as Error).message).toContain(connector.name);
      }
    });

    it('deletes idempotently: twice while running, and after completion', { timeout }, async () => {
      const running = await create(fixtures.longRunningInputs ?? fixtures.inputs);
      await del(running);
      await del(running);
      const finished = await create(fixtures.inputs);
      await pollToTerminal(finished);
      await del(finished);
      await del(finished);
    });

    it('keeps secrets out of errors', { timeout }, async () => {
      const errors: unknown[] = [];
      try {
        connector.decodeMeta(new TextEncoder().encode('{"unexpected": true, "x": [}'));
      } catch (e) {
        errors.push(e);
      }
      if (fixtures.failingInputs) {
        try {
          const meta = await create(fixtures.failingInputs);
          const phases = await pollToTerminal(meta);
          expect(phases.at(-1)).not.toBe(Phase.SUCCEEDED);
          const last = await get(meta);
          errors.push(new Error(last.message ?? ''));
        } catch (e) {
          errors.push(e);
        }
      }
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors) expectNoSecret(error);
    });
  });
}
