import { defineConfig } from 'vitest/config';
import CheapFirst from './test/mutation/cheap-first.mjs';

// The unit tests that mutation testing (stryker.config.mjs) runs against src/. Left out: tests
// that run src/ in a child process or a bundle (a mutant is active only inside the test
// worker, so they cannot kill one and only cost time), tests of scripts/ and bench/, and the
// fuzz test (random inputs; the loader's mutants are killed by the catalogue).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      'test/integration/**',
      'test/fuzz/**',
      'test/bench/**',
      'test/harness/**',
      'test/config/cli.test.ts',
      'test/output/synth-atomic.test.ts',
      'test/output/lazy-re2.test.ts',
    ],
    // One worker, modules reset per file by the setup file (see there): isolation without
    // re-importing node_modules for every file of every mutant.
    isolate: false,
    setupFiles: ['test/mutation/activate-at-collection.mjs'],
    sequence: { sequencer: CheapFirst },
    testTimeout: 30_000,
  },
});
