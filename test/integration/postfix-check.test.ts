import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { renderPostfixFiles } from '../../src/postfix';
import {
  expectedPostfixVersion,
  findTool,
  postfixGeneration,
  preparePostfix,
  requireTool,
  stopAllPostfix,
  tempDir,
  type PreparedInstance,
} from './harness';
import { expectCleanStart } from './support/clean-start';

// Issue 3, test 3.8: the real Postfix accepts every environment's rendered configuration, on
// both generations (Debian 12's 3.7 and the image's 3.10, issue 12):
// `postfix check` is clean, postconf knows every parameter we set (a typo would be an
// "unused parameter" warning), master.cf parses, and entrypoint.sh passes `shellcheck -s sh`.

const ready = requireTool('postfix', 'postfix') && requireTool('shellcheck', 'shellcheck');
const ENVS = ['dev', 'staging', 'prod'] as const;

const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

// The same checks run on both Postfix generations (vitest projects integration and
// integration-postfix-3.10): first make sure this run checks the generation it claims to.
describe.skipIf(!ready)('the Postfix under test', () => {
  it(`is the ${postfixGeneration() === '3.10' ? "Debian 13 root's 3.10" : "host's own (Debian 12: 3.7)"}`, () => {
    const version = run('postconf', ['-h', 'mail_version']).stdout.trim();
    if (postfixGeneration() === '3.10') {
      expect(version).toMatch(/^3\.10\.\d+$/);
      expect(findTool('postconf')).not.toBe('/usr/sbin/postconf');
    } else {
      expect(version).toBe(execFileSync('/usr/sbin/postconf', ['-h', 'mail_version'], { encoding: 'utf8' }).trim());
    }
    expect(version).toBe(expectedPostfixVersion());
  });
});

describe.skipIf(!ready).each(ENVS)('rendered configuration of %s', (name) => {
  const env = loadEnvironmentFile(`environments/${name}.yaml`);
  const prepared: PreparedInstance[] = [];
  afterAll(async () => {
    await stopAllPostfix();
    for (const p of prepared) rmSync(p.dir, { recursive: true, force: true });
  });

  it('passes `postfix check` without a warning (only the test overrides: paths under a temp dir, loopback)', async () => {
    const p = await preparePostfix({ env });
    prepared.push(p);
    // The volumes as entrypoint.sh leaves them before it runs the same check.
    for (const d of [p.queueDir, p.dataDir, p.logDir]) mkdirSync(d, { mode: 0o755 });
    chownSync(p.dataDir, Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' })), 0);
    chmodSync(p.dataDir, 0o700);
    // Postfix runs on the ConfigMap's ..data directory, as entrypoint.sh does.
    const r = run('postfix', ['-c', join(p.configDir, '..data'), 'check']);
    const log = existsSync(p.logFile) ? readFileSync(p.logFile, 'utf8') : '';
    expect(r.code, `${r.stderr}\n${log}`).toBe(0);
    expect(`${r.stderr}${log}`).not.toMatch(/warning|fatal|error/i);
  });

  it('starts through entrypoint.sh from a ConfigMap-shaped directory without a single warning', async () => {
    await expectCleanStart({ env });
  });

  it('sets only parameters Postfix knows, with values postconf accepts (pristine files)', () => {
    const dir = tempDir(`relay-pristine-${name}-`);
    const files = renderPostfixFiles(env);
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    const n = run('postconf', ['-c', dir, '-n']);
    expect(n.code).toBe(0);
    expect(n.stderr).toBe('');
    expect(n.stdout).toContain(`myhostname = ${env.mail.hostname}`);
    // Every value that Postfix parses as a number, time or boolean is one.
    const x = run('postconf', ['-c', dir, '-x', 'message_size_limit', 'maximal_queue_lifetime', 'smtp_tls_connection_reuse', 'soft_bounce']);
    expect(x.stderr).toBe('');
    const m = run('postconf', ['-c', dir, '-M']);
    expect(m.code).toBe(0);
    expect(m.stderr).toBe('');
    expect(m.stdout.split('\n').filter(Boolean).length).toBe(files['master.cf'].split('\n').filter((l) => /^[^#\s]/.test(l)).length);
  });

  it('has an entrypoint.sh that passes shellcheck -s sh', () => {
    const dir = tempDir(`relay-shellcheck-${name}-`);
    const script = join(dir, 'entrypoint.sh');
    writeFileSync(script, renderPostfixFiles(env)['entrypoint.sh']);
    const r = run('shellcheck', ['-s', 'sh', script]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
