import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ARGOCD_DIR, HELM_DIR, KUSTOMIZATION_FILE } from '../output/layout';
import { gitRaw, resolveCommit, workTreeRoot } from './git';
import { METADATA_FILE, parseMetadata } from './metadata';
import { diffTrees, environmentsOf, hasChanges, type DiffReport } from './object-diff';
import { renderMarkdown, renderText } from './report';
import { synthCheckout } from './synth-run';
import { extractCommit, readTree, removeDir, scratchDir } from './tree';

export interface DiffOptions {
  /** The checkout whose working tree is compared. */
  readonly root: string;
  /** A git ref to compare with (default: the merge base with main). */
  readonly base?: string;
  /** A folder of published output to compare with instead (a GitOps checkout). */
  readonly against?: string;
  readonly format: 'text' | 'markdown';
  /** Progress and warnings. */
  readonly log: (line: string) => void;
}

export interface DiffResult {
  readonly report: DiffReport;
  readonly output: string;
  readonly changed: boolean;
}

/** The branch a pull request merges into, tried in this order when no --base is given. */
const MAIN_REFS = ['main', 'origin/main'];

/**
 * Compares the working tree's synth with a base, in scratch folders: dist/ is never touched.
 */
export function runDiff(options: DiffOptions): DiffResult {
  const root = options.root;
  const scratch = scratchDir(root, 'diff');
  try {
    let base: Map<string, string>;
    let comparedWith: string;
    let owned: string[] | undefined;
    // The base first: a wrong --base or --against is reported before any synth runs.
    if (options.against !== undefined) {
      const dir = resolve(options.against);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--against ${options.against}: no such folder (give a checkout of the GitOps repository, or a dist/ folder)`);
      ({ tree: base, environments: owned } = publishedOutput(dir));
      comparedWith = `the published output in ${options.against}`;
    } else {
      if (!workTreeRoot(root)) throw new Error(`${root} is not a git repository: give --against <folder> to compare with published output`);
      const { commit, label } = baseCommit(root, options.base);
      const checkout = join(scratch, 'base');
      if (process.env.EMAIL_SERVER_ENVIRONMENTS_DIR === undefined && sameCode(root, commit)) {
        // Only environment files differ: the base's environments through this checkout's synth
        // (and its cached bundle) give exactly what the base's own synth would.
        extractCommit(root, commit, checkout, ['environments']);
        base = synthCheckout(root, join(scratch, 'base-out'), `the base ${label}`, join(checkout, 'environments'));
      } else {
        extractCommit(root, commit, checkout);
        if (lockfileOf(root) !== lockfileOf(checkout)) {
          options.log(`warning: package-lock.json differs from ${label}: the base is synthesized with this checkout's node_modules, so output changes that come only from a dependency update are not shown.`);
        }
        base = synthCheckout(checkout, join(scratch, 'base-out'), `the base ${label}`);
      }
      comparedWith = label;
    }
    const head = synthCheckout(root, join(scratch, 'head-out'), 'the working tree');
    const environments = owned ? [...new Set([...owned, ...environmentsOf(head)])] : undefined;
    const report = diffTrees(base, head, environments);
    const output =
      options.format === 'markdown' ? renderMarkdown(report, { comparedWith: markdownLabel(comparedWith) }) : renderText(report, comparedWith);
    return { report, output, changed: hasChanges(report) };
  } finally {
    removeDir(scratch);
  }
}

function markdownLabel(label: string): string {
  return label.replace(/^the base /, '');
}

function baseCommit(root: string, ref: string | undefined): { commit: string; label: string } {
  if (ref !== undefined) {
    const commit = resolveCommit(root, ref);
    return { commit, label: `${ref} (${commit.slice(0, 12)})` };
  }
  for (const main of MAIN_REFS) {
    if (gitRaw(['rev-parse', '--verify', '--quiet', `${main}^{commit}`], { cwd: root }).status !== 0) continue;
    const r = gitRaw(['merge-base', 'HEAD', main], { cwd: root });
    if (r.status !== 0) throw new Error(`HEAD and ${main} have no common commit: give --base <ref>`);
    const commit = r.stdout.trim();
    return { commit, label: `the merge base with ${main} (${commit.slice(0, 12)})` };
  }
  throw new Error(`there is no ${MAIN_REFS.join(' or ')} to compare with: give --base <ref> (e.g. --base origin/develop) or --against <folder>`);
}

/** Everything the synth's output depends on but the environment files (scripts/synth.cjs SOURCES). */
const CODE = ['src', 'imports', 'package.json', 'package-lock.json', 'scripts/synth.cjs', 'scripts/lazy-re2.cjs'];

/** True when the working tree's synth code is the commit's (tracked changes and new files alike). */
function sameCode(root: string, commit: string): boolean {
  const tracked = gitRaw(['diff', '--quiet', commit, '--', ...CODE], { cwd: root }).status === 0;
  return tracked && gitRaw(['ls-files', '--others', '--exclude-standard', '--', ...CODE], { cwd: root }).stdout.trim() === '';
}

function lockfileOf(dir: string): string {
  try {
    return readFileSync(join(dir, 'package-lock.json'), 'utf8');
  } catch {
    return '';
  }
}

/**
 * The folders of a published tree that this project owns: those its metadata file lists, or,
 * without one, the shared folders and every folder whose Kustomization the synth wrote for it.
 * Anything else in a GitOps repository belongs to someone else and is not compared.
 */
export function publishedOutput(dir: string): { tree: Map<string, string>; environments: string[] } {
  let environments: string[];
  const metadataPath = join(dir, METADATA_FILE);
  if (existsSync(metadataPath)) {
    environments = [...parseMetadata(readFileSync(metadataPath, 'utf8'), metadataPath).environments];
  } else {
    const all = readTree(dir);
    // The synth's Kustomization names the environment file it came from.
    environments = environmentsOf(all).filter((e) => (all.get(`${e}/${KUSTOMIZATION_FILE}`) ?? '').includes(`Generated by \`npm run synth\` from environments/${e}.yaml`));
  }
  const owned = new Set([...environments, ARGOCD_DIR, HELM_DIR]);
  return { tree: readTree(dir, (top) => owned.has(top)), environments };
}
