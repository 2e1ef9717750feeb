import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line, `N passed, N failed, N skipped`, which CI tools read
 * whatever the test runner.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      let failedTests = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') failedTests++;
        else counts.skipped++;
      }
      // A hook or a file that fails before its tests run leaves them skipped: still a failure.
      const failedSuites = [...module.children.allSuites()].filter(
        (s) => s.state() === 'failed',
      ).length;
      const moduleFailed = module.state() === 'failed' ? 1 : 0;
      counts.failed += failedTests > 0 ? failedTests : Math.max(failedSuites, moduleFailed);
    }
    process.stdout.write(
      `\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    );
  }
}
