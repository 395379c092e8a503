import { execFileSync } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { activatePostfixGeneration, expectedPostfixVersion, postfixRootStatus } from '../../test/integration/harness';
import { ensurePostfixRoot } from '../../test/integration/harness/generation';
import type { PostfixUnderTest } from './pod-types';

/**
 * Which Postfix the relay sections run. The team rule: every proof runs on the generation the
 * image runs (3.10; Debian 12's host Postfix is 3.7). By default the bench runs the Debian 13
 * root of the integration harness (scripts/postfix-root.cjs, built here when missing): its
 * wrappers go first in PATH, so the harness, the rendered entrypoint.sh and the bench run
 * postfix, postconf, postqueue... by name from that root. `--postfix=host` runs the host's
 * instead (labelled as such in the doc). Never falls back from 3.10 to the host's Postfix.
 *
 * The wrappers exec all the way (unshare, sh, chroot: no fork), so the process the entrypoint
 * starts is the master itself and every daemon it forks stays in the entrypoint's cgroup; the
 * pod section checks that after every round (pod.ts, processesOutside).
 */
export function usePostfixGeneration(generation: 'host' | '3.10', log: (s: string) => void): PostfixUnderTest {
  const hostVersion = hostPostfixVersion();
  process.env.POSTFIX_GENERATION = generation;
  if (generation === 'host') {
    return { generation, version: hostVersion, hostVersion, stockDir: '/usr/share/postfix', versionLines: {} };
  }
  const status = postfixRootStatus().ok ? postfixRootStatus() : ensurePostfixRoot((m) => log(m));
  if (!status.ok) throw new Error(`the Postfix 3.10 root is not available: ${status.reason}`);
  if (!activatePostfixGeneration()) throw new Error('the Postfix 3.10 wrappers could not be put first in PATH');
  const version = expectedPostfixVersion();
  if (!/^3\.10\./.test(version)) throw new Error(`the root's postconf says mail_version ${version}, not 3.10.x`);
  const stockDir = join(status.root, 'usr', 'share', 'postfix');
  for (const f of ['main.cf.debian', 'master.cf.dist']) {
    if (!existsSync(join(stockDir, f))) throw new Error(`the Postfix 3.10 root has no ${join(stockDir, f)} (the stock configurations read it)`);
  }
  return { generation, version, hostVersion, root: status.root, bin: status.bin, stockDir, versionLines: {} };
}

function hostPostfixVersion(): string {
  try {
    return execFileSync('/usr/sbin/postconf', ['-h', 'mail_version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'not installed';
  }
}

/** The master's "daemon started -- version X, configuration DIR" line, without the time stamp and pid. */
export function versionLine(maillog: string): string | undefined {
  const line = /postfix\/master\[\d+\]: daemon started -- version [^\n]*/.exec(maillog)?.[0];
  return line?.replace(/\[\d+\]/, '');
}

/** The root directory a process sees (/proc/<pid>/root): the Debian 13 root for a 3.10 daemon, / on the host. */
export function processRoot(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/root`);
  } catch {
    return undefined;
  }
}
