import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Writes `files` (relative path -> content) as the new content of `outdir`, all or nothing.
 *
 * Everything is written into a sibling folder first (same file system, so renames are cheap and
 * atomic). Only when it is complete is the old folder moved aside and the new one renamed into
 * place; the old one is deleted last. On any error the temporary folder is removed and
 * `outdir` is left exactly as it was. Between the two renames `outdir` is briefly absent: Node
 * has no atomic directory exchange, and a reader that needs one should read a copy.
 */
export function replaceDir(outdir: string, files: ReadonlyMap<string, string>): void {
  const target = resolve(outdir);
  const parent = dirname(target);
  const tag = `${process.pid}`;
  const staging = join(parent, `${basename(target)}.tmp-${tag}`);
  const previous = join(parent, `${basename(target)}.old-${tag}`);

  mkdirSync(parent, { recursive: true });
  rmSync(staging, { recursive: true, force: true });
  try {
    mkdirSync(staging);
    const made = new Set([staging]); // one mkdir per folder, not per file
    for (const [path, content] of files) {
      if (path.startsWith('/') || path.split('/').includes('..')) throw new Error(`refusing to write outside ${outdir}: ${path}`);
      const full = join(staging, path);
      const dir = dirname(full);
      if (!made.has(dir)) {
        mkdirSync(dir, { recursive: true });
        made.add(dir);
      }
      writeFileSync(full, content);
    }
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }

  rmSync(previous, { recursive: true, force: true });
  const hadPrevious = existsSync(target);
  try {
    if (hadPrevious) renameSync(target, previous);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  try {
    renameSync(staging, target);
  } catch (err) {
    if (hadPrevious) renameSync(previous, target);
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  rmSync(previous, { recursive: true, force: true });
  removeLeftovers(parent, basename(target));
}

/** Temporary folders of earlier runs that were killed before they could clean up. */
function removeLeftovers(parent: string, base: string): void {
  const pattern = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(tmp|old)-(\\d+)$`);
  for (const name of readdirSync(parent)) {
    const pid = pattern.exec(name)?.[2];
    if (pid && !isRunning(Number(pid))) rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
