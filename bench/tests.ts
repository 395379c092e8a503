import { run, RunError } from './lib/proc';

/** Wall time of the test suites, as a developer runs them (`npx vitest run --project <name>`). */

export interface SuiteTiming {
  project: string;
  command: string;
  ms: number;
  ok: boolean;
  /** vitest's own summary lines ("Test Files ...", "Tests ..."), or the failure's tail. */
  summary: string;
}

export async function timeSuite(root: string, project: string, log: (s: string) => void): Promise<SuiteTiming> {
  // test/bench/performance-doc.test.ts checks the doc this run is about to rewrite: when the
  // measured code changed, it fails until the run ends, so it is left out of the timing
  // (vitest.config.ts reads EMAIL_SERVER_BENCH_TIMING; the CLI's --exclude does not reach projects).
  const args = ['vitest', 'run', '--project', project];
  const command = `npx ${args.join(' ')}`;
  const started = performance.now();
  try {
    const r = await run('npx', args, { cwd: root, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', EMAIL_SERVER_BENCH_TIMING: '1' }, timeoutMs: 900_000 });
    const summary = summaryLines(r.stdout + r.stderr);
    log(`${command}: ${(r.ms / 1000).toFixed(1)} s (${summary.replace(/\n/g, '; ')})`);
    return { project, command, ms: r.ms, ok: true, summary };
  } catch (err) {
    const ms = performance.now() - started;
    const output = err instanceof RunError ? `${err.stdout}\n${err.stderr}` : (err as Error).message;
    const failed = [...new Set(clean(output).split('\n').map((l) => l.trim()).filter((l) => /^FAIL\s/.test(l)))].slice(0, 5);
    const summary = [summaryLines(output), ...failed].filter(Boolean).join('\n') || 'no vitest summary in its output';
    log(`${command}: FAILED after ${(ms / 1000).toFixed(1)} s`);
    return { project, command, ms, ok: false, summary };
  }
}

const clean = (output: string): string => output.replace(/\x1b\[[0-9;]*m/g, '');

function summaryLines(output: string): string {
  return clean(output)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(Test Files|Tests)\s/.test(l))
    .join('\n');
}
