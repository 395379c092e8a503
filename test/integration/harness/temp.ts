import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs: string[] = [];

/** A fresh directory under the system temp dir, removed when the test process exits. */
export function tempDir(prefix = 'relay-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

process.once('exit', () => {
  if (process.env.KEEP_TEST_DIRS) return;
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
