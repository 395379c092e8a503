import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/config/load';
import { synthesize } from '../../src/synth';
import { BASE, CASES, type BadConfigCase } from './catalogue.cases';

const root = mkdtempSync(join(tmpdir(), 'policy-catalogue-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  if (value === undefined) delete node[keys.at(-1)!];
  else node[keys.at(-1)!] = value;
}

export function caseText(c: BadConfigCase): string {
  if (c.text !== undefined) return c.text;
  const data = structuredClone(BASE) as Record<string, unknown>;
  for (const [path, value] of Object.entries(c.set ?? {})) setPath(data, path, value);
  for (const path of c.unset ?? []) setPath(data, path, undefined);
  return stringify(data);
}

/** Writes the case into a fresh environments folder; returns it, the file's display path and an outdir holding a sentinel. */
function prepare(c: BadConfigCase, i: number) {
  const dir = join(root, `case-${i}`);
  const envDir = join(dir, 'environments');
  mkdirSync(envDir, { recursive: true });
  const path = join(envDir, c.file ?? 'bad.yaml');
  writeFileSync(path, caseText(c));
  for (const [name, text] of Object.entries(c.siblings ?? {})) writeFileSync(join(envDir, name), text);
  const outdir = join(dir, 'dist');
  mkdirSync(join(outdir, 'prod'), { recursive: true });
  writeFileSync(join(outdir, 'prod', 'sentinel.yaml'), 'previous: output\n');
  // As the loader shows paths: relative below the working directory, absolute elsewhere.
  const shown = (p: string) => (relative(process.cwd(), p).startsWith('..') ? p : relative(process.cwd(), p));
  return { envDir, outdir, display: shown(path), dirDisplay: shown(envDir) };
}

describe('bad-config catalogue: synth refuses each case with its message and writes nothing', () => {
  it('has at least 40 cases, each with a distinct title', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.title)).size).toBe(CASES.length);
  });

  CASES.forEach((c, i) => {
    it(c.title, () => {
      const { envDir, outdir, display, dirDisplay } = prepare(c, i);
      let error: unknown;
      try {
        synthesize({ environmentsDir: envDir, outdir, version: '0.0.0-test' });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const lines = (error as ConfigError).message.split('\n');
      if (process.env.CATALOGUE_PRINT) console.log(`CASE ${JSON.stringify(c.title)} ${JSON.stringify(lines.map((l) => l.replace(`${display}: `, '').replaceAll(dirDisplay, '{dir}')))}`);
      const expected = c.expected.map((e) => (e.startsWith('{dir}') ? e : `${display}: ${e}`).replaceAll('{dir}', dirDisplay));
      expect(lines).toEqual(expected);
      // Nothing written: the previous output is intact and nothing was added next to it.
      expect(readdirSync(outdir)).toEqual(['prod']);
      expect(readdirSync(join(outdir, 'prod'))).toEqual(['sentinel.yaml']);
      expect(readFileSync(join(outdir, 'prod', 'sentinel.yaml'), 'utf8')).toBe('previous: output\n');
      expect(existsSync(join(outdir, '..', 'dist.tmp'))).toBe(false);
    });
  });
});
