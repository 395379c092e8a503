import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadEnvironments } from '../../src/config/load';
import { renderDist } from '../../src/output';
import { renderEnvironments } from '../../src/synth';

/** Issue 16, items 1 and 2: what a new user does first (copy an environment file), checked across files. */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cross-env-'));
  for (const f of readdirSync('environments')) copyFileSync(join('environments', f), join(dir, f));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function problems(): string[] {
  try {
    loadEnvironments(dir, dir);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  return [];
}

/** Sets a file's modification time, seconds from now (negative: in the past). */
const age = (file: string, secondsAgo: number) => {
  const t = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(join(dir, file), t, t);
};

describe('the shipped environment files', () => {
  it('repeat no default that must change per environment (argocd.path, argocd.targetRevision)', () => {
    for (const f of readdirSync('environments')) {
      const text = readFileSync(join('environments', f), 'utf8');
      expect(text, f).not.toMatch(/^\s+path:/m);
      expect(text, f).not.toMatch(/^\s+targetRevision:/m);
    }
  });

  it('a copy of staging.yaml as qa.yaml gets its own Argo CD folder: only the namespace clash is left, reported against the copy', () => {
    copyFileSync(join(dir, 'staging.yaml'), join(dir, 'qa.yaml'));
    age('staging.yaml', 3600);
    age('qa.yaml', 0);
    expect(problems()).toEqual([
      'qa.yaml: namespace: is already used by staging.yaml (environment "staging"): each environment needs a namespace of its own (got "email-server-staging")',
    ]);
    writeFileSync(join(dir, 'qa.yaml'), readFileSync(join(dir, 'qa.yaml'), 'utf8').replace('namespace: email-server-staging', 'namespace: email-server-qa'));
    const envs = loadEnvironments(dir, dir);
    const dist = renderDist(renderEnvironments(envs), { version: '1.0.0' });
    const qa = dist.get('argocd/qa/application-email-server-qa.yaml')!;
    expect(qa).toContain('path: qa\n');
    expect(dist.get('argocd/staging/application-email-server-staging.yaml')).toContain('path: staging\n');
  });
});

describe('argocd.path (issue 16.1)', () => {
  it('a copy that still says path: staging is refused, naming both files', () => {
    const old = readFileSync(join(dir, 'staging.yaml'), 'utf8').replace('namespace: email-server-staging', 'namespace: email-server-qa').replace('argocd:\n', 'argocd:\n  path: staging\n');
    writeFileSync(join(dir, 'qa.yaml'), old);
    expect(problems()).toEqual([
      'qa.yaml: argocd.path: is the folder of staging.yaml: the qa Application would sync staging\'s manifests into email-server-qa. Leave argocd.path out: it defaults to the environment name ("qa") (got "staging")',
    ]);
  });

  it('the environment\'s own name is accepted, anything else refused', () => {
    writeFileSync(join(dir, 'dev.yaml'), `${readFileSync(join(dir, 'dev.yaml'), 'utf8').replace('argocd:\n', 'argocd:\n  path: dev\n')}`);
    expect(problems()).toEqual([]);
    writeFileSync(join(dir, 'dev.yaml'), `${readFileSync(join(dir, 'dev.yaml'), 'utf8').replace('  path: dev\n', '  path: ./dev\n')}`);
    expect(problems()).toEqual(['dev.yaml: argocd.path: must be "dev", the folder npm run gitops-publish writes this environment to (leave it out: that is the default) (got "./dev")']);
  });

  it('an environment without an Application may say anything (nothing syncs it)', () => {
    writeFileSync(join(dir, 'dev.yaml'), `${readFileSync(join(dir, 'dev.yaml'), 'utf8').replace('argocd:\n', 'argocd:\n  enabled: false\n  path: prod\n')}`);
    expect(problems()).toEqual([]);
  });
});

describe('layout and branch, per GitOps repository', () => {
  const setArgo = (file: string, lines: string) =>
    writeFileSync(join(dir, file), readFileSync(join(dir, file), 'utf8').replace('argocd:\n', `argocd:\n${lines}`));

  it('every environment on branches: each follows env/<name>', () => {
    for (const f of ['dev.yaml', 'staging.yaml', 'prod.yaml']) setArgo(f, '  layout: branches\n');
    expect(problems()).toEqual([]);
    const dist = renderDist(renderEnvironments(loadEnvironments(dir, dir)), { version: '1.0.0' });
    expect(dist.get('argocd/prod/application-email-server-prod.yaml')).toContain('targetRevision: env/prod\n');
  });

  it('one environment on another layout of the same repository is refused, against the file that changed last', () => {
    age('dev.yaml', 60);
    age('staging.yaml', 60);
    setArgo('prod.yaml', '  layout: branches\n');
    expect(problems()).toEqual([
      'prod.yaml: argocd.layout: differs from "folders" in dev.yaml, which publishes to the same repository: npm run gitops-publish writes every environment of a repository with one layout (got "branches")',
    ]);
  });

  it('the same repository written as ssh or with .git is the same repository; another repository is independent', () => {
    age('dev.yaml', 60);
    age('staging.yaml', 60);
    setArgo('prod.yaml', '  repoURL: git@GitHub.com:bionicaisolutions/email-server-gitops\n  targetRevision: release\n');
    expect(problems()).toEqual([
      'prod.yaml: argocd.targetRevision: differs from "main" in dev.yaml, which publishes to the same repository: with the folders layout npm run gitops-publish writes every environment to one branch (argocd.layout: branches gives each environment its own) (got "release")',
    ]);
    writeFileSync(join(dir, 'prod.yaml'), readFileSync(join(dir, 'prod.yaml'), 'utf8').replace('git@GitHub.com:bionicaisolutions/email-server-gitops', 'https://git.example.com/prod/gitops.git'));
    expect(problems()).toEqual([]);
  });
});

describe('duplicate namespace (issue 16.2)', () => {
  const useNamespace = (file: string, ns: string) => {
    const text = readFileSync(join(dir, file), 'utf8');
    writeFileSync(join(dir, file), text.replace(/^namespace: .*$/m, `namespace: ${ns}`));
  };

  it('is reported against the file that introduced it (changed last), naming both files', () => {
    // prod takes dev's namespace: prod.yaml is the newer file though it sorts after dev.yaml.
    age('dev.yaml', 3600);
    useNamespace('prod.yaml', 'email-server-dev');
    age('prod.yaml', 10);
    expect(problems()).toEqual([
      'prod.yaml: namespace: is already used by dev.yaml (environment "dev"): each environment needs a namespace of its own (got "email-server-dev")',
    ]);
    // The other way round: dev.yaml edited last, so it is the one named as the cause.
    age('dev.yaml', 0);
    expect(problems()).toEqual([
      'dev.yaml: namespace: is already used by prod.yaml (environment "prod"): each environment needs a namespace of its own (got "email-server-dev")',
    ]);
  });

  it('three files in one namespace: both later ones are named against the first', () => {
    useNamespace('staging.yaml', 'email-server-dev');
    useNamespace('prod.yaml', 'email-server-dev');
    age('dev.yaml', 300);
    age('prod.yaml', 200);
    age('staging.yaml', 100);
    expect(problems()).toEqual([
      'prod.yaml: namespace: is already used by dev.yaml (environment "dev"): each environment needs a namespace of its own (got "email-server-dev")',
      'staging.yaml: namespace: is already used by dev.yaml (environment "dev"): each environment needs a namespace of its own (got "email-server-dev")',
    ]);
  });
});
