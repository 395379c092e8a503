import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { isCI } from '../../ci';

/**
 * The rule for every integration suite: a missing tool FAILS the run when CI=true, and otherwise
 * skips the suite LOUDLY, naming the tool and the apt package that provides it.
 *
 *   const ready = requireTool('postfix', 'postfix') && requireTool('swaks', 'swaks');
 *   describe.skipIf(!ready)('relay', () => { ... });
 *
 * Returns true when the binary is found (absolute path, PATH, /usr/sbin or /sbin).
 */
export function requireTool(binary: string, debianPackage: string): boolean {
  if (findTool(binary)) return true;
  const install = `apt-get install -y --no-install-recommends ${debianPackage}`;
  if (isCI()) {
    throw new Error(`required tool "${binary}" is missing (CI=true makes this a failure): ${install}`);
  }
  console.warn(`\n*** SKIPPING: required tool "${binary}" is missing. Install it with: ${install}\n`);
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
