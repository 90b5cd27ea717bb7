import { defineConfig } from 'vitest/config'
import { HOOK_TIMEOUT, TEST_TIMEOUT } from './test/helpers/timeouts.ts'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    // Hang detectors only: no test may fail because the machine is slow (test/helpers/timeouts.ts).
    testTimeout: TEST_TIMEOUT,
    hookTimeout: HOOK_TIMEOUT,
    // Two cores: the store suites share one PostgreSQL server; keep files moderately parallel.
    maxWorkers: 2,
  },
})
