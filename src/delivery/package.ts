import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { git, sourceRepository, uncommittedChanges, workTreeRoot } from './git';
import { provenanceStatement } from './provenance';
import { synthCheckout } from './synth-run';
import { reproducibleTarball } from './tarball';
import { removeDir, scratchDir } from './tree';
import { secretsIn } from './secrets';

export interface PackageOptions {
  readonly root: string;
  /** Where the three files go (default artifacts/). */
  readonly outDir: string;
  readonly allowDirty: boolean;
  readonly toolVersion: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
}

export interface PackageResult {
  readonly tarball: string;
  readonly sha256: string;
  readonly provenance: string;
  readonly sums: string;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Writes a file next to its final name and renames it into place: readers never see half a file. */
function writeAtomic(path: string, data: Buffer | string): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, data);
  renameSync(temp, path);
}

/**
 * `npm run package`: the synth of the source commit as email-server-<commit>.tar.gz, its
 * SHA256SUMS and an in-toto provenance statement. Byte-identical for the same commit and
 * Node.js major version: the tree is synthesized afresh (not whatever dist/ holds), entries
 * are normalised, and every time in the archive is SOURCE_DATE_EPOCH, by default the commit's.
 */
export function runPackage(options: PackageOptions): PackageResult {
  const { root } = options;
  if (!workTreeRoot(root)) throw new Error(`${root} is not a git repository: the artifact is named after its source commit`);
  const commit = git(['rev-parse', 'HEAD'], { cwd: root }).trim();
  const dirty = uncommittedChanges(root);
  if (dirty.length && !options.allowDirty) {
    throw new Error(
      `the source tree has uncommitted changes, so the artifact would not be what commit ${commit.slice(0, 12)} builds:\n${dirty.slice(0, 10).map((l) => `  ${l}`).join('\n')}${dirty.length > 10 ? `\n  ... and ${dirty.length - 10} more` : ''}\ncommit them, or give --allow-dirty (the file name then says -dirty)`,
    );
  }
  const epoch = sourceDateEpoch(options.env, root);

  const scratch = scratchDir(root, 'package');
  try {
    const tree = synthCheckout(root, join(scratch, 'dist'), 'the source tree');
    const secrets = secretsIn(tree);
    if (secrets.length) throw new Error(`refusing to package Secret objects (they would be readable by anyone with the artifact): ${secrets.join(', ')}`);
    const tarball = reproducibleTarball(tree, new Date(epoch * 1000));
    const name = `email-server-${commit}${dirty.length ? '-dirty' : ''}`;
    const outDir = resolve(root, options.outDir);
    mkdirSync(outDir, { recursive: true });
    const tarName = `${name}.tar.gz`;
    const provName = `${name}.intoto.json`;
    const digest = sha256(tarball);
    const statement = provenanceStatement({
      artifactName: tarName,
      artifactSha256: digest,
      sourceRepository: sourceRepository(root),
      sourceCommit: commit,
      sourceDirty: dirty.length > 0,
      command: 'npm run package',
      sourceDateEpoch: epoch,
      toolVersion: options.toolVersion,
      lockfileSha256: sha256(readFileSync(join(root, 'package-lock.json'))),
      env: options.env,
    });
    const provText = `${JSON.stringify(statement, null, 2)}\n`;
    writeAtomic(join(outDir, tarName), tarball);
    writeAtomic(join(outDir, provName), provText);
    // sha256sum's own format ("<hex>  <name>"): `sha256sum -c SHA256SUMS` in that folder checks both.
    writeAtomic(join(outDir, 'SHA256SUMS'), `${digest}  ${tarName}\n${sha256(provText)}  ${provName}\n`);
    const shown = (p: string) => relative(process.cwd(), p) || '.';
    options.log(`sha256:${digest}  ${shown(join(outDir, tarName))}`);
    return { tarball: join(outDir, tarName), sha256: digest, provenance: join(outDir, provName), sums: join(outDir, 'SHA256SUMS') };
  } finally {
    removeDir(scratch);
  }
}

/** SOURCE_DATE_EPOCH (reproducible-builds.org), else the commit's committer time. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv, root: string): number {
  const given = env.SOURCE_DATE_EPOCH;
  if (given !== undefined && given !== '') {
    if (!/^\d{1,12}$/.test(given)) throw new Error(`SOURCE_DATE_EPOCH must be a whole number of seconds since 1970 (got ${JSON.stringify(given)})`);
    return Number(given);
  }
  return Number(git(['log', '-1', '--pretty=%ct', 'HEAD'], { cwd: root }).trim());
}
