// `npm run synth`: bundle src/ with esbuild (no type-checking: `npm test` does that) and run the
// bundle. The bundle is cached in build/main.js and rebuilt only when a source is newer, so an
// unchanged tree skips esbuild (about 100 ms). Options come from the environment (src/main.ts):
//   CDK8S_OUTDIR                   output folder (default dist)
//   EMAIL_SERVER_ENVIRONMENTS_DIR  environment files (default environments)
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = join(root, 'build', 'main.js');
const SOURCES = ['src', 'imports', 'package.json', 'package-lock.json', 'scripts/synth.mjs'];

function newestMtime(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), stat.mtimeMs);
}

const bundleTime = statSync(bundle, { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (SOURCES.some((s) => newestMtime(join(root, s)) >= bundleTime)) {
  const { buildSync } = await import('esbuild');
  const { outputFiles } = buildSync({
    entryPoints: [join(root, 'src', 'main.ts')],
    outfile: bundle,
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node20',
    // Pure-JS dependencies go into the bundle (one file to compile instead of hundreds of modules
    // to resolve); cdk8s and constructs stay shared with imports/, re2-wasm loads a .wasm file.
    external: ['cdk8s', 'cdk8s-plus-28', 'constructs', 're2-wasm'],
    logLevel: 'warning',
  });
  // Written aside and renamed: concurrent synths never run a half-written bundle.
  mkdirSync(join(root, 'build'), { recursive: true });
  const temp = `${bundle}.${process.pid}`;
  writeFileSync(temp, outputFiles[0].contents);
  renameSync(temp, bundle);
}
createRequire(import.meta.url)(bundle);
