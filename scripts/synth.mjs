// `npm run synth`: bundle src/ with esbuild (no type-checking: `npm test` does that) and run
// the app, in one process. Options come from the environment (see src/main.ts):
//   CDK8S_OUTDIR                   output folder (default dist)
//   EMAIL_SERVER_ENVIRONMENTS_DIR  environment files (default environments)
import { buildSync } from 'esbuild';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = `${root}build/main.js`;
buildSync({
  entryPoints: [`${root}src/main.ts`],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
createRequire(import.meta.url)(outfile);
