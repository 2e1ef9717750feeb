import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FlyteError } from './errors';
import { InvalidTaskIoError, parseTaskIo } from './task-io';

describe('parseTaskIo', () => {
  const schema = z.object({
    rows: z.array(z.object({ id: z.number() })),
    limit: z.number().default(5),
  });

  it('returns parsed values with defaults applied', () => {
    expect(parseTaskIo(schema, { rows: [] }, { task: 't', stage: 'inputs' })).toEqual({
      rows: [],
      limit: 5,
    });
  });

  it('lists every issue with its path, names the task kind and adds the hint', () => {
    let error: unknown;
    try {
      parseTaskIo(
        schema,
        { rows: [{ id: 'a' }], limit: 'x' },
        { task: 'etl.load', stage: 'outputs', kind: 'Connector task', hint: 'Fix the connector.' },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidTaskIoError);
    expect(FlyteError.isInstance(error)).toBe(true);
    const { message, code, details } = error as InvalidTaskIoError;
    expect(code).toBe('invalid_task_io');
    expect(message).toMatch(
      /^Connector task "etl\.load" got invalid outputs: outputs\.rows\.0\.id: .+; outputs\.limit: .+\. Fix the connector\.$/,
    );
    expect(details).toMatchObject({ task: 'etl.load', stage: 'outputs' });
    expect(details.issues).toHaveLength(2);
  });
});
