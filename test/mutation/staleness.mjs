#!/usr/bin/env node
// How far src/ has moved from the committed mutation-testing baseline. CI runs the incremental
// mutation test only when the baseline is fresh enough to finish in CI's time (a few source files
// changed); otherwise it says loudly that the baseline must be regenerated and skips.
//   exit 0: fresh (run `npm run test:mutation`); exit 3: stale (regenerate: npm run test:mutation:baseline)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_CHANGED_SOURCES = 3;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const config = (await import(join(root, 'stryker.config.mjs'))).default;

const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
/** The files of `mutate`: `dir/**\/*.ts` globs and plain paths (all this project uses). */
const inScope = new Set(
  config.mutate.flatMap((glob) => {
    const m = /^(.*)\/\*\*\/\*\.ts$/.exec(glob);
    if (!m) return existsSync(join(root, glob)) ? [glob] : [];
    return existsSync(join(root, m[1])) ? walk(join(root, m[1])).filter((f) => f.endsWith('.ts')).map((f) => relative(root, f)) : [];
  }),
);

const baselineFile = join(root, config.incrementalFile);
if (!existsSync(baselineFile)) {
  console.log(`mutation baseline ${config.incrementalFile} is missing`);
  process.exit(3);
}
const baseline = JSON.parse(readFileSync(baselineFile, 'utf8'));
const changed = [...inScope].filter((f) => baseline.files[f]?.source !== readFileSync(join(root, f), 'utf8'));
const removed = Object.keys(baseline.files).filter((f) => !inScope.has(f));
const tests = Object.entries(baseline.testFiles ?? {}).filter(([f, t]) => !existsSync(join(root, f)) || readFileSync(join(root, f), 'utf8') !== t.source).length;
const summary = `${changed.length} source file(s) changed or new since the baseline${changed.length ? ` (${changed.slice(0, 8).join(', ')}${changed.length > 8 ? ', ...' : ''})` : ''}, ${removed.length} gone, ${tests} test file(s) changed`;
if (changed.length + removed.length > MAX_CHANGED_SOURCES) {
  console.log(`mutation baseline is STALE: ${summary}.`);
  process.exit(3);
}
console.log(`mutation baseline is fresh enough: ${summary}.`);
