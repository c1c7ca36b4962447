import { defineConfig } from 'vitest/config'

// Two projects: unit tests (no network, fakes behind the interfaces) and integration tests,
// which run against the real Kafka broker and the real DynamoDB API server that
// test/support/global-setup.ts starts once for the whole run.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
