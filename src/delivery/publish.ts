import { join, resolve } from 'node:path';
import { replaceDir } from '../output/atomic-dir';
import { ARGOCD_DIR, chartName, environmentBranch, HELM_DIR } from '../output/layout';
import { applicationMismatches, type Layout, type PublishTarget } from './applications';
import { git, gitRaw, redactText, sourceRepository, uncommittedChanges, workTreeRoot } from './git';
import { commitMessage, contentHash, METADATA_FILE, parseMetadata, renderMetadata, type PublishMetadata } from './metadata';
import { environmentsOf, type Tree } from './object-diff';
import { backoffMs, classifyPush } from './push';
import { redactUrl } from './repo-url';
import { secretsIn } from './secrets';
import { synthCheckout } from './synth-run';
import { removeDir, scratchDir } from './tree';

export interface PublishOptions extends PublishTarget {
  /** The source checkout. */
  readonly root: string;
  readonly removeMissing: boolean;
  readonly allowDirty: boolean;
  readonly toolVersion: string;
  /** Push attempts before giving up on a repository that keeps moving. */
  readonly maxAttempts: number;
  /** The dist/ folder to refresh after a successful publish (as `npm run synth` would). */
  readonly distDir: string;
  readonly log: (line: string) => void;
}

export interface PublishResult {
  readonly status: 'published' | 'unchanged';
  /** Each branch written (or, unchanged, each branch's current commit). */
  readonly heads: Readonly<Record<string, string>>;
  readonly attempts: number;
}

/** A publish that cannot go ahead; nothing was pushed. */
export class PublishError extends Error {
  override name = 'PublishError';
}

/** One git entry: `<mode> <type> <object>` (as ls-tree prints it). */
interface Entry {
  readonly mode: string;
  readonly type: string;
  readonly sha: string;
}

/** What one branch of the GitOps repository gets. */
interface Plan {
  readonly branch: string;
  readonly files: ReadonlyMap<string, string>;
  /** Top-level folders this publish writes on this branch. */
  readonly owned: readonly string[];
  /** The branch's commit when the publish started (undefined: a new branch). */
  base?: string;
  baseEntries: Map<string, Entry>;
  /** path -> new entry (null: delete), relative to the base; the metadata file excluded. */
  changes: Map<string, Entry | null>;
  /** The metadata file's blob, and the commit message. */
  metadata: string;
  message: string;
}

const same = (a: Entry | null | undefined, b: Entry | null | undefined) => (a ?? null) === (b ?? null) || (!!a && !!b && a.sha === b.sha && a.mode === b.mode);
const under = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

/**
 * `npm run gitops-publish`. In order, and stopping at the first problem with nothing pushed:
 * the source is committed; the repository answers and has the branch; the synth succeeds;
 * no Secret; the Applications follow this repository, branch and layout; no environment
 * disappears without --remove-missing. Then, in a scratch clone, each owned folder is replaced
 * by the synth's, and the change is pushed (fast-forward only). When someone else pushed
 * first, the change is re-applied onto their commit, file by file: a file both changed
 * differently is a conflict, and the publish stops with the remote as it is.
 */
