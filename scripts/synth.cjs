// `npm run synth`: bundle src/ with esbuild (no type-checking: `npm test` does that) and run the
// bundle. The bundle is cached in build/main.js and rebuilt only when a source is newer, so an
// unchanged tree skips esbuild (about 100 ms); V8's compiled code for it is cached next to it
// (build/main.js.<mtime>-<size>.v8cache), which saves compiling 3.4 MB on every run (about 100 ms).
// CommonJS on purpose: an ES module would start Node's ESM loader first (about 10 ms).
// Options come from the environment (src/main.ts):
//   CDK8S_OUTDIR                   output folder (default dist)
//   EMAIL_SERVER_ENVIRONMENTS_DIR  environment files (default environments)
'use strict';
const { closeSync, fstatSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { createRequire } = Module;
const { basename, dirname, join } = require('node:path');
const { Script } = require('node:vm');
const { cachedBundle } = require('./cached-bundle.cjs');

const root = join(__dirname, '..');
const bundle = cachedBundle({
  root,
  entry: 'src/main.ts',
  outfile: 'build/main.js',
  sources: ['src', 'imports', 'package.json', 'package-lock.json', 'scripts/synth.cjs', 'scripts/cached-bundle.cjs', 'scripts/lazy-re2.cjs'],
  esbuild: {
    // Every dependency goes into the bundle, cdk8s, cdk8s-plus-28 and constructs too (one copy,
    // shared with imports/): one file whose compiled code V8 caches, instead of hundreds of modules
    // to resolve and compile. re2-wasm stays outside: it loads a .wasm file from its own folder.
    external: ['re2-wasm'],
    // RE2 patterns compiled on first use instead of at load: scripts/lazy-re2.cjs says why.
    alias: { '@kubernetes-models/validate/runtime/re2': join(root, 'scripts', 'lazy-re2.cjs') },
  },
});
run(bundle);

/**
 * Runs the CommonJS bundle as require() would, but compiled with V8's code cache. The cache file
 * is named after the bundle's mtime and size, so a rebuilt bundle never meets a stale cache (V8
 * itself checks only the source length); a cache V8 rejects (another Node version) is replaced.
 */
function run(file) {
  // One descriptor for the stat and the read: a concurrent rebuild renames a new bundle into
  // place, and the cache name must describe the code actually compiled.
  const fd = openSync(file, 'r');
  const { mtimeMs, size } = fstatSync(fd);
  const source = readFileSync(fd, 'utf8');
  closeSync(fd);
  const cacheFile = `${file}.${Math.trunc(mtimeMs)}-${size}.v8cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // first run of this bundle
  }
  const script = new Script(Module.wrap(source), { filename: file, cachedData });
  if (!cachedData || script.cachedDataRejected) {
    // Written at exit: by then V8 has compiled the functions this run needed, so they are cached too.
    process.once('exit', () => saveCache(file, cacheFile, script));
  }
  const module = { exports: {}, filename: file, id: file, loaded: false };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
}

function saveCache(file, cacheFile, script) {
  try {
    const temp = `${cacheFile}.${process.pid}`;
    writeFileSync(temp, script.createCachedData());
    renameSync(temp, cacheFile);
    // Caches of earlier bundles.
    for (const name of readdirSync(dirname(file))) {
      if (name.startsWith(`${basename(file)}.`) && name.endsWith('.v8cache') && name !== basename(cacheFile)) rmSync(join(dirname(file), name), { force: true });
    }
  } catch {
    // a cache is an optimisation: never fail a synth over it
  }
}
