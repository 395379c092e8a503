import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cpuMillis, memoryBytes } from '../../src/config/formats';
import { loadEnvironmentFile } from '../../src/config/load';
import { CONFIG_FILES } from '../../src/postfix/layout';
import { descendants, findTool, freePort, isRunning, makeTestPki, startPostfix, stopAllPostfix, tempDir, type PostfixFiles, type PostfixInstance } from '../../test/integration/harness';
import { cgroupUnavailable, PodCgroup } from './cgroup';
import { CgroupSampler } from './cgroup-sampler';
import { deliveryCheck } from './delivery-check';
import { runLoad } from './load';
import { podConfigs, type PodConfig } from './pod-configs';
import { processRoot, versionLine } from './generation';
import type { PodConfigInfo, PodLevel, PodResult, PostfixUnderTest } from './pod-types';
import { prodSettings } from './prod-settings';
import { SinkProcess } from './sink-process';

/**
 * The relay at the pod's own limits: every configuration's Postfix (entrypoint, master and every
 * daemon) runs inside a cgroup with environments/prod.yaml's CPU and memory limits, and relays to
 * a loopback STARTTLS sink that records every Message-ID it receives. Clients keep N sessions busy
 * for a fixed time, one message per connection, each connection from a new loopback address (the
 * prod rate limits are per client; a cluster has many client pods). Configurations interleave at
 * each session count, in alternating order, so a neighbour's burst lands on all of them.
 */

export const SESSIONS = [1, 10, 50, 200] as const;
const POD_BURST = 200;
/** Session counts where the process-limit sweep runs and where rounds are repeated most (the goals are read there). */
const HEAVY_SESSIONS = [50, POD_BURST];
/** The sweep behind tuning.processLimit: from the old default (30) to where the schema's memory gate bites (100). */
const SWEEP_LIMITS = [30, 45, 60, 80, 100];
const MESSAGE_BYTES = 2048;
const FROM = 'bench@bionicaisolutions.com';
const TO = 'someone@example.com';
/** cpu.shares for the pod groups (the root's tasks have 1024 each): neighbours cannot take the CPU the quota allows. */
const SHARES = 8192;
const DRAIN_TIMEOUT_MS = 120_000;

export interface PodBenchOptions {
  root: string;
  sinkScript: string;
  quick: boolean;
  log: (s: string) => void;
  /** The Postfix to run (bench/relay/generation.ts); its stock files feed the stock-image configuration. */
  postfix: PostfixUnderTest;
  /** Only these configuration ids. */
  only?: string[];
  /** Only these session counts (default 1, 10, 50, 200). */
  sessions?: number[];
  /** An extra configuration "try": prod with these main.cf parameters (to test a tuning idea). */
  tryMainCf?: Record<string, string>;
  /** Rounds at 50 and 200 sessions. */
  heavyRounds?: number;
  /** Process limits of the sweep (the shipped one is prod itself). */
  sweepLimits?: number[];
}

interface Running {
  config: PodConfig;
  group: PodCgroup;
  instance: PostfixInstance;
  sampler: CgroupSampler;
  sink: SinkProcess;
}

