import { defineConfig } from 'vitest/config';

// Runs the fixtures on their own, in a child vitest process started by docker.test.ts.
export default defineConfig({ test: { include: ['*.fixture.ts'] } });
