import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { benchDir, bundleApp } from './app';
import { benchFingerprint } from './fingerprint';
import { describeMachine, LoadMonitor } from './lib/machine';
import { profileSynth } from './profile';
import { renderReport } from './report/markdown';
import type { BenchResults } from './results';
import type { RelayResult } from './relay/types';
import type { PodResult, PostfixUnderTest } from './relay/pod-types';
import { benchScale, fileCreateCost, generateEnvironments, type ScaleApp } from './scale';
import { benchSynth, synthVariants } from './synth';
import { timeSuite } from './tests';

/**
 * `npm run bench`: synth against the floor, synth at scale, relay throughput on real Postfix and
 * the test suites' wall time, in one run; writes docs/PERFORMANCE.md and its chart.
 *
 * Flags: --only=synth,scale,relay,tests   run some sections (the others are marked not measured)
 *        --quick                           fewer rounds and messages (to try the bench, not to publish);
 *                                          results only in the cache folder unless --write-doc
 *        --integration                     also time the integration suite (about 3.5 minutes more)
 *        --relay-configs=prod,stock@wan    only these relay configurations (and no sink-alone runs)
 *        --relay-wan                       also the WAN stand-in configurations (minutes more)
 *        --postfix=3.10|host               the Postfix the relay sections run: the Debian 13 root of the
 *                                          integration harness (3.10, the image's generation; default) or the host's
 *        --pod-rounds=N                    rounds at 50 and 200 sessions (default 3)
 *        --pod-limits=30,60,100            the process limits the sweep runs
 *        --report-only                     re-render the doc from node_modules/.cache/email-server-bench/results.json
 */

export interface Launch {
  root: string;
  argv: string[];
  sinkScript: string;
  relayScript?: string;
  relayBuildError?: string;
}

type RelayModule = {
  usePostfixGeneration: (generation: 'host' | '3.10', log: (s: string) => void) => PostfixUnderTest;
  runRelayBench: (o: { root: string; sinkScript: string; quick: boolean; log: (s: string) => void; postfix: PostfixUnderTest; only?: string[]; wan?: boolean }) => Promise<RelayResult>;
  runPodBench: (o: {
    root: string;
    sinkScript: string;
    quick: boolean;
    log: (s: string) => void;
    postfix: PostfixUnderTest;
    only?: string[];
    tryMainCf?: Record<string, string>;
    sessions?: number[];
    heavyRounds?: number;
    sweepLimits?: number[];
  }) => Promise<PodResult>;
};

const SECTIONS = ['synth', 'scale', 'relay', 'pod', 'tests'] as const;

