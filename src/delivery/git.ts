import { spawnSync } from 'node:child_process';
import { redactUrl } from './repo-url';

/** A git command that failed: its arguments (credentials removed), exit status and stderr. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly status: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.map(redactUrl).join(' ')} failed (exit ${status ?? 'signal'}): ${redactText(stderr.trim()) || 'no message'}`);
    this.name = 'GitError';
  }
}

/** Credentials embedded in URLs inside free text (git echoes the remote in its errors). */
export function redactText(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, (url) => redactUrl(url));
}

export interface GitOptions {
  readonly cwd: string;
  readonly input?: string | Buffer;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The environment every git call runs in: never prompts for a password (an unreachable or
 * private repository fails instead of hanging CI), never asks ssh to confirm a host key, and
 * speaks English so that a rejected push can be recognised.
 */
function gitEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    LC_ALL: 'C',
    LANGUAGE: 'C',
    ...extra,
  };
}

/** Runs git; returns stdout; throws GitError on a non-zero exit. */
export function git(args: readonly string[], options: GitOptions): string {
  const r = gitRaw(args, options);
  if (r.status !== 0) throw new GitError(args, r.status, r.stderr);
  return r.stdout;
}

/** Runs git and returns its status and output whatever the exit. */
export function gitRaw(args: readonly string[], options: GitOptions): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('git', args, {
    cwd: options.cwd,
    input: options.input,
    env: gitEnv(options.env),
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  if (r.error) throw new Error(`cannot run git: ${r.error.message} (is git installed?)`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same as git(), with binary stdout (git archive). */
export function gitBuffer(args: readonly string[], options: GitOptions): Buffer {
  const r = spawnSync('git', args, { cwd: options.cwd, env: gitEnv(options.env), maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw new Error(`cannot run git: ${r.error.message} (is git installed?)`);
  if (r.status !== 0) throw new GitError(args, r.status, r.stderr.toString('utf8'));
  return r.stdout;
}

/** The top of the work tree that holds `dir`, or undefined outside a git repository. */
export function workTreeRoot(dir: string): string | undefined {
  const r = gitRaw(['rev-parse', '--show-toplevel'], { cwd: dir });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Uncommitted changes (tracked and untracked, not ignored), as `git status --porcelain` lines. */
export function uncommittedChanges(root: string): string[] {
  return git(['status', '--porcelain', '--untracked-files=all'], { cwd: root })
    .split('\n')
    .filter(Boolean);
}

/** The source repository as recorded in metadata: the origin remote's URL without credentials, or the local path. */
export function sourceRepository(root: string): string {
  const r = gitRaw(['remote', 'get-url', 'origin'], { cwd: root });
  return r.status === 0 && r.stdout.trim() ? redactUrl(r.stdout.trim()) : `file://${root}`;
}

/** The full commit id a ref names; throws a message a user can act on when it names none. */
export function resolveCommit(root: string, ref: string): string {
  const r = gitRaw(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { cwd: root });
  if (r.status !== 0 || !r.stdout.trim()) throw new Error(`"${ref}" names no commit in ${root} (a branch, tag or commit id; fetch it first if it exists only on a remote)`);
  return r.stdout.trim();
}
