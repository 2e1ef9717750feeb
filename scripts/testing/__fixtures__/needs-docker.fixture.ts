import { expect, it } from 'vitest';
import { describeWithDocker, probeDocker } from '../docker';

// docker.test.ts runs this file against an engine that does not exist: the block must be
// skipped (or fail under FLYTE_REQUIRE_DOCKER=1). Were it ever entered, the probe would fail it.
await describeWithDocker(import.meta.url, 'a block that needs Docker', () => {
  it('runs only when an engine answers', async () => {
    expect((await probeDocker()).ok).toBe(true);
  });
});
