import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Two cores: the store suites share one PostgreSQL server; keep files moderately parallel.
    maxWorkers: 2,
  },
})
