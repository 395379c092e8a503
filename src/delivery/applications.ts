import { parse } from 'yaml';
import { ARGOCD_DIR, environmentBranch } from '../output/layout';
import { normaliseRepoUrl, redactUrl } from './repo-url';
import type { Tree } from './object-diff';

export type Layout = 'folders' | 'branches';

export interface PublishTarget {
  /** --repo as given (a URL or a path). */
  readonly repo: string;
  /** --branch: where the folders layout writes everything, and the branches layout the shared folders. */
  readonly branch: string;
  readonly layout: Layout;
}

/** Where a publish to `target` puts an environment: the branch and the folder. */
export function placement(env: string, target: PublishTarget): { branch: string; path: string } {
  return { branch: target.layout === 'branches' ? environmentBranch(env) : target.branch, path: env };
}

/**
 * The Argo CD Applications of a synthesized tree, checked against the publish target: each
 * must follow the repository, branch and folder this publish writes its environment to, or
 * Argo CD would never see what is published (or would sync another environment's folder).
 * Returns one message per mismatch, naming the environment file and field.
 */
export function applicationMismatches(tree: Tree, target: PublishTarget, cwd = process.cwd()): string[] {
  const problems: string[] = [];
  const want = normaliseRepoUrl(target.repo, cwd);
  for (const [path, content] of tree) {
    const parts = path.split('/');
    if (parts[0] !== ARGOCD_DIR || parts.length !== 3 || !path.endsWith('.yaml')) continue;
    const env = parts[1]!;
    const app = parse(content) as { kind?: string; spec?: { source?: { repoURL?: string; path?: string; targetRevision?: string } } };
    if (app?.kind !== 'Application') continue;
    const source = app.spec?.source ?? {};
    const file = `environments/${env}.yaml`;
    const { branch, path: folder } = placement(env, target);
    if (normaliseRepoUrl(String(source.repoURL ?? ''), cwd) !== want) {
      problems.push(
        `${file}: argocd.repoURL: the ${env} Application follows ${JSON.stringify(redactUrl(String(source.repoURL)))}, but this publish writes to ${JSON.stringify(redactUrl(target.repo))}: set argocd.repoURL to the repository you publish to (or publish to the one it names)`,
      );
    }
    if (source.path !== folder) {
      problems.push(`${file}: argocd.path: the ${env} Application reads ${JSON.stringify(source.path)}, but this publish writes ${env} to ${JSON.stringify(folder)}`);
    }
    if (source.targetRevision !== branch) {
      const fix =
        target.layout === 'branches'
          ? 'set argocd.layout: branches (and leave argocd.targetRevision out)'
          : source.targetRevision === environmentBranch(env)
            ? 'the environment uses argocd.layout: branches: publish with --layout branches'
            : `set argocd.targetRevision: ${branch}, or publish with --branch ${source.targetRevision}`;
      problems.push(
        `${file}: argocd.targetRevision: the ${env} Application follows ${JSON.stringify(source.targetRevision)}, but this publish (--layout ${target.layout}) writes ${env} to branch ${JSON.stringify(branch)}: ${fix}`,
      );
    }
  }
  return problems;
}
