import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** End to end through `npm run synth`: exit code, message on stderr, output folder untouched. */

const root = mkdtempSync(join(tmpdir(), 'policy-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Errors name a path as the user would type it: relative below the working directory (TMPDIR may be there). */
const shown = (path: string) => (relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path));

function synth(environmentsDir: string, outdir: string) {
  const r = spawnSync('npm', ['run', '--silent', 'synth'], {
    env: { ...process.env, EMAIL_SERVER_ENVIRONMENTS_DIR: environmentsDir, CDK8S_OUTDIR: outdir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function withSentinel(name: string) {
  const outdir = join(root, name, 'dist');
  mkdirSync(join(outdir, 'prod'), { recursive: true });
  writeFileSync(join(outdir, 'prod', 'sentinel.yaml'), 'previous: output\n');
  return outdir;
}

function untouched(outdir: string) {
  expect(readdirSync(join(outdir, '..')).sort()).toEqual(['dist', 'environments'].filter((d) => existsSync(join(outdir, '..', d))));
  expect(readdirSync(outdir)).toEqual(['prod']);
  expect(readFileSync(join(outdir, 'prod', 'sentinel.yaml'), 'utf8')).toBe('previous: output\n');
}

describe('npm run synth', () => {
  it('refuses a bad environment file: exit 1, every problem on stderr, dist untouched', () => {
    const envDir = join(root, 'bad', 'environments');
    mkdirSync(envDir, { recursive: true });
    writeFileSync(
      join(envDir, 'eu.yaml'),
      'namespace: email-server-eu\nreplicas: 0\nrelay: { tlsSecurityLevel: may }\nmail: { hostname: localhost, domain: example.com, allowedSenderDomains: [example.com] }\n',
    );
    const outdir = withSentinel('bad');
    const r = synth(envDir, outdir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const file = shown(join(envDir, 'eu.yaml'));
    expect(r.stderr).toContain(`${file}: replicas: must be at least 1 (got 0)`);
    expect(r.stderr).toContain(`${file}: relay.tlsSecurityLevel: "may" could send mail in clear text: use "secure" (or "verify") (got "may")`);
    expect(r.stderr).toContain(`${file}: mail.hostname: must be a fully qualified domain name such as example.com (got "localhost")`);
    expect(r.stderr).toMatch(/left unchanged/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user error
    untouched(outdir);
  });

  it('refuses a missing environments folder the same way', () => {
    const outdir = withSentinel('missing');
    const r = synth(join(root, 'missing', 'environments'), outdir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${shown(join(root, 'missing', 'environments'))}: (top level): cannot be read: ENOENT`);
    untouched(outdir);
  });

  it('writes the shipped environments and exits 0', () => {
    const outdir = join(root, 'good', 'dist');
    const r = synth('environments', outdir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const env of ['dev', 'staging', 'prod']) expect(existsSync(join(outdir, env)), env).toBe(true);
  });
});

/** The same app under the cdk8s CLI, which deletes its output folder before it runs the app. */
function cdk8sSynth(environmentsDir: string, outdir: string, env: Record<string, string> = {}) {
  const r = spawnSync(join('node_modules', '.bin', 'cdk8s'), ['synth', '--output', outdir], {
    env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false', EMAIL_SERVER_ENVIRONMENTS_DIR: environmentsDir, ...env },
    encoding: 'utf8',
    timeout: 90_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npx cdk8s synth', () => {
  it('with a bad environment says what really happened to dist/ and points at npm run synth', () => {
    const envDir = join(root, 'cli-bad', 'environments');
    mkdirSync(envDir, { recursive: true });
    writeFileSync(join(envDir, 'eu.yaml'), 'namespace: email-server-eu\nreplicas: 0\nmail: { hostname: mail.example.com, domain: example.com, allowedSenderDomains: [example.com] }\n');
    const outdir = withSentinel('cli-bad');
    const r = cdk8sSynth(envDir, outdir);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${shown(join(envDir, 'eu.yaml'))}: replicas: must be at least 1 (got 0)`);
    // The CLI deleted the folder before the app ran: the message must not claim it was kept.
    expect(existsSync(outdir)).toBe(false);
    expect(r.stderr).not.toMatch(/left unchanged/);
    expect(r.stderr).toContain(
      `nothing was written, but ${outdir}/ no longer exists: the cdk8s CLI (cdk8s synth) deletes its output folder before it runs the app. npm run synth replaces ${outdir}/ atomically instead, keeping the previous output on any error`,
    );
  });

  it('with good environments writes them like npm run synth', () => {
    const outdir = join(root, 'cli-good', 'dist');
    const r = cdk8sSynth('environments', outdir);
    expect(r.status, r.stderr).toBe(0);
    for (const env of ['dev', 'staging', 'prod']) expect(existsSync(join(outdir, env, 'Kustomization')), env).toBe(true);
  });

  it('CDK8S_CHECK_UPGRADE=false keeps it from checking for (and announcing) a newer CLI', () => {
    // The CLI caches the latest version it saw in $HOME/.cdk8s-cli.version for 30 minutes: a fresh
    // cache naming a newer version makes it announce an upgrade without any network access.
    const home = join(root, 'home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, '.cdk8s-cli.version'), '99.0.0');
    const outdir = join(root, 'cli-upgrade', 'dist');
    const checked = cdk8sSynth('environments', outdir, { HOME: home, CDK8S_CHECK_UPGRADE: 'true' });
    expect(checked.stderr).toContain('A new version 99.0.0 of cdk8s-cli is available');
    const quiet = cdk8sSynth('environments', outdir, { HOME: home });
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).not.toContain('new version');
  });
});
