import { statSync } from 'node:fs';
import { normaliseRepoUrl } from '../delivery/repo-url';
import { applicationRevision } from '../output/argocd';
import { environmentBranch } from '../output/layout';
import type { ConfigProblem } from './load';
import type { EnvironmentConfig } from './schema';

/** An environment as the loader read it: its file, as shown to the user and as read. */
export interface LoadedEnvironment {
  readonly env: EnvironmentConfig;
  /** The path shown in messages. */
  readonly file: string;
  /** The path to read (for the file's modification time). */
  readonly path: string;
}

/**
 * Checks that need every environment at once: namespaces, and the Argo CD Applications against
 * each other and against the layout `npm run gitops-publish` writes.
 */
export function crossEnvironmentProblems(loaded: readonly LoadedEnvironment[]): ConfigProblem[] {
  return [...namespaceProblems(loaded), ...argocdProblems(loaded)];
}

/**
 * Of two files that clash, the one that introduced the clash: the one changed last (a copied
 * or edited file is younger than the one it collides with); on equal times, the later name.
 */
function byAge(loaded: readonly LoadedEnvironment[]): LoadedEnvironment[] {
  const mtime = new Map(loaded.map((l) => [l, statSync(l.path, { throwIfNoEntry: false, bigint: true })?.mtimeNs ?? 0n]));
  return [...loaded].sort((a, b) => {
    const d = mtime.get(a)! - mtime.get(b)!;
    return d < 0n ? -1 : d > 0n ? 1 : a.env.name < b.env.name ? -1 : 1;
  });
}

/** Groups by a key, keeping only groups with more than one member, oldest member first. */
function clashes(loaded: readonly LoadedEnvironment[], key: (l: LoadedEnvironment) => string | undefined): LoadedEnvironment[][] {
  const groups = new Map<string, LoadedEnvironment[]>();
  for (const l of loaded) {
    const k = key(l);
    if (k !== undefined) groups.set(k, [...(groups.get(k) ?? []), l]);
  }
  return [...groups.values()].filter((g) => g.length > 1).map(byAge);
}

function namespaceProblems(loaded: readonly LoadedEnvironment[]): ConfigProblem[] {
  return clashes(loaded, (l) => l.env.namespace).flatMap(([first, ...later]) =>
    later.map((l) => ({
      file: l.file,
      path: 'namespace',
      value: l.env.namespace,
      message: `is already used by ${first!.file} (environment "${first!.env.name}"): each environment needs a namespace of its own`,
    })),
  );
}

function argocdProblems(loaded: readonly LoadedEnvironment[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const apps = loaded.filter((l) => l.env.argocd.enabled);
  const byName = new Map(loaded.map((l) => [l.env.name, l]));

  // The folder: gitops-publish writes dist/<env>/ to <env>/ on the branch the layout gives, so
  // any other path is a folder it never writes, or another environment's folder (two
  // Applications, one of them pruning, syncing the same manifests into two namespaces).
  for (const { env, file } of apps) {
    const path = env.argocd.path;
    if (path === undefined || path === env.name) continue;
    const owner = byName.get(path);
    problems.push({
      file,
      path: 'argocd.path',
      value: path,
      message: owner
        ? `is the folder of ${owner.file}: the ${env.name} Application would sync ${owner.env.name}'s manifests into ${env.namespace}. Leave argocd.path out: it defaults to the environment name ("${env.name}")`
        : `must be "${env.name}", the folder npm run gitops-publish writes this environment to (leave it out: that is the default)`,
    });
  }

  for (const { env, file } of apps) {
    const branch = environmentBranch(env.name);
    if (env.argocd.layout === 'branches' && env.argocd.targetRevision !== undefined && env.argocd.targetRevision !== branch) {
      problems.push({
        file,
        path: 'argocd.targetRevision',
        value: env.argocd.targetRevision,
        message: `must be "${branch}" with argocd.layout: branches, the branch npm run gitops-publish --layout branches writes this environment to (leave it out: that is the default)`,
      });
    }
  }

  // One publish writes every environment of a repository with one layout, and (folders layout)
  // to one branch: an Application following anything else would never see a publish.
  const repo = (l: LoadedEnvironment) => normaliseRepoUrl(l.env.argocd.repoURL);
  for (const [first, ...later] of clashes(apps, repo)) {
    for (const l of later) {
      if (l.env.argocd.layout !== first!.env.argocd.layout) {
        problems.push({
          file: l.file,
          path: 'argocd.layout',
          value: l.env.argocd.layout,
          message: `differs from "${first!.env.argocd.layout}" in ${first!.file}, which publishes to the same repository: npm run gitops-publish writes every environment of a repository with one layout`,
        });
      } else if (l.env.argocd.layout === 'folders' && applicationRevision(l.env) !== applicationRevision(first!.env)) {
        problems.push({
          file: l.file,
          path: 'argocd.targetRevision',
          value: applicationRevision(l.env),
          message: `differs from "${applicationRevision(first!.env)}" in ${first!.file}, which publishes to the same repository: with the folders layout npm run gitops-publish writes every environment to one branch (argocd.layout: branches gives each environment its own)`,
        });
      }
    }
  }
  return problems;
}
