import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from './harness/tools';

/**
 * Runs the bats suite of scripts/deploy-email-server.sh (test/deploy) against a fresh synth
 * output. The suite uses a stub kubectl; bats and shellcheck are the real Debian packages.
 */
const ready = requireTool('bats', 'bats') && requireTool('shellcheck', 'shellcheck');
const suite = 'test/deploy/deploy-email-server.bats';

let work: string;
beforeAll(() => {
  if (!ready) return;
  work = mkdtempSync(join(tmpdir(), 'deploy-script-'));
  execFileSync('npm', ['run', '--silent', 'synth'], { env: { ...process.env, CDK8S_OUTDIR: join(work, 'dist') }, stdio: 'pipe' });
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!ready)('scripts/deploy-email-server.sh', () => {
  it('passes every bats test, none skipped', () => {
    const result = spawnSync('bats', ['--tap', suite], {
      env: { ...process.env, DEPLOY_TEST_DIST: join(work, 'dist') },
      encoding: 'utf8',
      timeout: 170_000,
    });
    const tap = `${result.stdout}${result.stderr}`;
    expect(result.status, tap).toBe(0);
    const declared = (readFileSync(suite, 'utf8').match(/^@test /gm) ?? []).length;
    const passed = tap.split('\n').filter((l) => /^ok \d+ /.test(l) && !/# skip/.test(l)).length;
    expect(passed, tap).toBe(declared);
  });
});
