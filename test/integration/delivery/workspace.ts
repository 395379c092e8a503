import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * Real git, real clones, a local bare repository as the GitOps remote: the fixtures of the
 * delivery tests. A "source" is a git repository holding this checkout's working tree (so the
 * tests run the code under test, committed or not), with node_modules linked in.
 */
export const ROOT = resolve(__dirname, '..', '..', '..');

/** Who the tests' own commits are by; the publish itself uses whatever git is configured with. */
export const GIT_ENV: NodeJS.ProcessEnv = {
  GIT_AUTHOR_NAME: 'Delivery Test',
  GIT_AUTHOR_EMAIL: 'delivery-test@example.com',
  GIT_COMMITTER_NAME: 'Delivery Test',
  GIT_COMMITTER_EMAIL: 'delivery-test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  CDK8S_CHECK_UPGRADE: 'false',
};

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function sh(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(command, args, { cwd, env: { ...process.env, ...GIT_ENV, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs git; throws with its stderr on failure. */
export function git(cwd: string, ...args: string[]): string {
  const r = sh('git', args, cwd);
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} (in ${cwd}) failed: ${r.stderr}`);
  return r.stdout;
}

export function workspace(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { dir, cleanup: () => (process.env.KEEP_TEST_DIRS ? undefined : rmSync(dir, { recursive: true, force: true })) };
}

/** What a checkout without git history (an unpacked archive) copies: what the commands need. */
const WITHOUT_GIT = ['src', 'imports', 'scripts', 'environments', 'package.json', 'package-lock.json', 'tsconfig.json', 'cdk8s.yaml', '.gitignore', 'README.md'];

/** This checkout's files as git sees them (tracked, and new files that are not ignored). */
function projectFiles(): string[] {
  const r = sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT);
  if (r.status !== 0) {
    const walk = (p: string): string[] => (statSync(join(ROOT, p)).isDirectory() ? readdirSync(join(ROOT, p)).flatMap((n) => walk(`${p}/${n}`)) : [p]);
    return WITHOUT_GIT.filter((p) => existsSync(join(ROOT, p))).flatMap(walk);
  }
  return r.stdout.split('\0').filter((f) => f && existsSync(join(ROOT, f)));
}

export interface SourceOptions {
  /** argocd.repoURL of every environment (the remote the tests publish to). */
  readonly repoURL: string;
  /** Extra lines for every environment's argocd section. */
  readonly argocd?: string;
}

/** A git repository with this checkout's working tree as its one commit, on branch main. */
export function createSource(dir: string, options: SourceOptions): string {
  mkdirSync(dir, { recursive: true });
  for (const f of projectFiles()) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(ROOT, f), join(dir, f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const f of readdirSync(join(dir, 'environments'))) {
    editFile(join(dir, 'environments', f), (t) => t.replace(/^argocd:\n/m, `argocd:\n  repoURL: ${options.repoURL}\n${options.argocd ?? ''}`));
  }
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'the project, as checked out');
  return dir;
}

/** A clone of a source (umask: of the clone's files, e.g. "077"), ready to run the commands. */
export function cloneSource(source: string, dest: string, umask = '022'): string {
  const r = sh('sh', ['-c', `umask ${umask} && git clone -q "$0" "$1"`, source, dest], dirname(dest));
  if (r.status !== 0) throw new Error(`clone failed: ${r.stderr}`);
  symlinkSync(join(ROOT, 'node_modules'), join(dest, 'node_modules'), 'dir');
  return dest;
}

export function editFile(path: string, edit: (text: string) => string): void {
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error(`editing ${path} changed nothing`);
  writeFileSync(path, after);
}

export function commitAll(repo: string, message: string): string {
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', message);
  return git(repo, 'rev-parse', 'HEAD').trim();
}

/**
 * A bare repository as the GitOps remote, with a first commit holding files that are not the
 * project's (they must never be touched). It refuses non-fast-forward updates and deletions,
 * as a protected branch would: a force-push by the publisher would fail the test.
 */
export function createRemote(dir: string, seed: Record<string, string> = { 'README.md': '# GitOps\n', 'other-app/deploy.yaml': 'kind: ConfigMap\n' }): string {
  const bare = join(dir, 'gitops.git');
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '--bare', '-b', 'main', bare);
  git(bare, 'config', 'receive.denyNonFastForwards', 'true');
  git(bare, 'config', 'receive.denyDeletes', 'true');
  if (Object.keys(seed).length) {
    const work = join(dir, 'seed');
    git(dir, 'clone', '-q', bare, work);
    for (const [path, content] of Object.entries(seed)) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), content);
    }
    commitAll(work, 'seed: files of other teams');
    git(work, 'push', '-q', 'origin', 'main');
    rmSync(work, { recursive: true, force: true });
  }
  return bare;
}

export function remoteHead(bare: string, branch = 'main'): string | undefined {
  const r = sh('git', ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], bare);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Every file of a commit of the remote, path -> content. */
export function filesAt(bare: string, ref = 'main'): Map<string, string> {
  const out = new Map<string, string>();
  const names = git(bare, 'ls-tree', '-r', '-z', '--name-only', ref).split('\0').filter(Boolean);
  // One process for all contents: cat-file --batch.
  const r = spawnSync('git', ['cat-file', '--batch'], { cwd: bare, input: names.map((n) => `${ref}:${n}`).join('\n') + '\n', maxBuffer: 64 * 1024 * 1024 });
  let buf = r.stdout;
  for (const name of names) {
    const nl = buf.indexOf(10);
    const size = Number(buf.subarray(0, nl).toString().split(' ')[2]);
    out.set(name, buf.subarray(nl + 1, nl + 1 + size).toString('utf8'));
    buf = buf.subarray(nl + 1 + size + 1);
  }
  return out;
}

/** Paths changed by one commit of the remote. */
export function changedPaths(bare: string, commit: string): string[] {
  return git(bare, 'diff-tree', '--no-commit-id', '--root', '-r', '--name-only', commit).split('\n').filter(Boolean).sort();
}

/** `npm run <script> -- args` in a checkout. */
export function npmRun(cwd: string, script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  return sh('npm', ['run', '--silent', script, '--', ...args], cwd, env);
}

/** The same, without waiting (two publishes racing). */
export function npmRunAsync(cwd: string, script: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('npm', ['run', '--silent', script, '--', ...args], { cwd, env: { ...process.env, ...GIT_ENV } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
  });
}

/** Every file below a folder with its mode (for "left exactly as it was"). */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else out[p] = `${(statSync(join(dir, p)).mode & 0o777).toString(8)} ${readFileSync(join(dir, p), 'utf8')}`;
    }
  };
  walk('');
  return out;
}

/**
 * A pre-receive hook for the bare remote that runs `script` once, before the first push it
 * sees is applied: "someone else pushed between this publish's read and its push". The script
 * runs with a clean environment (none of the receiving git's variables) and may push itself.
 */
export function raceHook(bare: string, marker: string, script: string): void {
  const hook = join(bare, 'hooks', 'pre-receive');
  writeFileSync(
    hook,
    [
      '#!/bin/sh',
      'cat >/dev/null',
      `[ -e '${marker}' ] && exit 0`,
      `touch '${marker}'`,
      `env -i PATH="$PATH" HOME="$HOME" ${Object.entries(GIT_ENV)
        .map(([k, v]) => `${k}='${v}'`)
        .join(' ')} sh -c '${script.replace(/'/g, `'\\''`)}' >'${marker}.log' 2>&1 || echo "race script failed: see ${marker}.log" >&2`,
      'exit 0',
      '',
    ].join('\n'),
  );
  chmodSync(hook, 0o755);
}

export function removeHook(bare: string): void {
  rmSync(join(bare, 'hooks', 'pre-receive'), { force: true });
}
