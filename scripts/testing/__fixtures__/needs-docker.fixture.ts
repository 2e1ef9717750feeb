import { expect, it } from 'vitest';
import { describeWithDocker } from '../docker';

await describeWithDocker(import.meta.url, 'a block that needs Docker', () => {
  it('runs only with an engine', () => {
    expect(true).toBe(true);
  });
});
