import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Three projects: fast unit/snapshot/policy tests; integration tests that run the real tools
// (Postfix, promtool, the exporter, swaks, kubectl, Helm, bats) on this machine's Postfix 3.7; and
// the real-Postfix suites again on Postfix 3.10, the generation the relay image runs (a Debian 13
// root, built once per run by the global setup). Integration files run one at a time: they start
// daemons and share two cores.

const INTEGRATION_DIR = 'test/integration';
const integrationTimeouts = { testTimeout: 180_000, hookTimeout: 180_000, fileParallelism: false };
const generationSetup = [`${INTEGRATION_DIR}/harness/postfix-generation.setup.ts`];

/**
 * The real-Postfix suites: every integration file that declares it needs Postfix with
 * `requireTool('postfix', ...)` (or postconf, postqueue, postsuper, postmap), as the harness asks
 * of every suite that runs Postfix. They run on both generations; the others (kustomize, Helm,
 * promtool, bats) once.
 */
function realPostfixSuites(): string[] {
  const uses = /requireTool\(\s*['"](postfix|postconf|postqueue|postsuper|postmap)['"]/;
  return readdirSync(INTEGRATION_DIR, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(INTEGRATION_DIR, f))
    .filter((f) => uses.test(readFileSync(f, 'utf8')))
    .sort();
}

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          // The bench times this project while it rewrites docs/PERFORMANCE.md, which the doc
          // check reads: it leaves the check out (bench/tests.ts).
          exclude: [`${INTEGRATION_DIR}/**`, ...(process.env.EMAIL_SERVER_BENCH_TIMING === '1' ? ['test/bench/performance-doc.test.ts'] : [])],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: [`${INTEGRATION_DIR}/**/*.test.ts`],
          setupFiles: generationSetup,
          ...integrationTimeouts,
        },
      },
      {
        test: {
          name: 'integration-postfix-3.10',
          include: realPostfixSuites(),
          env: { POSTFIX_GENERATION: '3.10' },
          globalSetup: [`${INTEGRATION_DIR}/harness/postfix-root.global-setup.ts`],
          setupFiles: generationSetup,
          ...integrationTimeouts,
        },
      },
    ],
  },
});
