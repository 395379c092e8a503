// Wiring only: read the options from the environment, synthesize, report.
import { ConfigError } from './config/load';
import { synthesize, ValidationError } from './synth';
import { version } from '../package.json';

const environmentsDir = process.env.EMAIL_SERVER_ENVIRONMENTS_DIR ?? 'environments';
const outdir = process.env.CDK8S_OUTDIR ?? 'dist';

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
    process.stderr.write(`error: invalid environment configuration; ${outdir}/ was left unchanged:\n${err.message}\n`);
  } else if (err instanceof ValidationError) {
    process.stderr.write(`error: ${err.message}\n${outdir}/ was left unchanged.\n`);
  } else {
    process.stderr.write(`error: synth failed; ${outdir}/ was left unchanged:\n${(err as Error).stack ?? String(err)}\n`);
  }
  process.exitCode = 1;
}
