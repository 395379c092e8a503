import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { METADATA_FILE } from '../../../src/delivery/metadata';
import {
  changedPaths,
  cloneSource,
  commitAll,
  createRemote,
  createSource,
  editFile,
  filesAt,
  git,
  npmRun,
  npmRunAsync,
  raceHook,
  remoteHead,
  removeHook,
  snapshot,
  workspace,
} from './workspace';

/**
 * `npm run gitops-publish` against a local bare repository, with real git and real clones:
 * every guarantee of issue 18 ("Proof") and its bad inputs. The remote refuses non-fast-forward
 * updates and branch deletions, so a force-push anywhere would fail these tests.
 */
const publish = (cwd: string, ...args: string[]) => npmRun(cwd, 'gitops-publish', args);
const commitCount = (bare: string, branch = 'main') => Number(git(bare, 'rev-list', '--count', branch).trim());
const ownedBy = (env: string) => (p: string) => p.startsWith(`${env}/`) || p.startsWith(`helm/email-server-${env}/`) || p.startsWith(`argocd/${env}/`);

describe('publishing to a GitOps repository (folders layout)', () => {
  const ws = workspace('publish');
  let remote: string;
  let source: string;
  beforeAll(() => {
    remote = createRemote(ws.dir);
    source = createSource(join(ws.dir, 'source'), { repoURL: remote });
  });
  afterAll(() => ws.cleanup());

  it('the first publish writes every owned folder and leaves the rest of the repository alone', () => {
    const seed = filesAt(remote);
    const r = publish(source, '--repo', remote);
    expect(r.status, r.stderr).toBe(0);
    const head = remoteHead(remote)!;
    expect(r.stdout).toBe(`main ${head}\n`);
    const files = filesAt(remote);
    // Other teams' files: byte for byte.
    for (const [path, content] of seed) expect(files.get(path), path).toBe(content);
    expect([...files.keys()].filter((p) => !seed.has(p)).every((p) => /^(dev|staging|prod|argocd|helm)\//.test(p) || p === METADATA_FILE)).toBe(true);
    // Exactly what the synth writes.
    expect(files.has('prod/statefulset-postfix-relay.yaml')).toBe(true);
    expect(files.has('argocd/prod/application-email-server-prod.yaml')).toBe(true);
    expect(snapshot(join(source, 'dist'))['prod/statefulset-postfix-relay.yaml']).toContain(files.get('prod/statefulset-postfix-relay.yaml'));
  });

  it('records the source in the commit message and in a metadata file that no folder kubectl or Argo CD reads holds', () => {
    const head = remoteHead(remote)!;
    const sourceCommit = git(source, 'rev-parse', 'HEAD').trim();
    const message = git(remote, 'log', '-1', '--format=%B', head);
    expect(message).toContain(`Source-Commit: ${sourceCommit}`);
    expect(message).toContain(`Source-Repository: file://${source}`);
    expect(message).toMatch(/Content-Hash: sha256:[0-9a-f]{64}/);
    expect(message).toMatch(/Tool-Version: email-server \d+\.\d+\.\d+/);
    const meta = JSON.parse(filesAt(remote).get(METADATA_FILE)!);
    expect(meta).toMatchObject({ sourceCommit, sourceRepository: `file://${source}`, sourceDirty: false, layout: 'folders', environments: ['dev', 'prod', 'staging'] });
    expect(meta.paths).toEqual(['argocd', 'dev', 'helm', 'prod', 'staging']);
    expect(message).toContain(meta.contentHash);
    // At the root, with an extension kubectl (*.yaml, *.yml, *.json) and Argo CD do not read.
    expect(METADATA_FILE).not.toMatch(/\.(ya?ml|json)$/);
  });

  it('publishing twice makes one commit: the second prints the current commit and exits 0', () => {
    const before = commitCount(remote);
    const head = remoteHead(remote)!;
    const r = publish(source, '--repo', remote);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('Nothing to publish');
    expect(r.stdout).toBe(`main ${head}\n`);
    expect(commitCount(remote)).toBe(before);
  });

  it('a new source commit that changes no output (only the metadata would change) makes no commit', () => {
    const before = remoteHead(remote);
    editFile(join(source, 'README.md'), (t) => `${t}\nA line that changes no manifest.\n`);
    commitAll(source, 'docs only');
    const r = publish(source, '--repo', remote);
    expect(r.status, r.stderr).toBe(0);
    expect(remoteHead(remote)).toBe(before);
  });

  it('a change to environments/staging.yaml makes a commit that touches only staging\'s files and names the source commit', () => {
    editFile(join(source, 'environments', 'staging.yaml'), (t) => t.replace('queueSize: 50', 'queueSize: 75'));
    const sourceCommit = commitAll(source, 'staging: alert later');
    const before = remoteHead(remote)!;
    const r = publish(source, '--repo', remote);
    expect(r.status, r.stderr).toBe(0);
    const head = remoteHead(remote)!;
    expect(git(remote, 'rev-parse', `${head}^`).trim()).toBe(before);
    const paths = changedPaths(remote, head);
    expect(paths).toContain('staging/prometheusrule-postfix-relay.yaml');
    expect(paths.filter((p) => p !== METADATA_FILE).every(ownedBy('staging'))).toBe(true);
    const message = git(remote, 'log', '-1', '--format=%B', head);
    expect(message.split('\n')[0]).toBe(`email-server: update staging (source ${sourceCommit.slice(0, 12)})`);
    expect(message).toContain(`Source-Commit: ${sourceCommit}`);
  });

  it('an object removed from the source is removed from the repository', () => {
    expect(filesAt(remote).has('dev/servicemonitor-postfix-relay.yaml')).toBe(true);
    editFile(join(source, 'environments', 'dev.yaml'), (t) => t.replace('serviceMonitor:\n  labels: { release: kube-prometheus-stack }\n', 'serviceMonitor:\n  enabled: false\n'));
    commitAll(source, 'dev: no ServiceMonitor');
    const r = publish(source, '--repo', remote);
    expect(r.status, r.stderr).toBe(0);
    const files = filesAt(remote);
    expect(files.has('dev/servicemonitor-postfix-relay.yaml')).toBe(false);
    expect(files.has('helm/email-server-dev/templates/servicemonitor-postfix-relay.yaml')).toBe(false);
    expect(parse(files.get('dev/Kustomization')!).resources).not.toContain('servicemonitor-postfix-relay.yaml');
    expect(files.has('prod/servicemonitor-postfix-relay.yaml')).toBe(true);
  });

  it('a hand edit inside an owned folder is replaced on the next publish; files outside them stay', () => {
    const hand = join(ws.dir, 'hand');
    git(ws.dir, 'clone', '-q', remote, hand);
    writeFileSync(join(hand, 'prod', 'stray.yaml'), 'kind: ConfigMap\n');
    writeFileSync(join(hand, 'notes.md'), 'ours\n');
    commitAll(hand, 'hand edits');
    git(hand, 'push', '-q', 'origin', 'main');
    const r = publish(source, '--repo', remote);
    expect(r.status, r.stderr).toBe(0);
    const files = filesAt(remote);
    expect(files.has('prod/stray.yaml')).toBe(false);
    expect(files.get('notes.md')).toBe('ours\n');
    expect(files.get('README.md')).toBe('# GitOps\n');
  });

  it('refuses a dirty source tree unless --allow-dirty, and then says so', () => {
    editFile(join(source, 'environments', 'prod.yaml'), (t) => t.replace('queueSize: 100', 'queueSize: 120'));
    const before = remoteHead(remote);
    const refused = publish(source, '--repo', remote);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('uncommitted changes');
    expect(refused.stderr).toContain('M environments/prod.yaml');
    expect(refused.stderr).toContain('--allow-dirty');
    expect(remoteHead(remote)).toBe(before);

    const r = publish(source, '--repo', remote, '--allow-dirty');
    expect(r.status, r.stderr).toBe(0);
    const message = git(remote, 'log', '-1', '--format=%B', 'main');
    expect(message).toContain('uncommitted changes');
    expect(JSON.parse(filesAt(remote).get(METADATA_FILE)!).sourceDirty).toBe(true);
    git(source, 'checkout', '--', 'environments/prod.yaml');
  });

  it('a removed environment is refused without --remove-missing, then removed with it', () => {
    rmSync(join(source, 'environments', 'dev.yaml'));
    commitAll(source, 'retire dev');
    const before = remoteHead(remote);
    const refused = publish(source, '--repo', remote);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('environments/dev.yaml no longer exist');
    expect(refused.stderr).toContain('--remove-missing');
    expect(refused.stderr).toContain('queued');
    expect(remoteHead(remote)).toBe(before);
    expect(filesAt(remote).has('dev/Kustomization')).toBe(true);

    const r = publish(source, '--repo', remote, '--remove-missing');
    expect(r.status, r.stderr).toBe(0);
    const files = [...filesAt(remote).keys()];
    expect(files.filter(ownedBy('dev'))).toEqual([]);
    expect(files).toContain('staging/Kustomization');
    expect(git(remote, 'log', '-1', '--format=%s', 'main')).toMatch(/remove dev/);
    expect(JSON.parse(filesAt(remote).get(METADATA_FILE)!).environments).toEqual(['prod', 'staging']);
  });
});

describe('two publishes at once, and a conflicting edit', () => {
  const ws = workspace('publish-race');
  let remote: string;
  let source: string;
  beforeAll(() => {
    remote = createRemote(ws.dir);
    source = createSource(join(ws.dir, 'source'), { repoURL: remote });
    expect(publish(source, '--repo', remote).status).toBe(0);
  });
  afterAll(() => ws.cleanup());

  let clones = 0;
  /** A fresh clone of the source with one environment's alert threshold raised, committed. */
  const cloneWithChange = (env: string): { dir: string; threshold: string } => {
    const dir = cloneSource(source, join(ws.dir, `clone-${++clones}`));
    let threshold = '';
    editFile(join(dir, 'environments', `${env}.yaml`), (t) =>
      t.replace(/queueSize: (\d+)/, (_, v: string) => {
        threshold = String(Number(v) + 1);
        return `queueSize: ${threshold}`;
      }),
    );
    commitAll(dir, `${env}: queue alert at ${threshold}`);
    return { dir, threshold };
  };
  /** Both changes into the source (different files: no conflict), as two merged pull requests would be. */
  const fold = (...dirs: string[]) => {
    for (const d of dirs) git(source, 'pull', '-q', '--no-rebase', '--no-edit', d, 'main');
  };
  const alertThreshold = (env: string) => /\(threshold (\d+)\)/.exec(filesAt(remote).get(`${env}/prometheusrule-postfix-relay.yaml`)!)?.[1];

  it.each([
    ['the dev publish lands first, the staging publish retries', 'dev', 'staging'],
    ['the staging publish lands first, the dev publish retries', 'staging', 'dev'],
  ])('both land, neither lost: %s', (_, firstEnv, secondEnv) => {
    // Two clones of one source commit, each changing another environment.
    const first = cloneWithChange(firstEnv);
    const second = cloneWithChange(secondEnv);
    const start = remoteHead(remote)!;
    // `second` reads the remote; just before its push is applied, `first` publishes.
    const marker = join(ws.dir, `race-${firstEnv}`);
    raceHook(remote, marker, `cd '${first.dir}' && npm run --silent gitops-publish -- --repo '${remote}'`);
    const r = publish(second.dir, '--repo', remote);
    removeHook(remote);
    expect(readFileSync(`${marker}.log`, 'utf8')).toMatch(/^main [0-9a-f]{40}$/m);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('changed since it was read');
    expect(r.stderr).toContain('after 2 attempts');
    // Both commits, the retried one on top of the other.
    const log = git(remote, 'log', '--format=%s', `${start}..main`).trim().split('\n');
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(new RegExp(`^email-server: update ${secondEnv} `));
    expect(log[1]).toMatch(new RegExp(`^email-server: update ${firstEnv} `));
    expect(alertThreshold(firstEnv)).toBe(first.threshold);
    expect(alertThreshold(secondEnv)).toBe(second.threshold);
    fold(first.dir, second.dir);
  });

  it('both land when started at the same moment, whichever wins', async () => {
    const a = cloneWithChange('prod');
    const b = cloneWithChange('dev');
    const start = remoteHead(remote)!;
    const [ra, rb] = await Promise.all([npmRunAsync(a.dir, 'gitops-publish', ['--repo', remote]), npmRunAsync(b.dir, 'gitops-publish', ['--repo', remote])]);
    expect(ra.status, ra.stderr).toBe(0);
    expect(rb.status, rb.stderr).toBe(0);
    expect(git(remote, 'rev-list', '--count', `${start}..main`).trim()).toBe('2');
    expect(alertThreshold('prod')).toBe(a.threshold);
    expect(alertThreshold('dev')).toBe(b.threshold);
    fold(a.dir, b.dir);
  });

  it('an older source published after a later one that contains it changes nothing (out-of-order CI runs)', () => {
    const older = cloneWithChange('staging');
    const newer = cloneSource(older.dir, join(ws.dir, 'newer'));
    editFile(join(newer, 'environments', 'prod.yaml'), (t) => t.replace(/queueSize: (\d+)/, 'queueSize: 150'));
    commitAll(newer, 'prod too');
    expect(publish(newer, '--repo', remote).status).toBe(0);
    const head = remoteHead(remote);
    // The clone of the older commit knows the newer one (as a CI checkout with full history does).
    git(older.dir, 'fetch', '-q', newer, 'main');
    const r = publish(older.dir, '--repo', remote);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('already holds a publish of');
    expect(r.stderr).toContain('a later commit that contains');
    expect(remoteHead(remote)).toBe(head);
    expect(alertThreshold('prod')).toBe('150');
    fold(newer);
  });

  it('a conflicting edit in the GitOps repository stops the publish with the remote unchanged', () => {
    // Someone hand-edits staging's alert rule while a publish that changes the same file runs.
    const hand = join(ws.dir, 'hand');
    git(ws.dir, 'clone', '-q', remote, hand);
    const a = cloneWithChange('staging');
    const marker = join(ws.dir, 'race-hand');
    raceHook(
      remote,
      marker,
      `cd '${hand}' && git pull -q && sed -i 's/for: 5m/for: 7m/' staging/prometheusrule-postfix-relay.yaml && git commit -qam 'hand edit' && git push -q origin main && echo pushed`,
    );
    const distBefore = snapshot(join(a.dir, 'dist'));
    const r = publish(a.dir, '--repo', remote);
    removeHook(remote);
    expect(readFileSync(`${marker}.log`, 'utf8')).toContain('pushed');
    const handHead = git(hand, 'rev-parse', 'HEAD').trim();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('conflict');
    expect(r.stderr).toContain('staging/prometheusrule-postfix-relay.yaml');
    expect(r.stderr).toContain('Nothing was pushed');
    // The remote is exactly the hand edit: the publish added nothing.
    expect(remoteHead(remote)).toBe(handHead);
    expect(filesAt(remote).get('staging/prometheusrule-postfix-relay.yaml')).toContain('for: 7m');
    expect(snapshot(join(a.dir, 'dist'))).toEqual(distBefore);
  });
});

describe('the rendered-branches layout (--layout branches)', () => {
  const ws = workspace('publish-branches');
  let remote: string;
  let source: string;
  beforeAll(() => {
    remote = createRemote(ws.dir);
    source = createSource(join(ws.dir, 'source'), { repoURL: `file://${remote}`, argocd: '  layout: branches\n' });
  });
  afterAll(() => ws.cleanup());

  it('puts each environment on env/<name> and the Applications, which follow those branches, on main', () => {
    const r = publish(source, '--repo', remote, '--layout', 'branches');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => l.split(' ')[0]).sort()).toEqual(['env/dev', 'env/prod', 'env/staging', 'main']);
    const main = filesAt(remote, 'main');
    expect([...main.keys()].filter((p) => /^(dev|staging|prod)\//.test(p))).toEqual([]);
    const app = parse(main.get('argocd/staging/application-email-server-staging.yaml')!);
    expect(app.spec.source).toEqual({ repoURL: `file://${remote}`, path: 'staging', targetRevision: 'env/staging' });
    const staging = filesAt(remote, 'env/staging');
    expect([...staging.keys()].every((p) => p.startsWith('staging/') || p === METADATA_FILE)).toBe(true);
    expect(staging.has('staging/Kustomization')).toBe(true);
    expect(JSON.parse(staging.get(METADATA_FILE)!)).toMatchObject({ layout: 'branches', paths: ['staging'] });
  });

  it('a change to staging moves env/staging (and main, for its Helm chart) but not env/dev or env/prod', () => {
    const before = { dev: remoteHead(remote, 'env/dev'), prod: remoteHead(remote, 'env/prod'), staging: remoteHead(remote, 'env/staging') };
    editFile(join(source, 'environments', 'staging.yaml'), (t) => t.replace('queueSize: 50', 'queueSize: 55'));
    commitAll(source, 'staging');
    const r = publish(source, '--repo', remote, '--layout', 'branches');
    expect(r.status, r.stderr).toBe(0);
    expect(remoteHead(remote, 'env/dev')).toBe(before.dev);
    expect(remoteHead(remote, 'env/prod')).toBe(before.prod);
    expect(remoteHead(remote, 'env/staging')).not.toBe(before.staging);
    expect(changedPaths(remote, 'main').filter((p) => p !== METADATA_FILE).every((p) => p.startsWith('helm/email-server-staging/'))).toBe(true);
    expect(publish(source, '--repo', remote, '--layout', 'branches').stderr).toContain('Nothing to publish');
  });

  it('publishing these Applications with the folders layout is refused: they would follow branches it never writes', () => {
    const before = remoteHead(remote);
    const r = publish(source, '--repo', remote);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('environments/staging.yaml: argocd.targetRevision: the staging Application follows "env/staging", but this publish (--layout folders) writes staging to branch "main"');
    expect(r.stderr).toContain('publish with --layout branches');
    expect(remoteHead(remote)).toBe(before);
  });
});

describe('bad input: a clear error, a non-zero exit, the GitOps repository and dist/ as they were', () => {
  const ws = workspace('publish-bad');
  let remote: string;
  let source: string;
  let dist: Record<string, string>;
  let head: string;
  beforeAll(() => {
    remote = createRemote(ws.dir);
    source = createSource(join(ws.dir, 'source'), { repoURL: remote });
    expect(publish(source, '--repo', remote).status).toBe(0);
    dist = snapshot(join(source, 'dist'));
    head = remoteHead(remote)!;
  });
  afterAll(() => ws.cleanup());

  const unchanged = () => {
    expect(snapshot(join(source, 'dist'))).toEqual(dist);
    expect(remoteHead(remote)).toBe(head);
    expect(git(remote, 'for-each-ref', '--format=%(refname)').trim()).toBe('refs/heads/main');
    expect(existsSync(join(source, 'build', 'delivery')) ? git(source, 'status', '--porcelain', '--ignored', 'build/delivery').trim() : '').toBe('');
  };

  it('an unreachable repository (a path that is not one)', () => {
    const r = publish(source, '--repo', join(ws.dir, 'nowhere.git'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`cannot reach the GitOps repository ${join(ws.dir, 'nowhere.git')}`);
    unchanged();
  });

  it('an unreachable repository (a server that does not answer), with its token kept out of the message', () => {
    const r = publish(source, '--repo', 'https://x-access-token:s3cret@127.0.0.1:9/org/gitops.git');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('cannot reach the GitOps repository https://***@127.0.0.1:9/org/gitops.git');
    expect(r.stderr).not.toContain('s3cret');
    unchanged();
  });

  it('a branch the repository does not have', () => {
    const r = publish(source, '--repo', remote, '--branch', 'gitops');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('branch "gitops" does not exist in');
    expect(r.stderr).toContain('(it has: main)');
    unchanged();
  });

  it('a source that does not synthesize', () => {
    editFile(join(source, 'environments', 'prod.yaml'), (t) => t.replace(/^replicas: 2$/m, 'replicas: 0'));
    commitAll(source, 'broken');
    const r = publish(source, '--repo', remote);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the source tree does not synthesize');
    expect(r.stderr).toContain('environments/prod.yaml: replicas');
    unchanged();
    git(source, 'revert', '--no-edit', 'HEAD');
  });

  it('Applications that follow another repository', () => {
    const other = createRemote(join(ws.dir, 'other-remote-parent'), {});
    const r = publish(source, '--repo', other);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('environments/prod.yaml: argocd.repoURL: the prod Application follows');
    expect(r.stderr).toContain('set argocd.repoURL to the repository you publish to');
    expect(remoteHead(other)).toBeUndefined();
    unchanged();
  });

  it('a Secret in the output', () => {
    editFile(join(source, 'src', 'charts', 'environment-chart.ts'), (t) =>
      t.replace(
        "    this.relay = new PostfixRelay(this, 'Relay', { config: env });\n",
        "    this.relay = new PostfixRelay(this, 'Relay', { config: env });\n    new (require('cdk8s').ApiObject)(this, 'Leak', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'leak', namespace: env.namespace, labels: commonLabels(env, 'leak') }, stringData: { password: 'hunter2' } });\n",
      ),
    );
    commitAll(source, 'a Secret slips in');
    const r = publish(source, '--repo', remote);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('refusing to publish Secret objects to a Git repository: dev/secret-leak.yaml');
    unchanged();
    git(source, 'revert', '--no-edit', 'HEAD');
  });

  it('usage errors exit 2 and print the usage', () => {
    const r = publish(source, '--branch', 'main');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--repo <path or URL> is required');
    expect(publish(source, '--repo', remote, '--layout', 'trees').stderr).toContain('--layout must be one of folders, branches (got "trees")');
    unchanged();
  });
});

describe('an empty GitOps repository', () => {
  const ws = workspace('publish-empty');
  afterAll(() => ws.cleanup());

  it('gets its first branch from the first publish', () => {
    const remote = createRemote(ws.dir, {});
    const source = createSource(join(ws.dir, 'source'), { repoURL: remote });
    const r = publish(source, '--repo', remote);
    expect(r.status, r.stderr).toBe(0);
    expect(commitCount(remote)).toBe(1);
    expect(filesAt(remote).has('prod/Kustomization')).toBe(true);
  });
});
