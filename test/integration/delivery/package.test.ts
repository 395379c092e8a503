import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneSource, createSource, editFile, git, npmRun, sh, snapshot, workspace } from './workspace';

/**
 * `npm run package`: the CI artifact is the same bytes from any clone, at any time, under any
 * umask; its SHA256SUMS checks with sha256sum; its provenance names it, the source and the
 * command.
 */
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('npm run package', () => {
  const ws = workspace('package');
  let source: string;
  let commit: string;
  let first: string;
  let second: string;
  beforeAll(() => {
    source = createSource(join(ws.dir, 'source'), { repoURL: 'https://github.com/bionicaisolutions/email-server-gitops.git' });
    commit = git(source, 'rev-parse', 'HEAD').trim();
    first = cloneSource(source, join(ws.dir, 'first'), '022');
    // The second clone: another umask (0600 files, 0700 folders) and every file a year older.
    second = cloneSource(source, join(ws.dir, 'second'), '077');
    const old = new Date(Date.now() - 365 * 24 * 3600 * 1000);
    for (const f of git(second, 'ls-files', '-z').split('\0').filter(Boolean)) utimesSync(join(second, f), old, old);
  });
  afterAll(() => ws.cleanup());

  it('gives byte-identical tarballs from two clones with different umasks, times and runs; sha256sum -c passes in each', () => {
    expect((statSync(join(second, 'package.json')).mode & 0o777).toString(8)).toBe('600');
    const a = npmRun(first, 'package', []);
    expect(a.status, a.stderr).toBe(0);
    // A different moment, a different process umask.
    const b = sh('sh', ['-c', 'sleep 1.1 && umask 077 && npm run --silent package'], second);
    expect(b.status, b.stderr).toBe(0);
    const name = `email-server-${commit}.tar.gz`;
    for (const clone of [first, second]) {
      expect(readdirSync(join(clone, 'artifacts')).sort()).toEqual(['SHA256SUMS', `email-server-${commit}.intoto.json`, name]);
      expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(clone, 'artifacts'), encoding: 'utf8' })).toBe(`${name}: OK\nemail-server-${commit}.intoto.json: OK\n`);
    }
    const digest = sha256(join(first, 'artifacts', name));
    expect(sha256(join(second, 'artifacts', name))).toBe(digest);
    expect(a.stdout).toContain(`sha256:${digest}  artifacts/${name}`);
    expect(readFileSync(join(first, 'artifacts', 'SHA256SUMS'), 'utf8').split('\n')[0]).toBe(`${digest}  ${name}`);
  });

  it('holds the synth of the commit: root-owned entries, normalised modes, the commit time, the same files as dist/', () => {
    const tarball = join(first, 'artifacts', `email-server-${commit}.tar.gz`);
    const commitTime = Number(git(first, 'log', '-1', '--pretty=%ct').trim());
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '--utc', '-tvzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    const stamp = new Date(commitTime * 1000).toISOString().replace('T', ' ').replace('.000Z', '');
    for (const line of listing) expect(line).toMatch(new RegExp(`^(-rw-r--r--|drwxr-xr-x) 0/0 +\\d+ ${stamp} `));
    const out = join(ws.dir, 'extracted');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xzf', tarball, '-C', out]);
    expect(npmRun(first, 'synth', []).status).toBe(0);
    const strip = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.slice(v.indexOf(' ') + 1)]));
    expect(strip(snapshot(out))).toEqual(strip(snapshot(join(first, 'dist'))));
  });

  it('writes an in-toto Statement with SLSA v1 provenance naming the tarball digest, the source and the command', () => {
    const name = `email-server-${commit}.tar.gz`;
    const statement = JSON.parse(readFileSync(join(first, 'artifacts', `email-server-${commit}.intoto.json`), 'utf8'));
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(statement.subject).toEqual([{ name, digest: { sha256: sha256(join(first, 'artifacts', name)) } }]);
    expect(statement.predicate.buildDefinition.externalParameters).toMatchObject({
      command: 'npm run package',
      source: { uri: `git+${source}`, digest: { gitCommit: commit } },
      sourceDirty: false,
    });
  });

  it('SOURCE_DATE_EPOCH sets the time in the archive', () => {
    const r = npmRun(first, 'package', ['--out-dir', join(ws.dir, 'epoch')], { SOURCE_DATE_EPOCH: '1700000000' });
    expect(r.status, r.stderr).toBe(0);
    const listing = execFileSync('tar', ['--utc', '--full-time', '-tvzf', join(ws.dir, 'epoch', `email-server-${commit}.tar.gz`)], { encoding: 'utf8' });
    expect(listing).toContain('2023-11-14 22:13:20');
    const bad = npmRun(first, 'package', ['--out-dir', join(ws.dir, 'epoch2')], { SOURCE_DATE_EPOCH: 'yesterday' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('SOURCE_DATE_EPOCH must be a whole number of seconds since 1970 (got "yesterday")');
    expect(existsSync(join(ws.dir, 'epoch2'))).toBe(false);
  });

  it('refuses uncommitted changes unless --allow-dirty, which says so in the file name', () => {
    editFile(join(first, 'environments', 'dev.yaml'), (t) => t.replace('queueSize: 20', 'queueSize: 21'));
    const refused = npmRun(first, 'package', ['--out-dir', join(ws.dir, 'dirty')]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('uncommitted changes');
    expect(refused.stderr).toContain('M environments/dev.yaml');
    expect(existsSync(join(ws.dir, 'dirty'))).toBe(false);
    const r = npmRun(first, 'package', ['--out-dir', join(ws.dir, 'dirty'), '--allow-dirty']);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(ws.dir, 'dirty'))).toContain(`email-server-${commit}-dirty.tar.gz`);
    git(first, 'checkout', '--', 'environments/dev.yaml');
  });

  it('a source that does not synthesize: a clear error and no artifact', () => {
    editFile(join(second, 'environments', 'prod.yaml'), (t) => t.replace(/^replicas: 2$/m, 'replicas: 0'));
    const r = npmRun(second, 'package', ['--out-dir', join(ws.dir, 'broken'), '--allow-dirty']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('environments/prod.yaml: replicas');
    expect(existsSync(join(ws.dir, 'broken'))).toBe(false);
  });
});