export async function main(launch: Launch): Promise<void> {
  const { root, argv } = launch;
  const flag = (name: string) => argv.includes(`--${name}`);
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const resultsFile = join(benchDir(root), 'results.json');
  const docFile = join(root, 'docs', 'PERFORMANCE.md');
  const chartFile = join(root, 'docs', 'performance-throughput.svg');
  const podChartFile = join(root, 'docs', 'performance-pod.svg');

  if (flag('report-only')) {
    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResults;
    writeReport(results, docFile, chartFile, podChartFile);
    return;
  }

  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  // Every temporary file of the run (synth outputs, Postfix queues) goes into one folder inside the
  // checkout, on the file system where dist/ is written, and is removed at the end. File creation
  // is measured there and in the system's temp dir (fileCreate): on a shared VM it varies a lot.
  const systemTmp = tmpdir();
  const scratch = join(benchDir(root), 'tmp');
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  process.env.TMPDIR = scratch;
  const fileCreate = { systemTmp: { dir: systemTmp, ms: fileCreateCost(systemTmp) }, scratch: { dir: relative(root, scratch), ms: fileCreateCost(scratch) } };
  const only = new Set((value('only') ?? SECTIONS.join(',')).split(','));
  const quick = flag('quick');
  const log = (s: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
  const monitor = new LoadMonitor();
  monitor.start();
  const startedAt = new Date().toISOString();
  const results: BenchResults = {
    startedAt,
    finishedAt: startedAt,
    argv,
    machine: await describeMachine(root),
    fingerprint: benchFingerprint(root),
    load: monitor.summary(),
    skipped: {},
    scratch: relative(root, scratch),
    fileCreate,
  };
  for (const s of SECTIONS) if (!only.has(s)) results.skipped[s] = `not selected (--only=${[...only].join(',')})`;

  log(`bundling src/main.ts into ${benchDir(root)}: as the synth script does, and with the proposed changes`);
  const app = await bundleApp(root);
  results.proposals = app.proposals;

  if (only.has('synth')) {
    log('synth: interleaved against the floor');
    const synth = await benchSynth(root, synthVariants(root, app), app.externals, quick ? 3 : 8, log);
    log('synth: CPU profile of the bundled app (3 environments)');
    results.synth = { ...synth, profile: await profileSynth(root, app.current) };
  }

  if (only.has('scale')) {
    log('scale: 10, 100 and 500 generated environments');
    // The same app writing to a tmpfs: the synth's own work, without this machine's disk.
    const tmpfs = writableTmpfs();
    const apps: ScaleApp[] = [
      { id: 'current', label: 'the app as it is', bundle: app.current },
      ...(tmpfs ? [{ id: 'current-tmpfs', label: `the app as it is, output on tmpfs (${tmpfs})`, bundle: app.current, outRoot: tmpfs }] : []),
      ...(app.proposed ? [{ id: 'proposed', label: 'with the proposed changes', bundle: app.proposed }] : []),
    ];
    const scale = await benchScale(root, apps, [10, 100, 500], quick ? 1 : 3, quick ? 30_000 : 60_000, log);
    const dir = mkdtempSync(join(tmpdir(), 'bench-prof-envs-'));
    try {
      // Profile the largest size the app as it is finished (a quadratic app would not finish 500).
      const current = scale.series.find((v) => v.id === 'current')!;
      const size = [...current.points].reverse().find((p) => !p.timedOut)?.environments ?? 10;
      generateEnvironments(root, join(dir, 'envs'), size);
      log(`scale: CPU profile of a ${size}-environment synth`);
      results.scale = {
        ...scale,
        profiles: [{ title: `CPU profile of a ${size}-environment synth (the app as it is)`, environments: size, profile: await profileSynth(root, app.current, join(dir, 'envs')) }],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // The relay sections run one Postfix generation: 3.10 (the image's) unless --postfix=host.
  let postfix: PostfixUnderTest | undefined;
  const relayModule = launch.relayScript ? (require(launch.relayScript) as RelayModule) : undefined;
  if ((only.has('relay') || only.has('pod')) && relayModule) {
    const generation = value('postfix') ?? '3.10';
    if (generation !== 'host' && generation !== '3.10') throw new Error(`--postfix=${generation}: the bench runs 3.10 (the Debian 13 root) or host`);
    try {
      postfix = relayModule.usePostfixGeneration(generation, log);
      results.postfix = postfix;
      log(`relay: Postfix ${postfix.version} (${postfix.generation === '3.10' ? `the Debian 13 root ${relative(root, postfix.root!)}, wrappers first in PATH` : "the host's own"}; the host's is ${postfix.hostVersion})`);
    } catch (err) {
      const why = `no Postfix ${generation} to run (${(err as Error).message}); the bench never falls back to another generation`;
      for (const s of ['relay', 'pod'] as const) if (only.has(s)) results.skipped[s] = why;
      log(`relay, pod: SKIPPED: ${why}`);
    }
  }

  if (only.has('relay') && !results.skipped.relay) {
    if (!relayModule || !postfix) {
      results.skipped.relay = `the relay bench did not build (does test/integration/harness exist yet?): ${launch.relayBuildError ?? 'unknown error'}`;
      log(`relay: SKIPPED: ${results.skipped.relay}`);
    } else {
      const configs = value('relay-configs')?.split(',').filter(Boolean);
      results.relay = await relayModule.runRelayBench({ root, sinkScript: launch.sinkScript, quick, log, postfix, ...(configs ? { only: configs } : {}), wan: flag('relay-wan') });
    }
  }

  if (only.has('pod') && !results.skipped.pod) {
    if (!relayModule || !postfix) {
      results.skipped.pod = `the relay bench did not build: ${launch.relayBuildError ?? 'unknown error'}`;
      log(`pod: SKIPPED: ${results.skipped.pod}`);
    } else {
      const configs = value('pod-configs')?.split(',').filter(Boolean);
      const numbers = (name: string) => value(name)?.split(',').filter(Boolean).map(Number);
      try {
        // --pod-try='name=value;name=value': prod plus these main.cf parameters, as one more configuration.
        const tryMainCf = value('pod-try') ? Object.fromEntries(argv.find((a) => a.startsWith('--pod-try='))!.slice('--pod-try='.length).split(';').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')).trim(), kv.slice(kv.indexOf('=') + 1).trim()])) : undefined;
        results.pod = await relayModule.runPodBench({
          root,
          sinkScript: launch.sinkScript,
          quick,
          log,
          postfix,
          ...(configs ? { only: configs } : {}),
          ...(tryMainCf ? { tryMainCf } : {}),
          ...(numbers('pod-sessions') ? { sessions: numbers('pod-sessions') } : {}),
          ...(value('pod-rounds') ? { heavyRounds: Number(value('pod-rounds')) } : {}),
          ...(numbers('pod-limits') ? { sweepLimits: numbers('pod-limits') } : {}),
        });
      } catch (err) {
        // No cgroups here (not root, no hierarchy): say so in the doc rather than fail the other sections.
        if (!/cannot run here/.test((err as Error).message)) throw err;
        results.skipped.pod = (err as Error).message;
        log(`pod: SKIPPED: ${results.skipped.pod}`);
      }
    }
  }

  if (only.has('tests')) {
    results.tests = [await timeSuite(root, 'unit', log)];
    if (flag('integration')) results.tests.push(await timeSuite(root, 'integration', log));
    else results.skipped.integration = 'the integration suite is timed only with `npm run bench -- --integration` (it takes minutes)';
  }

  results.finishedAt = new Date().toISOString();
  results.tookMs = Date.parse(results.finishedAt) - Date.parse(startedAt);
  // KEEP_TEST_DIRS (as for the integration tests) keeps the Postfix instances' folders and logs.
  if (!process.env.KEEP_TEST_DIRS) rmSync(scratch, { recursive: true, force: true });
  else log(`KEEP_TEST_DIRS: the run's temporary files stay in ${scratch}`);
  results.load = monitor.stop();
  mkdirSync(benchDir(root), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  if (quick && !flag('write-doc')) {
    log(`--quick: results in ${resultsFile}; docs/PERFORMANCE.md left alone (add --write-doc to overwrite it)`);
    return;
  }
  const markdown = writeReport(results, docFile, chartFile, podChartFile);
  log(`wrote ${docFile} and its charts; the run took ${(results.tookMs / 60_000).toFixed(1)} minutes`);
  // The goals table on the console too, for CI logs.
  const goals = markdown.split('\n## ')[1]?.split('\n').filter((l) => l.startsWith('|')) ?? [];
  process.stdout.write(`${goals.join('\n')}\n`);
}

function writeReport(results: BenchResults, docFile: string, chartFile: string, podChartFile: string): string {
  const { markdown, svg, podSvg } = renderReport(results);
  mkdirSync(join(docFile, '..'), { recursive: true });
  writeFileSync(docFile, markdown);
  // Only a run with the relay (pod) section has its chart (and only then does the doc show it).
  if (svg) writeFileSync(chartFile, svg);
  if (podSvg) writeFileSync(podChartFile, podSvg);
  return markdown;
}

/** /dev/shm when it is a writable tmpfs (Linux), else undefined. */
function writableTmpfs(): string | undefined {
  const dir = '/dev/shm';
  try {
    accessSync(dir, constants.W_OK);
    return statfsSync(dir).type === 0x01021994 ? dir : undefined; // TMPFS_MAGIC
  } catch {
    return undefined;
  }
}
