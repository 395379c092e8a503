import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotDir } from './dir-snapshot';

/**
 * The real app (`npm run synth`) writing into a temporary dist/: deterministic, and atomic.
 * main.ts reads CDK8S_OUTDIR and EMAIL_SERVER_ENVIRONMENTS_DIR, so nothing in the working tree
 * is touched.
 */
let work: string;
let dist: string;
let environments: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'synth-atomic-'));
  dist = join(work, 'dist');
  environments = join(work, 'environments');
  cpSync('environments', environments, { recursive: true });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function synth(): { status: number; output: string } {
  try {
    const output = execFileSync('npm', ['run', '--silent', 'synth'], {
      env: { ...process.env, CDK8S_OUTDIR: dist, EMAIL_SERVER_ENVIRONMENTS_DIR: environments },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { status: 0, output };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { status: e.status, output: `${e.stdout}${e.stderr}` };
  }
}

describe('npm run synth', () => {
  it('two runs write byte-identical output', { timeout: 120_000 }, () => {
    expect(synth().status).toBe(0);
    const first = snapshotDir(dist);
    expect(Object.keys(first)).toContain('prod/Kustomization');
    expect(synth().status).toBe(0);
    expect(snapshotDir(dist)).toEqual(first);
  });

  it('a broken environment file exits non-zero, names the problem and leaves dist/ byte-identical', { timeout: 120_000 }, () => {
    expect(synth().status).toBe(0);
    const before = snapshotDir(dist);
    const prod = join(environments, 'prod.yaml');
    const original = readFileSync(prod, 'utf8');
    try {
      writeFileSync(prod, original.replace(/^replicas: 2$/m, 'replicas: 0'));
      const result = synth();
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('prod.yaml: replicas');
      expect(snapshotDir(dist)).toEqual(before);
      expect(readdirNames(work)).toEqual(['dist', 'environments']);
    } finally {
      writeFileSync(prod, original);
    }
  });
});

function readdirNames(dir: string): string[] {
  return execFileSync('ls', ['-A', dir], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}
