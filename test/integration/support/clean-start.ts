import { readFileSync, rmSync } from 'node:fs';
import { expect } from 'vitest';
import { startPostfix, type StartOptions } from '../harness';

/**
 * Starts Postfix through entrypoint.sh, stops it, and asserts that the master started and that
 * neither the log nor the entrypoint's stderr says warning, fatal or error.
 */
export async function expectCleanStart(options: StartOptions): Promise<void> {
  const pf = await startPostfix(options);
  await pf.stop(8_000, { keepFiles: true });
  const log = readFileSync(pf.logFile, 'utf8');
  expect(log).toMatch(/postfix\/master\[\d+\]: daemon started/);
  expect(log).not.toMatch(/warning|fatal|error/i);
  expect(pf.output.stderr).not.toMatch(/warning|fatal|error/i);
  rmSync(pf.dir, { recursive: true, force: true });
}
