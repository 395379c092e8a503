import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

/**
 * The bench's own bundle of src/main.ts, built with the flags of `npm run build` but into
 * build/bench/, so other people rebuilding build/main.js mid-run cannot change what is measured.
 */
export async function bundleApp(root: string): Promise<string> {
  const outfile = join(root, 'build', 'bench', 'app.js');
  mkdirSync(join(root, 'build', 'bench'), { recursive: true });
  await build({
    entryPoints: [join(root, 'src', 'main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

/** Files and bytes a synth wrote, to prove a timed run did its work. */
export function outputSize(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  if (!existsSync(dir)) return { files, bytes };
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else {
        files++;
        bytes += st.size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

/** Environment variables that send a synth's output (and, optionally, its input) to the bench's folders. */
export function synthEnv(outdir: string, environmentsDir?: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CDK8S_OUTDIR: outdir,
    CDK8S_CHECK_UPGRADE: 'false',
    ...(environmentsDir ? { EMAIL_SERVER_ENVIRONMENTS_DIR: environmentsDir } : {}),
  };
}
