// Mutation testing of src/ against the unit tests (docs/TESTING.md, "Mutation testing").
//   npm run test:mutation            incremental, against the committed baseline (what CI runs)
//   npm run test:mutation:baseline   regenerates the baseline (every mutant, folder by folder)
// Reports: reports/mutation/index.html and mutation.json (git-ignored).
process.env.CDK8S_CHECK_UPGRADE ??= 'false'; // inherited by the test runner processes

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // The unit tests, minus those that cannot kill a mutant (child processes, bundles, scripts/).
  vitest: { configFile: 'vitest.stryker.config.ts' },
  coverageAnalysis: 'perTest',
  // What the committed baseline covers (docs/TESTING.md lists the score per folder): the
  // constructs and chart, the Postfix renderers, the output writers and the NetworkPolicy check.
  // Not yet: the rest of src/policy and src/config (every render validates policies and config,
  // so their mutants run most test files: hours per folder on this machine; add them here and to
  // test/mutation/baseline.mjs, then regenerate), and src/monitoring, whose rules and dashboard
  // are proven by promtool and the exporter in the integration suite, out of a mutant's reach.
  mutate: ['src/constructs/**/*.ts', 'src/charts/**/*.ts', 'src/synth.ts', 'src/postfix/**/*.ts', 'src/output/**/*.ts', 'src/policy/network.ts'],
  // Static mutants (module-level constants, the zod schema's chained definitions) need a fresh
  // module graph and every test per mutant: hours here. The schema's defaults and bounds are
  // proven by test/settings and the bad-config catalogue instead.
  ignoreStatic: true,
  concurrency: 2,
  incremental: true,
  incrementalFile: 'test/mutation/stryker-incremental.json',
  reporters: ['progress', 'clear-text', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  // break: the whole scope scored 83.35% on the committed baseline (docs/TESTING.md lists the
  // survivors by folder); the first run, over half the scope, scored 92.06%. Raise it as they are killed.
  // Off while the baseline is regenerated folder by folder (one folder alone may score lower).
  thresholds: { high: 95, low: 85, break: process.env.MUTATION_BASELINE ? null : 80 },
  // vitest (esbuild) does not type-check: no `// @ts-nocheck` needed (it would also alter the
  // docs' example files the docs tests compare verbatim).
  disableTypeChecks: false,
  tempDirName: '.stryker-tmp',
  timeoutMS: 20000,
  dryRunTimeoutMinutes: 15,
};
