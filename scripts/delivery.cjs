// `npm run diff`, `npm run gitops-publish`, `npm run package`: bundle src/delivery/cli.ts with
// esbuild (as scripts/synth.cjs does for the synth: no ts-node, no type-checking at run time)
// into build/delivery.js, rebuilt only when a source is newer, and run it. The bundle is small
// (yaml, tar): it starts in well under a second. The synth itself runs as its own process
// (scripts/synth.cjs of the checkout being synthesized).
'use strict';
const { join } = require('node:path');
const { cachedBundle } = require('./cached-bundle.cjs');

const root = join(__dirname, '..');
const bundle = cachedBundle({
  root,
  entry: 'src/delivery/cli.ts',
  outfile: 'build/delivery.js',
  sources: ['src', 'package.json', 'package-lock.json', 'scripts/delivery.cjs', 'scripts/cached-bundle.cjs'],
});

process.exitCode = require(bundle).main(process.argv.slice(2), root);
