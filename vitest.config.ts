import { defineConfig } from 'vitest/config'

// Four projects:
// - unit: no network, fakes behind the interfaces;
// - integration: against the real Kafka broker, DynamoDB API server (dynalite) and SQS API
//   server (moto) that test/support/global-setup.ts starts once for the whole run;
// - infra: synthesizes the CDK app offline and runs cdk-nag, cfn-lint and checkov on it;
// - faults: the fault suite (`npm run test:faults`), on the same services, one scenario after
//   the other, each invocation in its own process.
// `npm test` runs unit, integration and infra; CI runs the fault suite too.
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
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
