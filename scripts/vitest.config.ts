import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'scripts',
    include: ['**/*.test.ts'],
    // Packing and installing each package with npm takes a while on two cores.
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