export function runPublish(o: PublishOptions): PublishResult {
  const root = workTreeRoot(o.root);
  if (!root) throw new PublishError(`${o.root} is not a git repository: a publish records its source commit`);
  const commit = git(['rev-parse', 'HEAD'], { cwd: root }).trim();
  const dirty = uncommittedChanges(root);
  if (dirty.length && !o.allowDirty) {
    throw new PublishError(
      `the source tree has uncommitted changes; they would be published under commit ${commit.slice(0, 12)}, which does not contain them:\n${dirty
        .slice(0, 10)
        .map((l) => `  ${l}`)
        .join('\n')}${dirty.length > 10 ? `\n  ... and ${dirty.length - 10} more` : ''}\ncommit them first, or give --allow-dirty (the publish then says so in its commit and metadata)`,
    );
  }

  const repo = localOrUrl(o.repo);
  const shownRepo = redactUrl(o.repo);
  const remoteHeads = lsRemote(repo, shownRepo);
  if (remoteHeads.size && !remoteHeads.has(o.branch)) {
    throw new PublishError(
      `branch ${JSON.stringify(o.branch)} does not exist in ${shownRepo} (it has: ${[...remoteHeads.keys()].sort().join(', ')}): give --branch with one of them, or create the branch first`,
    );
  }

  const scratch = scratchDir(root, 'publish');
  try {
    const distOut = join(scratch, 'dist');
    const tree = synthCheckout(root, distOut, 'the source tree');
    const secrets = secretsIn(tree);
    if (secrets.length) throw new PublishError(`refusing to publish Secret objects to a Git repository: ${secrets.join(', ')}`);
    const target: PublishTarget = { repo: o.repo, branch: o.branch, layout: o.layout };
    const mismatches = applicationMismatches(tree, target);
    if (mismatches.length) {
      throw new PublishError(`the Argo CD Applications would not follow what this publish writes:\n${mismatches.map((m) => `  ${m}`).join('\n')}`);
    }

    const clone = join(scratch, 'gitops');
    const cloned = gitRaw(['clone', '--quiet', '--no-checkout', '--', repo, clone], { cwd: scratch });
    if (cloned.status !== 0) throw new PublishError(`cannot clone ${shownRepo}: ${redactText(cloned.stderr.trim())}`);
    const run = (args: string[], input?: string, env?: NodeJS.ProcessEnv) => git(args, { cwd: clone, input, env });

    const environments = environmentsOf(tree);
    const plans = makePlans(tree, environments, o.layout, o.branch);
    const head = (branch: string) => {
      const r = gitRaw(['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}^{commit}`], { cwd: clone });
      return r.status === 0 ? r.stdout.trim() : undefined;
    };

    // The previous publish's record, on the branch that holds the shared folders.
    const mainBase = head(o.branch);
    const previous = mainBase ? readMetadata(clone, mainBase, `${shownRepo} ${o.branch}:${METADATA_FILE}`) : undefined;
    const missing = (previous?.environments ?? []).filter((e) => !environments.includes(e));
    if (missing.length && !o.removeMissing) {
      throw new PublishError(
        `${missing.map((e) => `environments/${e}.yaml`).join(', ')} no longer exist in the source, but ${shownRepo} still holds ${missing.join(', ')}: removing ${
          missing.length > 1 ? 'them' : 'it'
        } makes Argo CD delete the running relay, and with it any mail still queued. Drain the relay first (docs/RELIABILITY.md), then publish with --remove-missing; or restore the file(s).`,
      );
    }
    if (missing.length && o.layout === 'branches') {
      for (const e of missing) if (head(environmentBranch(e))) plans.push(emptyPlan(environmentBranch(e), [e]));
    }

    // Hash the synthesized files into the clone's object store once, with one git process.
    const paths = [...tree.keys()];
    const shas = run(['hash-object', '-w', '--no-filters', '--stdin-paths'], paths.map((p) => join(distOut, p)).join('\n') + '\n')
      .trim()
      .split('\n');
    const blob = new Map(paths.map((p, i) => [p, shas[i]!]));

    for (const plan of plans) {
      plan.base = head(plan.branch);
      plan.baseEntries = plan.base ? lsTree(clone, plan.base) : new Map();
      const prior = plan.base ? readMetadata(clone, plan.base, `${shownRepo} ${plan.branch}:${METADATA_FILE}`) : undefined;
      const clear = [...plan.owned, ...(prior?.paths ?? []), ...(o.removeMissing ? missing : [])];
      const desired = new Map([...plan.baseEntries].filter(([p]) => p !== METADATA_FILE && !clear.some((f) => under(p, f))));
      for (const path of plan.files.keys()) desired.set(path, { mode: '100644', type: 'blob', sha: blob.get(path)! });
      for (const path of new Set([...plan.baseEntries.keys(), ...desired.keys()])) {
        if (path === METADATA_FILE) continue;
        if (!same(plan.baseEntries.get(path), desired.get(path))) plan.changes.set(path, desired.get(path) ?? null);
      }
      const meta: PublishMetadata = {
        tool: 'email-server',
        toolVersion: o.toolVersion,
        sourceRepository: sourceRepository(root),
        sourceCommit: commit,
        sourceDirty: dirty.length > 0,
        contentHash: contentHash(tree),
        layout: o.layout,
        environments,
        paths: plan.owned,
      };
      plan.metadata = run(['hash-object', '-w', '--stdin'], renderMetadata(meta)).trim();
      plan.message = commitMessage({ meta, changed: changedEnvironments(plan.changes.keys(), environments), removed: o.removeMissing ? missing.filter((e) => [...plan.changes.keys()].some((p) => under(p, e))) : [] });
    }

    const identity = authorIdentity(clone);
    for (let attempt = 1; ; attempt++) {
      // Out-of-order CI runs: the repository already holds a publish of a later commit of this
      // source. Publishing this one would undo that commit's changes; a rollback is a revert
      // commit in the source, published like any other.
      const now = head(o.branch);
      const recorded = now ? readMetadata(clone, now, `${shownRepo} ${o.branch}:${METADATA_FILE}`)?.sourceCommit : undefined;
      if (!dirty.length && recorded && recorded !== commit && isAncestor(root, commit, recorded)) {
        o.log(`Nothing to publish: ${shownRepo} already holds a publish of ${recorded.slice(0, 12)}, a later commit that contains ${commit.slice(0, 12)}. (To roll back, revert in the source and publish that.)`);
        return { status: 'unchanged', heads: { [o.branch]: now! }, attempts: attempt };
      }
      const results = plans.map((plan) => {
        const now = head(plan.branch);
        return { plan, parent: now, commit: applyPlan(clone, plan, now, join(scratch, `index-${attempt}`), identity, shownRepo) };
      });
      const toPush = results.filter((r) => r.commit);
      if (!toPush.length) {
        const heads = Object.fromEntries(results.filter((r) => r.parent).map((r) => [r.plan.branch, r.parent!]));
        refreshDist(o, tree);
        return { status: 'unchanged', heads, attempts: attempt };
      }
      const refspecs = toPush.map((r) => `${r.commit}:refs/heads/${r.plan.branch}`);
      const pushed = gitRaw(['push', '--porcelain', ...(refspecs.length > 1 ? ['--atomic'] : []), 'origin', ...refspecs], { cwd: clone });
      if (pushed.status === 0) {
        refreshDist(o, tree);
        return { status: 'published', heads: Object.fromEntries(toPush.map((r) => [r.plan.branch, r.commit!])), attempts: attempt };
      }
      const said = redactText(`${pushed.stdout}\n${pushed.stderr}`.trim());
      if (classifyPush(said) !== 'moved') throw new PublishError(`git push to ${shownRepo} failed; nothing was published:\n${said}`);
      if (attempt >= o.maxAttempts) {
        throw new PublishError(`${shownRepo} changed under every one of ${attempt} attempts (others keep publishing); nothing was published. Run the publish again.`);
      }
      o.log(`${shownRepo} changed since it was read (someone else published); fetching and re-applying (attempt ${attempt + 1} of ${o.maxAttempts})`);
      sleep(backoffMs(attempt + 1));
      const fetched = gitRaw(['fetch', '--quiet', '--prune', 'origin', '+refs/heads/*:refs/remotes/origin/*'], { cwd: clone });
      if (fetched.status !== 0) throw new PublishError(`cannot fetch ${shownRepo}: ${redactText(fetched.stderr.trim())}; nothing was published`);
    }
  } finally {
    removeDir(scratch);
  }
}

/** The branches a layout writes, and what goes on each. */
function makePlans(tree: Tree, environments: readonly string[], layout: Layout, branch: string): Plan[] {
  const plan = (b: string, owned: string[]): Plan => ({
    branch: b,
    owned,
    files: new Map([...tree].filter(([p]) => owned.some((f) => under(p, f)))),
    baseEntries: new Map(),
    changes: new Map(),
    metadata: '',
    message: '',
  });
  if (layout === 'folders') return [plan(branch, [...environments, ARGOCD_DIR, HELM_DIR])];
  return [plan(branch, [ARGOCD_DIR, HELM_DIR]), ...environments.map((e) => plan(environmentBranch(e), [e]))];
}

function emptyPlan(branch: string, owned: string[]): Plan {
  return { branch, owned, files: new Map(), baseEntries: new Map(), changes: new Map(), metadata: '', message: '' };
}

/**
 * The commit that puts the plan's changes on top of `parent` (the branch as it is now), or
 * undefined when that changes nothing but the metadata. Throws PublishError on a conflict:
 * a file that both this publish and the branch's newer commits changed, differently.
 */
function applyPlan(clone: string, plan: Plan, parent: string | undefined, indexFile: string, identity: NodeJS.ProcessEnv, shownRepo: string): string | undefined {
  const current = parent === plan.base ? plan.baseEntries : parent ? lsTree(clone, parent) : new Map<string, Entry>();
  const next = new Map(current);
  next.delete(METADATA_FILE);
  const conflicts: string[] = [];
  for (const [path, ours] of plan.changes) {
    const theirs = current.get(path);
    if (same(theirs, plan.baseEntries.get(path))) {
      if (ours) next.set(path, ours);
      else next.delete(path);
    } else if (!same(theirs, ours)) conflicts.push(path);
  }
  if (conflicts.length) {
    const by = parent ? git(['log', '-1', '--format=%h %an: %s', parent], { cwd: clone }).trim() : '';
    throw new PublishError(
      `conflict: ${shownRepo} ${plan.branch} changed since this publish read it (now at ${by}), and these files were changed there differently:\n${conflicts
        .slice(0, 20)
        .map((p) => `  ${p}`)
        .join('\n')}${conflicts.length > 20 ? `\n  ... and ${conflicts.length - 20} more` : ''}\nNothing was pushed. Look at that commit; publish again once the repository is as it should be.`,
    );
  }
  const withoutMeta = new Map(current);
  withoutMeta.delete(METADATA_FILE);
  if (next.size === withoutMeta.size && [...next].every(([p, e]) => same(withoutMeta.get(p), e))) return undefined;
  next.set(METADATA_FILE, { mode: '100644', type: 'blob', sha: plan.metadata });

  const env = { GIT_INDEX_FILE: indexFile, ...identity };
  git(['read-tree', '--empty'], { cwd: clone, env });
  const records = [...next].map(([p, e]) => `${e.mode} ${e.type} ${e.sha}\t${p}\0`).join('');
  git(['update-index', '-z', '--index-info'], { cwd: clone, env, input: records });
  const treeSha = git(['write-tree'], { cwd: clone, env }).trim();
  return git(['commit-tree', treeSha, ...(parent ? ['-p', parent] : []), '-F', '-'], { cwd: clone, env, input: plan.message }).trim();
}

/** True when `older` is a proper ancestor of `newer` in the source (unknown commits: false). */
function isAncestor(root: string, older: string, newer: string): boolean {
  if (gitRaw(['cat-file', '-e', `${newer}^{commit}`], { cwd: root }).status !== 0) return false;
  return gitRaw(['merge-base', '--is-ancestor', older, newer], { cwd: root }).status === 0;
}

function lsTree(clone: string, commit: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const record of git(['ls-tree', '-r', '-z', '--full-tree', commit], { cwd: clone }).split('\0')) {
    if (!record) continue;
    const tab = record.indexOf('\t');
    const [mode, type, sha] = record.slice(0, tab).split(' ') as [string, string, string];
    out.set(record.slice(tab + 1), { mode, type, sha });
  }
  return out;
}

function readMetadata(clone: string, commit: string, where: string): PublishMetadata | undefined {
  const r = gitRaw(['cat-file', '-p', `${commit}:${METADATA_FILE}`], { cwd: clone });
  if (r.status !== 0) return undefined;
  try {
    return parseMetadata(r.stdout, where);
  } catch (err) {
    throw new PublishError((err as Error).message);
  }
}

/** Environments a set of changed paths touches: their folder, their Application, their chart. */
function changedEnvironments(paths: Iterable<string>, environments: readonly string[]): string[] {
  const touched = new Set<string>();
  for (const p of paths) {
    const [top, second] = p.split('/');
    for (const e of environments) {
      if (top === e || (top === ARGOCD_DIR && second === e) || (top === HELM_DIR && second === chartName(e))) touched.add(e);
    }
  }
  return [...touched].sort();
}

/** `--repo ../gitops.git` means a path relative to where the command runs, not to the scratch clone. */
function localOrUrl(repo: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo)) return repo;
  if (/^[^/]+@[^/:]+:/.test(repo) || /^[^/.][^/:]*:[^/]/.test(repo)) return repo; // scp-like ssh
  return resolve(repo);
}

