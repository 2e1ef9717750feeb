import { defineConfig } from 'vitest/config';

// One root config that runs every workspace project in one process and one report.
// `pnpm vitest --project @flyte/idl` runs one of them.
export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'apps/*/vitest.config.ts',
      'scripts/vitest.config.ts',
    ],
    reporters: ['default', './scripts/vitest-summary-reporter.ts'],
  },
});
