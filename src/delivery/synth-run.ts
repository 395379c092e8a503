import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readTree } from './tree';

/** The synth of a checkout failed: its own message says why (file, field, value). */
export class SynthError extends Error {
  constructor(
    readonly where: string,
    readonly output: string,
  ) {
    super(`${where} does not synthesize:\n${output.trim()}`);
    this.name = 'SynthError';
  }
}

/**
 * Runs a checkout's own `npm run synth` (scripts/synth.cjs: the same code, bundle cache and
 * atomic write) into `outdir`, and returns the files it wrote. The checkout's dist/ is not
 * touched. EMAIL_SERVER_ENVIRONMENTS_DIR, when set, is read relative to the checkout.
 */
export function synthCheckout(root: string, outdir: string, label = root, environmentsDir?: string): Map<string, string> {
  const script = join(root, 'scripts', 'synth.cjs');
  if (!existsSync(script)) throw new SynthError(label, `it has no scripts/synth.cjs (older than the synth command): compare with a newer base`);
  const r = spawnSync(process.execPath, [script], {
    cwd: root,
    env: { ...process.env, CDK8S_OUTDIR: outdir, CDK8S_CHECK_UPGRADE: 'false', ...(environmentsDir ? { EMAIL_SERVER_ENVIRONMENTS_DIR: environmentsDir } : {}) },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new SynthError(label, r.error.message);
  if (r.status !== 0) {
    // main.ts speaks of the folder it was asked to write (our scratch folder): leave that out.
    const said = `${r.stderr}${r.stdout}`.split(`; ${outdir}/ was left unchanged`).join('').split(`\n${outdir}/ was left unchanged.`).join('');
    throw new SynthError(label, said);
  }
  return readTree(outdir);
}
