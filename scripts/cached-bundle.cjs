// One esbuild bundle per command, cached in build/ and rebuilt only when a source is newer than it
// (an unchanged tree skips esbuild: about 100 ms). Shared by scripts/synth.cjs and scripts/delivery.cjs.
'use strict';
const { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

function newestMtime(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), stat.mtimeMs);
}

/**
 * Makes sure `outfile` is an up-to-date bundle of `entry` and returns its path.
 * @param {{ root: string, entry: string, outfile: string, sources: string[], esbuild?: object }} o
 *   paths relative to `root`; `sources` are the files and folders whose changes rebuild it;
 *   `esbuild` holds further build options (external, alias, ...).
 */
function cachedBundle({ root, entry, outfile, sources, esbuild = {} }) {
  const bundle = join(root, outfile);
  const bundleTime = statSync(bundle, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (sources.some((s) => newestMtime(join(root, s)) >= bundleTime)) {
    const { buildSync } = require('esbuild');
    const { outputFiles } = buildSync({
      entryPoints: [join(root, entry)],
      outfile: bundle,
      write: false,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      logLevel: 'warning',
      ...esbuild,
    });
    // Written aside and renamed: a concurrent run never loads a half-written bundle.
    mkdirSync(dirname(bundle), { recursive: true });
    const temp = `${bundle}.${process.pid}`;
    writeFileSync(temp, outputFiles[0].contents);
    renameSync(temp, bundle);
  }
  return bundle;
}

module.exports = { cachedBundle };
