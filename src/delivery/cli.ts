// Wiring only: `npm run diff | gitops-publish | package` (scripts/delivery.cjs runs this bundle).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { version } from '../../package.json';
import { DEFAULT_BRANCH } from '../output/layout';
import type { Layout } from './applications';
import { parseArgs, UsageError, type OptionSpec } from './args';
import { runDiff } from './diff';
import { runPackage } from './package';
import { runPublish } from './publish';

const log = (line: string) => process.stderr.write(`${line}\n`);

interface Command {
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Exit code for an error (a usage error is 2 everywhere). */
  readonly errorExit: number;
  run(args: Record<string, string | boolean | undefined>, root: string): number;
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  diff: {
    usage: `npm run diff -- [--base <git ref> | --against <folder>] [--format text|markdown] [--output <file>]

Compares the working tree's synth with a base, without touching dist/: per environment, the
objects added, removed and changed (kind, namespace, name), and a YAML diff of each change.
  --base <ref>        a branch, tag or commit (default: the merge base with main, else origin/main)
  --against <folder>  published output instead: a checkout of the GitOps repository, or a dist/
  --format markdown   one pull-request comment, cut below 65,536 characters (a last line says what was cut)
  --output <file>     write the report there instead of to stdout
Exit status: 0 no difference, 1 differences, 2 error.`,
    options: {
      base: { type: 'string' },
      against: { type: 'string' },
      format: { type: 'string', choices: ['text', 'markdown'] },
      output: { type: 'string' },
    },
    errorExit: 2,
    run(args, root) {
      if (args.base !== undefined && args.against !== undefined) throw new UsageError('give --base or --against, not both');
      const result = runDiff({
        root,
        base: args.base as string | undefined,
        against: args.against as string | undefined,
        format: (args.format as 'text' | 'markdown' | undefined) ?? 'text',
        log,
      });
      if (args.output) writeFileSync(resolve(args.output as string), result.output);
      else process.stdout.write(result.output);
      return result.changed ? 1 : 0;
    },
  },

  'gitops-publish': {
    usage: `npm run gitops-publish -- --repo <path or URL> [--branch <name>] [--layout folders|branches]
                               [--remove-missing] [--allow-dirty] [--attempts <n>]

Synthesizes, then replaces the folders this project owns in the GitOps repository (each
environment's folder, argocd/, helm/) and pushes one commit that records the source. Nothing
else in the repository is touched; nothing is force-pushed.
  --repo <path|URL>   the GitOps repository (argocd.repoURL of every environment must name it)
  --branch <name>     the branch to write (default ${DEFAULT_BRANCH}); must exist unless the repository is empty
  --layout branches   each environment on its own branch env/<name>; argocd/ and helm/ on --branch
  --remove-missing    delete the folders of environments that no longer exist in the source
  --allow-dirty       publish a source tree with uncommitted changes (recorded as such)
  --attempts <n>      push attempts when others publish at the same time (default 5)
Exit status: 0 published, or nothing to publish; 1 error (nothing pushed); 2 usage error.`,
    options: {
      repo: { type: 'string' },
      branch: { type: 'string' },
      layout: { type: 'string', choices: ['folders', 'branches'] },
      'remove-missing': { type: 'boolean' },
      'allow-dirty': { type: 'boolean' },
      attempts: { type: 'string', minInteger: 1 },
    },
    errorExit: 1,
    run(args, root) {
      if (typeof args.repo !== 'string') throw new UsageError('--repo <path or URL> is required: the GitOps repository to publish to');
      const branch = (args.branch as string | undefined) ?? DEFAULT_BRANCH;
      if (!/^(?!-)(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9._\/-]+(?<![./])$/.test(branch) || branch.endsWith('.lock')) throw new UsageError(`--branch must be a branch name such as main (got ${JSON.stringify(branch)})`);
      const result = runPublish({
        root,
        repo: args.repo,
        branch,
        layout: ((args.layout as Layout | undefined) ?? 'folders'),
        removeMissing: args['remove-missing'] === true,
        allowDirty: args['allow-dirty'] === true,
        toolVersion: version,
        maxAttempts: args.attempts ? Number(args.attempts) : 5,
        distDir: process.env.CDK8S_OUTDIR ?? 'dist',
        log,
      });
      const heads = Object.entries(result.heads);
      if (result.status === 'unchanged') {
        log(`Nothing to publish: the repository already holds this synth.`);
        for (const [b, c] of heads) process.stdout.write(`${b} ${c}\n`);
      } else {
        log(`Published${result.attempts > 1 ? ` (after ${result.attempts} attempts)` : ''}:`);
        for (const [b, c] of heads) process.stdout.write(`${b} ${c}\n`);
      }
      return 0;
    },
  },

  package: {
    usage: `npm run package -- [--out-dir <folder>] [--allow-dirty]

Writes the CI artifact of the source commit: email-server-<commit>.tar.gz (the synth,
byte-identical on every machine for the same commit and Node.js major version), a SHA256SUMS
file and email-server-<commit>.intoto.json (in-toto Statement, SLSA v1 provenance).
Times in the archive come from SOURCE_DATE_EPOCH, by default the commit's time.
  --out-dir <folder>  where the files go (default artifacts)
  --allow-dirty       package uncommitted changes (the file name then ends in -dirty)
Exit status: 0 written; 1 error; 2 usage error.`,
    options: {
      'out-dir': { type: 'string' },
      'allow-dirty': { type: 'boolean' },
    },
    errorExit: 1,
    run(args, root) {
      runPackage({
        root,
        outDir: (args['out-dir'] as string | undefined) ?? 'artifacts',
        allowDirty: args['allow-dirty'] === true,
        toolVersion: version,
        env: process.env,
        log: (line) => process.stdout.write(`${line}\n`),
      });
      return 0;
    },
  },
};

/** Runs one command; returns the exit status. */
export function main(argv: readonly string[], root: string): number {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    log(`usage: node scripts/delivery.cjs <${Object.keys(COMMANDS).join('|')}> [options]  (npm run diff | gitops-publish | package)`);
    return 2;
  }
  try {
    const args = parseArgs(rest, command.options);
    if (args.help) {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
    return command.run(args, root);
  } catch (err) {
    if (err instanceof UsageError) {
      log(`error: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    log(`error: ${(err as Error).message}`);
    return command.errorExit;
  }
}
