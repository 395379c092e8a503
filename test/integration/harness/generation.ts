import { execFileSync } from 'node:child_process';
import { delimiter } from 'node:path';

/**
 * Which Postfix the integration tests run. The relay image runs Postfix 3.10 (Alpine 3.23); this
 * machine's own is Debian 12's 3.7. Every real-Postfix suite runs on both:
 *
 *   host   Debian 12's /usr/sbin/postfix (3.7): the `integration` project;
 *   3.10   Debian 13's Postfix 3.10.13 in a debootstrapped root (scripts/postfix-root.cjs): the
 *          `integration-postfix-3.10` project, which sets POSTFIX_GENERATION=3.10.
 *
 * On 3.10, wrappers for postfix, postconf, postqueue, postsuper, postmap, ... go first in PATH
 * (postfix-generation.setup.ts), so the harness, the tests and the rendered entrypoint.sh run them
 * by name as on the host. Scripts that set their own PATH (drain.sh) go through
 * withPostfixCommandsFirst(). startPostfix() checks the version the master logs, so a command
 * that slipped past the wrappers fails the test instead of testing the wrong Postfix.
 */
export type PostfixGeneration = 'host' | '3.10';

/** The environment variable that selects the generation (set by the vitest project). */
export const GENERATION_ENV = 'POSTFIX_GENERATION';

/** The Postfix commands the wrappers cover: requireTool() of one of them checks the root on 3.10. */
export const POSTFIX_COMMANDS: readonly string[] = rootScript().COMMANDS;

export function postfixGeneration(): PostfixGeneration {
  const value = process.env[GENERATION_ENV]?.trim();
  if (!value || value === 'host' || value === '3.7') return 'host';
  if (value === '3.10') return '3.10';
  throw new Error(`${GENERATION_ENV}="${value}" is not a Postfix generation the tests know (host, 3.7 or 3.10)`);
}

/** CI is set when CI is non-empty and not "false" or "0": one helper for all the tests (test/ci.ts). */
export { isCI } from '../../ci';

export type RootStatus =
  | { readonly ok: true; readonly bin: string; readonly root: string; readonly version: string; readonly dir: string }
  | { readonly ok: false; readonly reason: string };

interface RootScript {
  ENTRY_CAPABILITIES: readonly string[];
  DROP_ENV: string;
  postfixRootStatus(): RootStatus;
  ensurePostfixRoot(options?: { log?: (message: string) => void }): RootStatus;
  COMMANDS: readonly string[];
}

function rootScript(): RootScript {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../../../scripts/postfix-root.cjs') as RootScript;
}

/** The 3.10 root as built (or why it is not there). Builds nothing. */
export function postfixRootStatus(): RootStatus {
  return rootScript().postfixRootStatus();
}

/** Builds the 3.10 root unless it is there (35-80 s); throws with the reason when it cannot. */
export function ensurePostfixRoot(log?: (message: string) => void): RootStatus {
  return rootScript().ensurePostfixRoot(log ? { log } : {});
}

/** Directory of the wrappers that must come first in PATH, or undefined on the host generation. */
export function postfixBinDir(): string | undefined {
  if (postfixGeneration() === 'host') return undefined;
  const status = postfixRootStatus();
  return status.ok ? status.bin : undefined;
}

/**
 * Puts the generation's Postfix commands first in this process' PATH (children inherit it).
 * Returns false when the generation is 3.10 and its root is missing (PATH is left alone; the
 * suites' requireTool('postfix', ...) then skips or, in CI, fails).
 */
export function activatePostfixGeneration(): boolean {
  if (postfixGeneration() === 'host') return true;
  const bin = postfixBinDir();
  if (!bin) return false;
  const path = (process.env.PATH ?? '').split(delimiter).filter((d) => d && d !== bin);
  process.env.PATH = [bin, ...path].join(delimiter);
  return true;
}

/**
 * A script that sets its own PATH (`PATH=/usr/sbin:...`, as drain.sh does), with the
 * generation's Postfix commands put first on each such line. Unchanged on the host generation.
 */
export function withPostfixCommandsFirst(script: string): string {
  const bin = postfixBinDir();
  if (!bin) return script;
  if (!/^PATH=/m.test(script)) throw new Error('withPostfixCommandsFirst: the script has no "PATH=" line to put the Postfix 3.10 commands into');
  return script.replace(/^PATH=/gm, `PATH=${bin}${delimiter}`);
}

/** A PATH value for a child that would otherwise set a fixed one: the wrappers, then `path`. */
export function pathWithPostfixCommands(path = '/usr/sbin:/usr/bin:/sbin:/bin'): string {
  const bin = postfixBinDir();
  return bin ? `${bin}${delimiter}${path}` : path;
}

const versions = new Map<string, string>();

/** The mail_version of the generation under test (`postconf -h mail_version` through PATH). */
export function expectedPostfixVersion(): string {
  const key = postfixBinDir() ?? 'host';
  let version = versions.get(key);
  if (!version) {
    const postconf = key === 'host' ? 'postconf' : `${key}/postconf`;
    version = execFileSync(postconf, ['-h', 'mail_version'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } }).trim();
    versions.set(key, version);
  }
  return version;
}

/**
 * How to run Postfix under exactly `capabilities` (names without CAP_) on this generation: the
 * bounding set for the process that runs the entrypoint, and the environment for the wrappers.
 * On the host that is just `capabilities`. On 3.10 the wrappers also need SYS_ADMIN, SYS_CHROOT and SETPCAP
 * to enter the root (a mount namespace, chroot, the drop itself): the entrypoint keeps them, and the wrappers drop
 * them from the bounding set inside the root right before they exec Postfix, so the master and
 * every daemon run under exactly `capabilities`. (The entrypoint's own commands, chown, chmod,
 * mkdir, tail, use none of the three.)
 */
export function capabilitiesForGeneration(capabilities: readonly string[]): { bounding: string[]; env: Record<string, string> } {
  if (postfixGeneration() === 'host') return { bounding: [...capabilities], env: {} };
  const { ENTRY_CAPABILITIES, DROP_ENV } = rootScript();
  const wanted = new Set(capabilities.map((c) => c.toUpperCase()));
  const extra = ENTRY_CAPABILITIES.filter((c) => !wanted.has(c));
  return {
    bounding: [...capabilities, ...extra],
    env: extra.length ? { [DROP_ENV]: extra.map((c) => `-${c.toLowerCase()}`).join(',') } : {},
  };
}