/** The repository's branches (name -> commit); a clear error when it cannot be reached. */
function lsRemote(repo: string, shown: string): Map<string, string> {
  const r = gitRaw(['ls-remote', '--heads', '--', repo], { cwd: process.cwd() });
  if (r.status !== 0) {
    throw new PublishError(`cannot reach the GitOps repository ${shown}: ${redactText(r.stderr.trim()) || `git ls-remote exited ${r.status}`}`);
  }
  const heads = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^([0-9a-f]+)\trefs\/heads\/(.+)$/.exec(line);
    if (m) heads.set(m[2]!, m[1]!);
  }
  return heads;
}

/** CI machines often have no git identity: commit as the publisher then, rather than fail. */
function authorIdentity(clone: string): NodeJS.ProcessEnv {
  if (gitRaw(['var', 'GIT_AUTHOR_IDENT'], { cwd: clone }).status === 0 && gitRaw(['var', 'GIT_COMMITTER_IDENT'], { cwd: clone }).status === 0) return {};
  const name = 'email-server gitops-publish';
  const email = 'gitops-publish@email-server.invalid';
  return { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email };
}

/** After a publish (or when there was nothing to publish), dist/ holds what the repository holds. */
function refreshDist(o: PublishOptions, tree: Tree): void {
  replaceDir(resolve(o.root, o.distDir), tree);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
