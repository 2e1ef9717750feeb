import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@flyte/sandbox-code',
    // Container tests start Docker containers on a shared 2-core CI machine: give them room
    // (speed is measured by bench/code-sandbox, never by test timeouts).
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
