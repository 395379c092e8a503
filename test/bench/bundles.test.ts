import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';

// `npm run bench` bundles its sections with esbuild as bench/run.mjs does and runs them under
// plain node: none of them may pull in vitest (vitest refuses to load outside its runner), which
// a test helper added to the integration harness' index once did.

const ROOT = join(__dirname, '..', '..');
const ENTRIES = ['bench/main.ts', 'bench/relay/sink-main.ts', 'bench/relay/index.ts'];

describe('the bench bundles', () => {
  it.each(ENTRIES)('%s bundles without vitest', (entry) => {
    const { outputFiles, errors } = buildSync({
      entryPoints: [join(ROOT, entry)],
      bundle: true,
      platform: 'node',
      target: 'node20',
      packages: 'external',
      format: 'cjs',
      write: false,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: ROOT,
    });
    expect(errors).toEqual([]);
    const code = outputFiles[0]!.text;
    expect(code.length).toBeGreaterThan(1000);
    expect(code).not.toMatch(/require\("vitest"\)/);
  });
});
