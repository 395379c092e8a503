// Wiring only: read the options from the environment, synthesize, report.
import { existsSync, readdirSync } from 'node:fs';
import { ConfigError } from './config/load';
import { synthesize, ValidationError } from './synth';
import { version } from '../package.json';

const environmentsDir = process.env.EMAIL_SERVER_ENVIRONMENTS_DIR ?? 'environments';
const outdir = process.env.CDK8S_OUTDIR ?? 'dist';
// The cdk8s CLI (`cdk8s synth`) always sets this for the app it runs; `npm run synth` never does.
const viaCdk8sCli = process.env.CDK8S_RECORD_CONSTRUCT_METADATA !== undefined;

/** What a failed run did to the output folder, truthfully: this app writes nothing on failure. */
function outputState(): string {
  if (!viaCdk8sCli) return `${outdir}/ was left unchanged`;
  const state = !existsSync(outdir) ? 'no longer exists' : readdirSync(outdir).length ? 'was not written by this run' : 'is empty';
  return (
    `nothing was written, but ${outdir}/ ${state}: the cdk8s CLI (cdk8s synth) deletes its output folder before it runs the app. ` +
    `npm run synth replaces ${outdir}/ atomically instead, keeping the previous output on any error`
  );
}

try {
  const written = synthesize({ environmentsDir, outdir, version });
  const objects = written.reduce((n, m) => n + m.objects.length, 0);
  // One line either way: names while they fit on it, counts beyond that.
  const summary =
    written.length <= 8
      ? written.map((m) => `${m.env.name} (${m.objects.length} objects)`).join(', ')
      : `${written.length} environments (${objects} objects): ${written.slice(0, 3).map((m) => m.env.name).join(', ')}, ...`;
  process.stdout.write(`Synthesized ${summary} into ${outdir}/\n`);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`error: invalid environment configuration; ${outputState()}:\n${err.message}\n`);
  } else if (err instanceof ValidationError) {
    process.stderr.write(`error: ${err.message}\n${outputState()}.\n`);
  } else {
    process.stderr.write(`error: synth failed; ${outputState()}:\n${(err as Error).stack ?? String(err)}\n`);
  }
  process.exitCode = 1;
}