export async function runPodBench(o: PodBenchOptions): Promise<PodResult> {
  const began = Date.now();
  const unavailable = cgroupUnavailable();
  if (unavailable) throw new Error(`the pod-limits bench cannot run here: ${unavailable}`);
  for (const tool of ['postfix', 'postconf', 'postqueue', 'openssl']) {
    if (!findTool(tool)) throw new Error(`the pod-limits bench needs ${tool}: apt-get install -y --no-install-recommends postfix openssl`);
  }
  const env = loadEnvironmentFile(join(o.root, 'environments', 'prod.yaml'));
  const limits = { cpuMillicores: cpuMillis(env.resources.limits.cpu), memoryBytes: memoryBytes(env.resources.limits.memory), shares: SHARES };
  const durationMs = o.quick ? 4_000 : 8_000;
  // Not measured: the master starts the processes this many sessions need, and the queue reaches its steady state.
  const warmupMs = o.quick ? 1_000 : 1_500;
  const rounds = o.quick ? 1 : 2;
  const heavyRounds = o.heavyRounds ?? (o.quick ? 1 : 3);
  const sweepLimits = o.sweepLimits ?? (o.quick ? [30, 100] : SWEEP_LIMITS);
  const sweepSessions = [...HEAVY_SESSIONS];
  // One relayConcurrency variant at the shipped process limit: 10 and 20 relay connections, whichever is not shipped.
  const relayVariants = o.quick ? [] : [10, 20].filter((rc) => rc !== env.tuning.relayConcurrency);
  const prod = prodSettings(env, sweepLimits, relayVariants);
  const openShares = o.quick ? [0.5, 0.9] : [0.25, 0.5, 0.75, 1];
  const all = podConfigs(env, { processLimits: sweepLimits, relayConcurrency: relayVariants, noCache: { sessions: [1], openShares: [0.5] } }, o.tryMainCf, o.postfix.stockDir);
  const configs = all.filter((c) => !o.only?.length || o.only.includes(c.id));
  const notes: string[] = [];

  const pki = makeTestPki(tempDir('bench-pod-pki-'));
  const running: Running[] = [];
  const sinks: SinkProcess[] = [];
  // The load generator (this process) and the sinks stand for the applications and Google: on a
  // shared machine they must not starve either, or the pod waits for its clients. Same weight as
  // the pods, no quota, no memory limit.
  const clients = PodCgroup.create(`email-bench-${process.pid}-clients`, { cpuMillicores: 0, memoryBytes: 0, shares: SHARES });
  clients.add(process.pid);
  const onExit = () => {
    for (const s of sinks) s.kill();
    clients.release(process.pid);
    clients.destroy();
    for (const r of running) r.group.destroy();
  };
  process.once('exit', onExit);
  let block = 100;
  const levels: PodLevel[] = [];
  try {
    const start = async (config: PodConfig): Promise<void> => {
      // One sink per configuration: configurations measured at the same time must not share one
      // (its time of the last message received is the end of a round's delivery).
      const sink = await SinkProcess.start(o.sinkScript, pki.good.key, pki.good.cert);
      sinks.push(sink);
      clients.add(sink.pid);
      const group = PodCgroup.create(`email-bench-${process.pid}-${config.id}`, limits);
      const port = await freePort();
      let instance: PostfixInstance;
      try {
        instance = await startPostfix({
          env: config.env,
          relay: { port: sink.port },
          caFile: pki.caFile,
          port,
          mainCf: config.mainCf,
          editFiles: (files) => joinGroup(config.editFiles ? config.editFiles(files, port) : files, group),
          readyTimeoutMs: 60_000,
        });
      } catch (err) {
        group.destroy();
        throw err;
      }
      const r: Running = { config, group, instance, sampler: new CgroupSampler(group), sink };
      running.push(r);
      const master = instance.masterPid();
      if (!master || !group.pids().includes(master)) throw new Error(`${config.id}: the Postfix master (pid ${master}) is not in cgroup ${group.name}`);
      const outside = processesOutside(r);
      if (outside.length) throw new Error(`${config.id}: processes of the instance outside cgroup ${group.name}: ${outside.join(' ')}`);
      const seen = processRoot(master);
      if (o.postfix.root && seen !== o.postfix.root) throw new Error(`${config.id}: the master runs in ${seen ?? '?'}, not in the Postfix ${o.postfix.version} root ${o.postfix.root}`);
      const line = versionLine(instance.log());
      if (line) o.postfix.versionLines[`pod:${config.id}`] = line;
      o.log(`pod: started ${config.id} (${line ?? 'no version line'}) on 127.0.0.1:${port} in cgroup ${group.version} ${group.name} (${limits.cpuMillicores}m, ${prod.memoryLimitMiB} MiB)`);
    };
    // A few at a time: each start runs `postfix check` and the entrypoint's set-up.
    for (let i = 0; i < configs.length; i += 4) await Promise.all(configs.slice(i, i + 4).map(start));
    // The configuration order, whatever order the starts finished in.
    running.sort((a, b) => configs.indexOf(a.config) - configs.indexOf(b.config));

    const measure = async (r: Running, sessions: number, round: number, kind: PodLevel['kind'], alongside: string[], offered?: { perSecond: number; share: number }): Promise<void> => {
      block = block >= 250 ? 100 : block + 1;
      const level = await measureLevel(r, sessions, round, { durationMs, warmupMs, kind, ...(offered ? { offered } : {}) }, `q${block}r${round}`, block);
      level.alongside = alongside;
      level.outsideGroup = processesOutside(r).length;
      if (level.outsideGroup) throw new Error(`${r.config.id}: ${level.outsideGroup} processes of the instance left cgroup ${r.group.name} during the round: the CPU and memory figures would be wrong`);
      levels.push(level);
      o.log(
        `pod: ${r.config.id} ${offered ? `offered ${offered.perSecond.toFixed(1)}/s (${Math.round(offered.share * 100)}% of capacity)` : `at ${sessions} sessions`} (round ${round + 1}${alongside.length ? `, with ${alongside.join(', ')}` : ''}): accepted ${level.accepted} (${level.acceptedPerSecond.toFixed(1)}/s), delivered ${level.delivered} (${Number(level.deliveredPerSecond).toFixed(1)}/s), ` +
          `failed ${level.errors + level.rejected}, p50 ${level.latencyMs.p50.toFixed(0)} p99 ${level.latencyMs.p99.toFixed(0)} ms (transaction p99 ${level.transactionMs.p99.toFixed(0)}), ` +
          `lost ${level.lost}, dup ${level.duplicates}, ` +
          `CPU ${(level.cgroup.cpuMs / Math.max(1, level.accepted)).toFixed(2)} ms/msg at ${((level.load.cpuMs / level.load.wallMs) * 1000).toFixed(0)}m, throttled ${pctText(level.load.throttledPeriods, level.load.periods)}, ` +
          `peak ${(level.cgroup.peakBytes / 1024 ** 2).toFixed(0)} MiB (working set ${level.peak.workingSetMiB.toFixed(0)}, PSS ${level.peak.pssMiB.toFixed(0)}, ${level.peak.processes} processes), OOM ${level.cgroup.oomKills}` +
          (level.firstProblem ? `; first problem: ${level.firstProblem}` : ''),
      );
    };
    /**
     * Configurations measured at the same time, each in its own cgroup with its own sink: they see
     * the same neighbours at the same moment, so ratios between them are paired per round.
     */
    const batch = async (list: Running[], sessions: number, round: number, kind: (r: Running) => PodLevel['kind']): Promise<void> => {
      await Promise.all(list.map((r) => measure(r, sessions, round, kind(r), list.filter((b) => b !== r).map((b) => b.config.id))));
    };

    const main = running.filter((r) => !r.config.sweepOnly);
    // The sweep: every process limit (and relayConcurrency variant) at once.
    const sweep = running.filter((r) => r.config.sweepOnly && r.config.variant?.processLimit !== undefined);
    const sessionLevels = o.sessions?.length ? o.sessions : [...SESSIONS];
    for (const sessions of sessionLevels) {
      const heavy = HEAVY_SESSIONS.includes(sessions);
      // Variants that matter at this session count (the connection cache at light load) run with the main ones.
      const extra = running.filter((r) => r.config.sweepAt?.includes(sessions));
      for (let round = 0; round < (heavy ? heavyRounds : rounds); round++) {
        const batches: [Running[], (r: Running) => PodLevel['kind']][] = [[[...main, ...extra], (r) => (r.config.sweepOnly ? 'sweep' : 'closed')]];
        if (heavy && sweep.length) batches.push([sweep, () => 'sweep']);
        if (round % 2 === 1) batches.reverse();
        for (const [list, kind] of batches) await batch(list, sessions, round, kind);
      }
    }

    const prodRun = running.find((r) => r.config.id === 'prod');
    // Open loop: prod at fractions of the capacity it just showed (its CPU limit over its CPU per
    // message at 50 sessions): how latency and throttling grow with the CPU use the HPA targets.
    const ref = levels.filter((l) => l.config === 'prod' && l.kind === 'closed' && l.accepted > 0);
    if (prodRun && ref.length) {
      const at50 = ref.filter((l) => l.sessions === 50);
      const use = at50.length ? at50 : ref;
      const cpuPerMessage = use.reduce((a, l) => a + l.cgroup.cpuMs, 0) / use.reduce((a, l) => a + l.accepted, 0);
      const capacity = limits.cpuMillicores / cpuPerMessage;
      for (const share of openShares) {
        const list = [prodRun, ...running.filter((v) => v.config.openAt?.includes(share))];
        const offered = { perSecond: Math.max(1, capacity * share), share };
        await Promise.all(list.map((r) => measure(r, POD_BURST, 0, 'open', list.filter((b) => b !== r).map((b) => b.config.id), offered)));
      }
    }

    const infos: PodConfigInfo[] = running.map((r) => {
      const log = r.instance.log();
      const line = versionLine(log);
      const master = r.instance.masterPid();
      const seen = master ? processRoot(master) : undefined;
      return {
        id: r.config.id,
        label: r.config.label,
        description: r.config.description,
        overrides: r.config.overrides,
        ...(r.config.variant ? { variant: r.config.variant } : {}),
        processLimit: r.config.processLimit,
        relayConcurrency: r.config.relayConcurrency,
        ...listenBacklog(r.instance.port),
        ...(r.config.extraMainCf ? { extraMainCf: r.config.extraMainCf } : {}),
        ...(line ? { versionLine: line } : {}),
        ...(seen ? { processRoot: seen } : {}),
        tlsEvidence: tlsEvidence(log),
        logProblems: problems(log),
      };
    });
    return {
      cgroupVersion: running[0]?.group.version ?? 'v1',
      postfix: o.postfix,
      roundsBySessions: Object.fromEntries(sessionLevels.map((s) => [String(s), HEAVY_SESSIONS.includes(s) ? heavyRounds : rounds])),
      warmupMs,
      limits: { cpuMillicores: limits.cpuMillicores, memoryMiB: prod.memoryLimitMiB, shares: SHARES },
      prod,
      messageBytes: MESSAGE_BYTES,
      sessions: sessionLevels,
      rounds,
      durationMs,
      sweepSessions,
      openShares,
      configs: infos,
      levels,
      notes,
      tookMs: Date.now() - began,
    };
  } finally {
    for (const r of running) r.sampler.stop();
    await stopAllPostfix();
    for (const r of running) {
      if (!r.group.destroy()) o.log(`pod: cgroup ${r.group.name} still has processes (${r.group.pids().join(' ')}); left in place`);
    }
    await Promise.all(sinks.map((s) => s.stop()));
    clients.release(process.pid);
    clients.destroy();
    process.off('exit', onExit);
  }
}

