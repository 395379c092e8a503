import { createHash } from 'node:crypto';
import type { Tree } from './object-diff';

/**
 * The publish record: written at the root of each branch gitops-publish writes, outside every
 * folder that `kubectl apply -f` or Argo CD reads, and with an extension neither reads (a
 * `.json` or `.yaml` file inside an environment folder would be applied as a manifest).
 */
export const METADATA_FILE = 'email-server.metadata';

export interface PublishMetadata {
  readonly tool: string;
  readonly toolVersion: string;
  /** Where the source came from (credentials removed). */
  readonly sourceRepository: string;
  readonly sourceCommit: string;
  /** True only with --allow-dirty and uncommitted changes. */
  readonly sourceDirty: boolean;
  /** sha256 of the synthesized files this publish wrote (contentHash()). */
  readonly contentHash: string;
  readonly layout: 'folders' | 'branches';
  /** Every environment of the source, whichever branch holds it. */
  readonly environments: readonly string[];
  /** The top-level folders of this branch that the project owns and replaces on each publish. */
  readonly paths: readonly string[];
}

/**
 * A digest of a set of files that depends only on their paths and contents: sorted by path,
 * each as `path NUL length NUL content`, so no two different sets hash alike by shifting
 * bytes between a name and a content.
 */
export function contentHash(tree: Tree): string {
  const hash = createHash('sha256');
  for (const path of [...tree.keys()].sort()) {
    const content = Buffer.from(tree.get(path)!, 'utf8');
    hash.update(`${path}\0${content.length}\0`);
    hash.update(content);
  }
  return `sha256:${hash.digest('hex')}`;
}

/** The metadata file's text: JSON, keys in a fixed order, one trailing newline. */
export function renderMetadata(m: PublishMetadata): string {
  const ordered: PublishMetadata = {
    tool: m.tool,
    toolVersion: m.toolVersion,
    sourceRepository: m.sourceRepository,
    sourceCommit: m.sourceCommit,
    sourceDirty: m.sourceDirty,
    contentHash: m.contentHash,
    layout: m.layout,
    environments: [...m.environments].sort(),
    paths: [...m.paths].sort(),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** Reads a metadata file written by an earlier publish; throws naming the file on anything else. */
export function parseMetadata(text: string, where: string): PublishMetadata {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: is not the JSON gitops-publish writes (${(err as Error).message}); fix or delete it`);
  }
  const m = data as Record<string, unknown>;
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string' && /^[a-z0-9][-a-z0-9]*$/.test(x));
  if (typeof m !== 'object' || m === null || !strings(m.environments) || !strings(m.paths)) {
    throw new Error(`${where}: must hold "environments" and "paths" (lists of folder names) as gitops-publish writes them; fix or delete it`);
  }
  return m as unknown as PublishMetadata;
}

export interface CommitInfo {
  readonly meta: PublishMetadata;
  /** Environments whose files this commit changes. */
  readonly changed: readonly string[];
  /** Environments whose folder this commit deletes (--remove-missing). */
  readonly removed: readonly string[];
}

/**
 * The commit message: a subject a reviewer can scan in `git log --oneline`, and the source
 * recorded as trailers (`git log --format=%(trailers)` reads them).
 */
export function commitMessage({ meta, changed, removed }: CommitInfo): string {
  const what = [changed.length ? `update ${changed.join(', ')}` : '', removed.length ? `remove ${removed.join(', ')}` : ''].filter(Boolean).join('; ') || 'update shared files';
  const subject = `email-server: ${what} (source ${meta.sourceCommit.slice(0, 12)}${meta.sourceDirty ? ', uncommitted changes' : ''})`;
  return [
    subject,
    '',
    `Published by npm run gitops-publish from ${meta.sourceRepository}.`,
    '',
    `Source-Repository: ${meta.sourceRepository}`,
    `Source-Commit: ${meta.sourceCommit}${meta.sourceDirty ? ' (with uncommitted changes)' : ''}`,
    `Content-Hash: ${meta.contentHash}`,
    `Tool-Version: ${meta.tool} ${meta.toolVersion}`,
    '',
  ].join('\n');
}
