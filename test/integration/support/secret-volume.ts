import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync, readlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentConfig } from '../../../src/config/schema';
import { PATHS } from '../../../src/postfix/layout';
import type { PostfixFiles } from '../../../src/postfix';

/**
 * A Secret volume as the kubelet writes it (its AtomicWriter): the files in a timestamped
 * directory, `..data` pointing at it and one symlink per key; an update writes a new directory
 * and swaps `..data` with one rename, so a reader sees the old or the new set, never a mix.
 */
export interface SecretVolume {
  readonly dir: string;
  /** Replaces the files, atomically, as the kubelet does after the Secret changed. */
  update(files: Readonly<Record<string, string>>): void;
}

let generation = 0;

export function secretVolume(dir: string, files: Readonly<Record<string, string>>): SecretVolume {
  mkdirSync(dir, { recursive: true });
  const write = (contents: Readonly<Record<string, string>>) => {
    generation += 1;
    const real = `..2026_01_01_00_00_${String(generation).padStart(2, '0')}.00000000${generation}`;
    mkdirSync(join(dir, real), { mode: 0o755 });
    for (const [name, text] of Object.entries(contents)) {
      writeFileSync(join(dir, real, name), text, { mode: 0o400 });
      chmodSync(join(dir, real, name), 0o400); // defaultMode 0400, whatever the umask
    }
    const old = existsSync(join(dir, '..data')) ? readlinkSync(join(dir, '..data')) : undefined;
    symlinkSync(real, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    for (const name of Object.keys(contents)) if (!existsSync(join(dir, name))) symlinkSync(join('..data', name), join(dir, name));
    if (old) rmSync(join(dir, old), { recursive: true, force: true });
  };
  write(files);
  return { dir, update: write };
}

/**
 * The rendered files of an environment with relay.auth, moved into a test directory: the
 * entrypoint reads the Secret from `authDir` instead of PATHS.authDir, and main.cf's SASL table
 * lives under `saslDir` (a plain directory standing in for the memory-backed volume).
 */
export function authTestOverrides(env: EnvironmentConfig, authDir: string, saslDir: string) {
  if (!env.relay.auth) throw new Error(`${env.name} has no relay.auth`);
  const line = `auth_dir=${PATHS.authDir}\n`;
  return {
    mainCf: { smtp_sasl_password_maps: `texthash:${join(saslDir, 'passwd')}` },
    editFiles: (files: PostfixFiles): PostfixFiles => {
      const script = files['entrypoint.sh'];
      if (!script.includes(line)) throw new Error(`entrypoint.sh has no line "${line.trim()}" to move to the test directory`);
      return { ...files, 'entrypoint.sh': script.replace(line, `auth_dir=${authDir}\n`) };
    },
  };
}
