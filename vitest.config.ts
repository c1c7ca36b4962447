import { defineConfig } from 'vitest/config'

// Three projects: unit tests (no network, fakes behind the interfaces), integration tests,
// which run against the real Kafka broker and the real DynamoDB API server that
// test/support/global-setup.ts starts once for the whole run, and infrastructure tests, which
// synthesize the CDK app offline and run cdk-nag, cfn-lint and checkov on it.
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
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          // Synthesis and the Python checkers take seconds each on a shared machine.
          testTimeout: 180_000,
        },
      },
    ],
  },
})
