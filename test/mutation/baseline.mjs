#!/usr/bin/env node
// Regenerates the committed mutation-testing baseline, test/mutation/stryker-incremental.json:
// a full Stryker run (stryker.config.mjs, --force) per folder of src/, merged into the one
// report that `npm run test:mutation` (and CI) then runs incrementally against.
//
//   npm run test:mutation:baseline            every folder, from scratch
//   npm run test:mutation:baseline -- --resume  keep folders already done in reports/mutation/chunks/
//   npm run test:mutation:baseline -- --merge-only
//
// One folder at a time so that a long run can be resumed, and each folder gets its own score.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const config = (await import(join(root, 'stryker.config.mjs'))).default;
const CHUNKS_DIR = join(root, 'reports', 'mutation', 'chunks');
const resume = process.argv.includes('--resume');
const mergeOnly = process.argv.includes('--merge-only');

/** `mutate` (stryker.config.mjs) in parts, each run alone: together they must cover all of it. */
const CHUNKS = {
  constructs: ['src/constructs/**/*.ts', 'src/charts/**/*.ts', 'src/synth.ts'],
  postfix: ['src/postfix/**/*.ts'],
  output: ['src/output/**/*.ts'],
  'policy-network': ['src/policy/network.ts'],
};
const covered = new Set(Object.values(CHUNKS).flat());
const uncovered = config.mutate.filter((g) => !covered.has(g));
if (uncovered.length) throw new Error(`stryker.config.mjs mutates ${uncovered.join(', ')}, which no chunk of test/mutation/baseline.mjs runs`);

mkdirSync(CHUNKS_DIR, { recursive: true });
const started = Date.now();
if (!mergeOnly) {
  for (const [name, globs] of Object.entries(CHUNKS)) {
    const out = join(CHUNKS_DIR, `${name}.json`);
    if (resume && existsSync(out)) {
      console.log(`baseline: ${name}: kept from an earlier run`);
      continue;
    }
    rmSync(out, { force: true });
    const t0 = Date.now();
    console.log(`baseline: ${name}: mutating ${globs.join(', ')}`);
    execFileSync(
      'npx',
      ['stryker', 'run', '--force', '--incrementalFile', out, '--mutate', globs.join(','), '--reporters', 'clear-text,progress'],
      { cwd: root, stdio: 'inherit', env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false', MUTATION_BASELINE: '1' } },
    );
    console.log(`baseline: ${name}: ${((Date.now() - t0) / 60000).toFixed(1)} min`);
  }
}

// Merge: files side by side; tests are renumbered (each run numbers its own from 0), by file and name.
const merged = { files: {}, testFiles: {} };
const ids = new Map();
for (const name of Object.keys(CHUNKS)) {
  const file = join(CHUNKS_DIR, `${name}.json`);
  if (!existsSync(file)) throw new Error(`${file} is missing: run without --merge-only`);
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const key of ['schemaVersion', 'thresholds', 'projectRoot', 'config', 'framework']) merged[key] ??= report[key];
  const local = new Map();
  for (const [path, testFile] of Object.entries(report.testFiles ?? {})) {
    const target = (merged.testFiles[path] ??= { source: testFile.source, tests: [] });
    for (const test of testFile.tests) {
      const identity = `${path}#${test.name}`;
      if (!ids.has(identity)) {
        ids.set(identity, String(ids.size));
        target.tests.push({ ...test, id: ids.get(identity) });
      }
      local.set(test.id, ids.get(identity));
    }
  }
  const remap = (list) => list?.map((id) => local.get(id) ?? id);
  for (const [path, f] of Object.entries(report.files)) {
    merged.files[path] = { ...f, mutants: f.mutants.map((m) => ({ ...m, coveredBy: remap(m.coveredBy), killedBy: remap(m.killedBy) })) };
  }
}
const target = join(root, config.incrementalFile);
writeFileSync(target, `${JSON.stringify(merged)}\n`);
const mutants = Object.values(merged.files).flatMap((f) => f.mutants);
const count = (s) => mutants.filter((m) => m.status === s).length;
const detected = count('Killed') + count('Timeout');
const valid = detected + count('Survived') + count('NoCoverage');
console.log(
  `baseline: ${config.incrementalFile}: ${mutants.length} mutants, score ${((100 * detected) / valid).toFixed(2)}% ` +
    `(${detected} detected, ${count('Survived')} survived, ${count('NoCoverage')} no coverage, ${count('Ignored')} ignored)` +
    (mergeOnly ? '' : `, ${((Date.now() - started) / 60000).toFixed(1)} min`),
);
