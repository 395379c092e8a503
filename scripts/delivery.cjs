// `npm run diff`, `npm run gitops-publish`, `npm run package`: bundle src/delivery/cli.ts with
// esbuild (as scripts/synth.cjs does for the synth: no ts-node, no type-checking at run time)
// into build/delivery.js, rebuilt only when a source is newer, and run it. The bundle is small
// (yaml, tar): it starts in well under a second. The synth itself runs as its own process
// (scripts/synth.cjs of the checkout being synthesized).
'use strict';
const { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const bundle = join(root, 'build', 'delivery.js');
const SOURCES = ['src', 'package.json', 'package-lock.json', 'scripts/delivery.cjs'];

function newestMtime(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), stat.mtimeMs);
}

const bundleTime = statSync(bundle, { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (SOURCES.some((s) => newestMtime(join(root, s)) >= bundleTime)) {
  const { buildSync } = require('esbuild');
  const { outputFiles } = buildSync({
    entryPoints: [join(root, 'src', 'delivery', 'cli.ts')],
    outfile: bundle,
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
  });
  // Written aside and renamed: a concurrent run never loads a half-written bundle.
  mkdirSync(join(root, 'build'), { recursive: true });
  const temp = `${bundle}.${process.pid}`;
  writeFileSync(temp, outputFiles[0].contents);
  renameSync(temp, bundle);
}

process.exitCode = require(bundle).main(process.argv.slice(2), root);
