import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// scripts/lazy-re2.cjs replaces the kubernetes-models RE2 runtime in the synth bundle: it must
// answer exactly as re2-wasm does, and load re2-wasm only when a pattern is first tested.

const ROOT = join(__dirname, '..', '..');
const load = createRequire(join(ROOT, 'package.json'));
const LazyRE2 = (load('./scripts/lazy-re2.cjs') as { default: new (p: string, f: string) => { test(s: string): boolean } }).default;
const { RE2 } = load('re2-wasm') as { RE2: new (p: string, f: string) => { test(s: string): boolean } };

// The patterns the prometheus-operator models compile with RE2 (Go syntax: inline flags JS lacks).
const CASES: readonly [string, readonly string[]][] = [
  ['^(?i)(abort|warn)?$', ['abort', 'WARN', 'Abort', '', 'abortx', ' warn', 'warning']],
  ['^((?i)sun|mon|tues|wednes|thurs|fri|satur)day(?:((:(sun|mon|tues|wednes|thurs|fri|satur)day)$)|$)', ['monday', 'MONday', 'monday:friday', 'mon', 'funday', 'monday:Friday']],
];

describe('scripts/lazy-re2.cjs', () => {
  it.each(CASES)('answers %s as re2-wasm does', (pattern, inputs) => {
    const lazy = new LazyRE2(pattern, 'u');
    const real = new RE2(pattern, 'u');
    const answers = inputs.map((s) => [s, lazy.test(s)]);
    expect(answers).toEqual(inputs.map((s) => [s, real.test(s)]));
    expect(answers.some(([, ok]) => ok)).toBe(true);
    expect(answers.some(([, ok]) => !ok)).toBe(true);
  });

  it('loads re2-wasm on the first test, not when a pattern is built', () => {
    const script = [
      "const L = require('./scripts/lazy-re2.cjs').default;",
      "const loaded = () => Object.keys(require.cache).some((k) => k.includes('re2-wasm'));",
      "const p = new L('^(?i)(abort|warn)?$', 'u');",
      'const before = loaded();',
      "const ok = p.test('ABORT');",
      'console.log(JSON.stringify({ before, ok, after: loaded() }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ before: false, ok: true, after: true });
  });

  it('keeps re2-wasm out of a synth of the shipped environments (none sets an RE2-checked field)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'lazy-re2-'));
    try {
      const script = [
        "process.on('exit', () => console.log(JSON.stringify(Object.keys(require.cache).filter((k) => k.includes('re2-wasm')))));",
        "require('./scripts/synth.cjs');",
      ].join('\n');
      const out = execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CDK8S_OUTDIR: outdir } });
      const [summary, loaded] = out.trim().split('\n');
      expect(summary).toMatch(/^Synthesized dev \(\d+ objects\), prod/);
      expect(JSON.parse(loaded!)).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