/**
 * Processes of the instance (the entrypoint, the master and every descendant of either) that are
 * not in the pod's cgroup. The Postfix 3.10 wrappers exec (unshare, sh, chroot), so nothing should
 * ever be outside; a process that was would run without the pod's limits.
 */
function processesOutside(r: Running): number[] {
  const entry = r.instance.process.pid;
  const master = r.instance.masterPid();
  const tree = new Set<number>([...(entry ? [entry, ...descendants(entry)] : []), ...(master ? [master, ...descendants(master)] : [])]);
  const inside = new Set(r.group.pids());
  // A process that exited between the two reads is gone, not outside.
  return [...tree].filter((pid) => !inside.has(pid) && isRunning(pid));
}

/** The entrypoint's first command moves its shell into the pod group, before anything forks. */
function joinGroup(files: PostfixFiles, group: PodCgroup): PostfixFiles {
  const script = files[CONFIG_FILES.entrypoint];
  const lines = script.split('\n');
  const at = lines[0]?.startsWith('#!') ? 1 : 0;
  lines.splice(at, 0, `# bench: run inside the pod's cgroup (${group.name})`, group.joinShellLine());
  return { ...files, [CONFIG_FILES.entrypoint]: lines.join('\n') };
}

async function measureLevel(
  r: Running,
  sessions: number,
  round: number,
  { durationMs, warmupMs, kind, offered }: { durationMs: number; warmupMs: number; kind: PodLevel['kind']; offered?: { perSecond: number; share: number } },
  runId: string,
  block: number,
): Promise<PodLevel> {
  const discard = r.config.id === 'ceiling';
  const sink = r.sink;
  const common = {
    host: '127.0.0.1',
    port: r.instance.port,
    concurrency: sessions,
    messages: 1_000_000,
    deadlineMs: 60_000,
    messageBytes: MESSAGE_BYTES,
    from: FROM,
    to: TO,
    ehloName: 'bench-client.example.com',
    trackIds: true,
    ...(offered ? { arrivalsPerSecond: offered.perSecond } : {}),
  };
  // One continuous load: an unmeasured warm-up (the master starts the processes this many sessions
  // need; at 200 sessions the first burst of connects lands here), then the measured window, with
  // the sessions busy across the edge. Every message of the round counts for loss.
  const sinkStart = await sink.stats();
  let windowStart: { at: number; group: ReturnType<PodCgroup['stats']>; sink: ReturnType<SinkProcess['stats']> } | undefined;
  let windowEnd: { group: ReturnType<PodCgroup['stats']>; sink: Promise<number> } | undefined;
  const load = await runLoad({
    ...common,
    warmupMs,
    durationMs,
    deadlineMs: warmupMs + durationMs + 60_000,
    runId,
    // A new client address per connection: 127.<block>.x.y.
    localAddressFor: (n) => `127.${block}.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`,
    onWindow: (edge) => {
      if (edge === 'start') {
        r.sampler.start();
        windowStart = { at: Date.now(), group: r.group.stats(), sink: sink.stats() };
      } else windowEnd = { group: r.group.stats(), sink: sink.stats().then((v) => v.messages) };
    },
  });
  const after = r.group.stats();
  if (!windowStart) {
    // The load ended during the warm-up (a deadline): measure what there is.
    r.sampler.start();
    windowStart = { at: Date.now(), group: after, sink: sink.stats() };
  }
  // The load can end before the window does (a deadline): the window ends with it.
  const windowMs = Math.max(1, Math.min(durationMs, load.elapsedMs - warmupMs));
  const sinkStats = await windowStart.sink;
  const sinkBefore = sinkStats.messages;
  const sinkAtWindow = windowEnd ? await windowEnd.sink : (await sink.stats()).messages;
  const atWindow = windowEnd?.group ?? after;
  const before = windowStart.group;
  const want = discard ? 0 : load.accepted;
  const sinkAfter = await waitForSink(sink, sinkStart.messages + want, DRAIN_TIMEOUT_MS);
  const window = r.sampler.finish();
  const received = await sink.ids(runId);
  const check = deliveryCheck(load.acceptedIds ?? [], received);
  const { lost, duplicates, unacknowledged } = check;
  // The rate: the messages accepted after the warm-up, all delivered, from the window's start to the last one received.
  const afterWarmup = load.acceptedIdsAfterWarmup ?? [];
  const delivered = afterWarmup.filter((id) => received[id]).length;
  const queued = r.instance.queue().length;
  const lastAt = delivered > 0 ? sinkAfter.lastMessageAt : load.endedAt;
  const mib = (b: number) => b / 1024 ** 2;
  return {
    config: r.config.id,
    kind,
    ...(offered ? { offeredPerSecond: offered.perSecond, offeredShare: offered.share } : {}),
    sessions,
    round,
    durationMs,
    warmupMs,
    attempted: load.attempted,
    accepted: load.acceptedAfterWarmup,
    acceptedWithWarmup: load.accepted,
    rejected: load.rejected,
    errors: load.errors,
    ...(load.firstProblem ? { firstProblem: load.firstProblem } : {}),
    acceptedPerSecond: (load.acceptedInWindow * 1000) / windowMs,
    windowDeliveredPerSecond: discard ? NaN : ((sinkAtWindow - sinkBefore) * 1000) / windowMs,
    loadMs: load.elapsedMs,
    delivered,
    deliveredPerSecond: discard ? NaN : (delivered * 1000) / Math.max(1, lastAt - windowStart.at),
    lost: discard ? 0 : lost,
    duplicates,
    unacknowledged,
    queued,
    latencyMs: load.latencyMs,
    latencyAllMs: load.latencyAllMs,
    transactionMs: load.transactionMs,
    sinkConnections: sinkAfter.connections - sinkStats.connections,
    sinkTlsConnections: sinkAfter.tlsConnections - sinkStats.tlsConnections,
    sinkMessages: sinkAfter.messages - sinkBefore,
    load: { cpuMs: atWindow.cpuMs - before.cpuMs, wallMs: windowMs, periods: atWindow.periods - before.periods, throttledPeriods: atWindow.throttledPeriods - before.throttledPeriods },
    cgroup: window.cgroup,
    byCommand: window.byCommand,
    peak: {
      anonMiB: mib(window.peak.anonBytes),
      workingSetMiB: mib(window.peak.workingSetBytes),
      pssMiB: window.peak.pssMiB,
      processes: window.peak.processes,
      pssByCommand: window.peak.pssByCommand,
    },
  };
}

