import { gzipSync } from 'node:zlib';
import { Header, Pax } from 'tar';
import type { Tree } from './object-diff';

/** One entry of the archive, with everything that could differ between machines fixed. */
export interface TarEntry {
  readonly path: string;
  readonly type: 'Directory' | 'File';
  readonly mode: number;
  readonly content: Buffer;
}

export const FILE_MODE = 0o644;
export const DIR_MODE = 0o755;

/**
 * The entries of a tree, normalised: every parent folder listed before its contents, sorted
 * by the bytes of the path, regular files 0644 and folders 0755 whatever the umask or the
 * file system said. Owners and times are set when the entries are written (tarBytes).
 */
export function normaliseEntries(tree: Tree): TarEntry[] {
  const entries = new Map<string, TarEntry>();
  for (const [path, content] of tree) {
    if (!path || path.startsWith('/') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
      throw new Error(`refusing to archive the path ${JSON.stringify(path)}: only relative paths below the output folder`);
    }
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = `${parts.slice(0, i).join('/')}/`;
      if (!entries.has(dir)) entries.set(dir, { path: dir, type: 'Directory', mode: DIR_MODE, content: Buffer.alloc(0) });
    }
    entries.set(path, { path, type: 'File', mode: FILE_MODE, content: Buffer.from(content, 'utf8') });
  }
  return [...entries.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/**
 * A POSIX (ustar) archive of the entries: owner and group 0 with empty names, every time
 * `mtime` (whole seconds). A path too long for ustar gets a pax header holding only the path.
 */
export function tarBytes(entries: readonly TarEntry[], mtime: Date): Buffer {
  const seconds = new Date(Math.floor(mtime.getTime() / 1000) * 1000);
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = { path: e.path, mode: e.mode, uid: 0, gid: 0, uname: '', gname: '', size: e.content.length, mtime: seconds, type: e.type } as const;
    const header = new Header(data);
    const block = Buffer.alloc(512);
    if (header.encode(block, 0)) {
      blocks.push(new Pax({ path: e.path, mtime: seconds, uid: 0, gid: 0, uname: '', gname: '' }).encode());
      // The ustar header still carries a (shortened) name; readers take the pax path.
      new Header({ ...data, path: e.path.slice(-99) }).encode(block, 0);
    }
    blocks.push(block, e.content, Buffer.alloc((512 - (e.content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024)); // end of archive: two zero blocks
  return Buffer.concat(blocks);
}

/**
 * gzip with nothing from the machine in its header: no file name, time 0, and the OS byte
 * fixed to 3 (Unix) whatever platform Node.js runs on. The deflate stream itself depends on
 * the zlib built into Node.js, hence "the same Node.js major version" for identical bytes.
 */
export function gzipDeterministic(data: Buffer): Buffer {
  const out = gzipSync(data, { level: 9 });
  out.writeUInt32LE(0, 4); // MTIME
  out[9] = 3; // OS
  return out;
}

/** The archive of a tree: normalised entries, tar, gzip. */
export function reproducibleTarball(tree: Tree, mtime: Date): Buffer {
  return gzipDeterministic(tarBytes(normaliseEntries(tree), mtime));
}
