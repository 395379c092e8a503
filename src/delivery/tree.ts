import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { gitBuffer } from './git';
import type { Tree } from './object-diff';

/** Every file below `dir` (relative paths, '/'-separated, sorted), skipping `.git`. */
export function readTree(dir: string, only?: (topLevel: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (!rel && (entry.name === '.git' || (only && !only(entry.name)))) continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.set(path, readFileSync(join(dir, path), 'utf8'));
    }
  };
  walk('');
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Writes the files of a tree below `dir` (which may hold other files). */
export function writeTree(dir: string, tree: Tree): void {
  for (const [path, content] of tree) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/**
 * A scratch folder inside the checkout's build/ (git-ignored, on the same file system as dist/,
 * and on this kind of machine much faster to create files in than /tmp). Removed by the caller.
 */
export function scratchDir(root: string, prefix: string): string {
  const parent = join(root, 'build', 'delivery');
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(join(parent, `${prefix}-${process.pid}-`));
}

export const removeDir = (dir: string): void => rmSync(dir, { recursive: true, force: true });

/**
 * The files of one commit, extracted into `dir` (git archive; the repository and its work tree
 * are not touched), with the checkout's node_modules linked in so its synth can run.
 */
export function extractCommit(root: string, commit: string, dir: string, paths: readonly string[] = []): void {
  const archive = gitBuffer(['archive', '--format=tar', commit, ...(paths.length ? ['--', ...paths] : [])], { cwd: root });
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('tar', ['-x', '-f', '-', '-C', dir], { input: archive });
  if (r.status !== 0) throw new Error(`cannot extract ${commit}: ${r.stderr?.toString().trim() || r.error?.message}`);
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
}
