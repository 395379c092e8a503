// `npm run synth`: bundle src/ with esbuild (no type-checking: `npm test` does that) and run
// the bundle in this process, straight from memory: nothing is written outside the output
// folder, so concurrent synths cannot trip over a shared build file. Options come from the
// environment (see src/main.ts):
//   CDK8S_OUTDIR                   output folder (default dist)
//   EMAIL_SERVER_ENVIRONMENTS_DIR  environment files (default environments)
import { buildSync } from 'esbuild';
import Module from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filename = `${root}src/main.bundle.js`;
const { outputFiles } = buildSync({
  entryPoints: [`${root}src/main.ts`],
  outfile: filename,
  write: false,
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
const app = new Module(filename);
app.filename = filename;
app.paths = Module._nodeModulePaths(root);
app._compile(outputFiles[0].text, filename);
