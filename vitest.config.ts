import { defineConfig } from 'vitest/config';

// Two projects: fast unit/snapshot/policy tests, and integration tests that run the real
// tools (Postfix, promtool, the exporter, swaks, kubectl, bats). Integration files run one at
// a time: they start daemons and share two cores.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
