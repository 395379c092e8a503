// `npm run bench`: bundles the bench (TypeScript, with esbuild like the synth bundles the app)
// into node_modules/.cache/email-server-bench/ (not build/, which other tools clean) and runs it.
// The relay part imports the integration harness; it is bundled separately so the other
// sections still run when the harness cannot be built.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = join(root, 'node_modules', '.cache', 'email-server-bench');
const common = { bundle: true, platform: 'node', target: 'node20', packages: 'external', format: 'cjs', outdir, logLevel: 'silent', absWorkingDir: root };

await build({ ...common, entryPoints: { bench: 'bench/main.ts', sink: 'bench/relay/sink-main.ts' } });
let relayScript;
let relayBuildError;
try {
  await build({ ...common, entryPoints: { relay: 'bench/relay/index.ts' } });
  relayScript = join(outdir, 'relay.js');
} catch (err) {
  relayBuildError = (err.errors ?? []).map((e) => `${e.location?.file ?? ''}: ${e.text}`).join('; ') || err.message;
}

const require = createRequire(import.meta.url);
const { main } = require(join(outdir, 'bench.js'));
try {
  await main({ root, argv: process.argv.slice(2), sinkScript: join(outdir, 'sink.js'), relayScript, relayBuildError });
} catch (err) {
  console.error(`bench failed: ${err.stack ?? err}`);
  process.exitCode = 1;
}
