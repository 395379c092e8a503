import { isAbsolute, resolve } from 'node:path';

/**
 * Git repository addresses as people write them, reduced to one comparable form, so that an
 * Application's `repoURL` (https) and the `--repo` CI pushes to (ssh, or https with a token)
 * are recognised as the same repository:
 *
 *   https://github.com/org/repo.git, git@github.com:org/repo, ssh://git@github.com/org/repo/,
 *   https://x-access-token:TOKEN@GitHub.com/org/repo      ->  github.com/org/repo
 *   /srv/git/gitops.git, file:///srv/git/gitops.git       ->  file:///srv/git/gitops
 *
 * Credentials, the user, the scheme, default ports, a trailing `.git` and `/` are dropped; the
 * host is lower-cased (paths keep their case: most servers treat them as case-sensitive).
 */
export function normaliseRepoUrl(url: string, cwd = process.cwd()): string {
  const text = url.trim();
  // scp-like syntax: [user@]host:path (no scheme, a colon before any slash)
  const scp = /^(?:[^@/:]+@)?([^/:]+):(?!\/\/)(.*)$/.exec(text);
  if (scp && !/^[A-Za-z]:[\\/]/.test(text) && !text.startsWith('/') && !text.startsWith('.')) {
    return `${scp[1]!.toLowerCase()}/${trimPath(scp[2]!)}`;
  }
  const parsed = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(text);
  if (!parsed) return `file://${trimPath(resolve(cwd, text))}`;
  const scheme = parsed[1]!.toLowerCase();
  if (scheme === 'file') return `file://${trimPath(decodeURIComponent(parsed[2]!.replace(/^localhost(?=\/)/, '')))}`;
  const rest = parsed[2]!;
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1).toLowerCase();
  const host = hostPort.replace(/:(22|80|443|9418)$/, '');
  return `${host}/${trimPath(path)}`;
}

function trimPath(path: string): string {
  return path.replace(/\/+$/, '').replace(/\.git$/, '').replace(/\/+$/, '').replace(/^\/+(?=.)/, isAbsolute(path) ? '/' : '');
}

/**
 * The address with its credentials replaced, for messages, logs and metadata. Over http(s)
 * any user part may be a token (`https://<token>@github.com/...` works), so all of it goes; over
 * ssh the user (`git@`) is kept and only a password removed.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@/i, (_, scheme: string, userinfo: string) => {
    if (/^https?:\/\/$/i.test(scheme) || userinfo.includes(':')) return `${scheme}***@`;
    return `${scheme}${userinfo}@`;
  });
}

/** True when the address names a repository on this machine (a path or file://). */
export function isLocalRepo(url: string): boolean {
  return normaliseRepoUrl(url).startsWith('file://');
}
