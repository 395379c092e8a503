import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { isCI, POSTFIX_COMMANDS, postfixBinDir, postfixGeneration, postfixRootStatus } from './generation';

/**
 * The rule for every integration suite: a missing tool FAILS the run in CI (CI set, not "false"
 * or "0"), and otherwise skips the suite LOUDLY, naming the tool and the apt package that
 * provides it.
 *
 *   const ready = requireTool('postfix', 'postfix') && requireTool('swaks', 'swaks');
 *   describe.skipIf(!ready)('relay', () => { ... });
 *
 * Returns true when the binary is found (absolute path, PATH, /usr/sbin or /sbin). On the Postfix
 * 3.10 generation (POSTFIX_GENERATION=3.10, the integration-postfix-3.10 project) a Postfix command
 * is found only in the 3.10 root's wrappers: without that root the suite skips (fails in CI),
 * never falls back to the host's 3.7.
 */
export function requireTool(binary: string, debianPackage: string): boolean {
  if (postfixGeneration() !== 'host' && POSTFIX_COMMANDS.includes(binary)) return requirePostfixRoot(binary);
  if (findTool(binary)) return true;
  return missing(`required tool "${binary}" is missing`, `apt-get install -y --no-install-recommends ${debianPackage}`);
}

function requirePostfixRoot(binary: string): boolean {
  const bin = postfixBinDir();
  if (bin && findTool(binary) === join(bin, binary)) return true;
  const status = postfixRootStatus();
  const why = status.ok
    ? `"${binary}" is not the 3.10 root's (PATH=${process.env.PATH}): the project's setup file (postfix-generation.setup.ts) did not run`
    : status.reason;
  return missing(`the Postfix 3.10 test root is not available for "${binary}": ${why}`, 'apt-get install -y debootstrap util-linux && node scripts/postfix-root.cjs');
}

function missing(what: string, install: string): boolean {
  if (isCI()) throw new Error(`${what} (CI makes this a failure): ${install}`);
  console.warn(`\n*** SKIPPING: ${what}. Install it with: ${install}\n`);
  return false;
}

/** Absolute path of a binary, or undefined. */
export function findTool(binary: string): string | undefined {
  const candidates = isAbsolute(binary)
    ? [binary]
    : [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter(Boolean).map((d) => join(d, binary));
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