async function waitForSink(sink: SinkProcess, count: number, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  let stats = await sink.stats();
  let last = stats.messages;
  let lastChange = Date.now();
  while (stats.messages < count && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    stats = await sink.stats();
    if (stats.messages !== last) {
      last = stats.messages;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 30_000) break; // nothing moves: report what arrived
  }
  // A short settle, so a message Postfix sends twice (it must not) shows up as a duplicate.
  await new Promise((r) => setTimeout(r, 500));
  return sink.stats();
}

/** The listen backlog of 127.0.0.1:port from `ss -ltn` (its Send-Q column), when ss is installed. */
function listenBacklog(port: number): { listenBacklog?: number } {
  try {
    const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const q = Number(out.trim().split(/\s+/)[2]);
    return Number.isFinite(q) ? { listenBacklog: q } : {};
  } catch {
    return {};
  }
}

const pctText = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(0)}%` : '-');

function tlsEvidence(log: string): string {
  const line = log.split('\n').find((l) => /TLS connection (established|reused)/.test(l));
  if (!line) return 'no TLS line in the log';
  return line.replace(/^.*?postfix/, 'postfix').replace(/\[\d+\]/, '');
}

/** Warnings and errors from a maillog, with ids and counters stripped so repeats collapse. */
export function problems(log: string): string[] {
  const seen = new Map<string, number>();
  for (const line of log.split('\n')) {
    if (!/\b(warning|error|fatal|panic):/.test(line)) continue;
    const key = line
      .replace(/^.*?postfix/, 'postfix')
      .replace(/\[\d+\]/g, '')
      .replace(/\b[0-9A-F]{8,}\b/g, 'QUEUEID')
      .replace(/127\.\d+\.\d+\.\d+/g, '127.x')
      .replace(/:\d{4,5}\b/g, ':PORT');
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([k, n]) => `${n}x ${k}`);
}
