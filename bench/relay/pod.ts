import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cpuMillis, memoryBytes } from '../../src/config/formats';
import { loadEnvironmentFile } from '../../src/config/load';
import { CONFIG_FILES } from '../../src/postfix/layout';
import { findTool, freePort, makeTestPki, startPostfix, stopAllPostfix, tempDir, type PostfixFiles, type PostfixInstance } from '../../test/integration/harness';
import { cgroupUnavailable, PodCgroup } from './cgroup';
import { CgroupSampler } from './cgroup-sampler';
import { deliveryCheck } from './delivery-check';
import { runLoad } from './load';
import { podConfigs, type PodConfig } from './pod-configs';
import type { PodConfigInfo, PodLevel, PodResult } from './pod-types';
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
  /** Only these configuration ids. */
  only?: string[];
  /** Only these session counts (default 1, 10, 50, 200). */
  sessions?: number[];
  /** An extra configuration "try": prod with these main.cf parameters (to test a tuning idea). */
  tryMainCf?: Record<string, string>;
}

interface Running {
  config: PodConfig;
  group: PodCgroup;
  instance: PostfixInstance;
  sampler: CgroupSampler;
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
  const warmupMs = o.quick ? 1_500 : 2_000;
  const rounds = o.quick ? 1 : 2;
  // The sweep behind tuning.processLimit: around the shipped value, up to where memory runs out.
  const sweepLimits = o.quick ? [30, 100] : [30, 60, 100];
  const sweepSessions = [200];
  const prod = prodSettings(env, sweepLimits);
  const openShares = o.quick ? [0.5, 0.9] : [0.25, 0.5, 0.75, 1];
  const all = podConfigs(env, { processLimits: sweepLimits, relayConcurrency: o.quick ? [] : [10], noCache: { sessions: [1], openShares: [0.5] } }, o.tryMainCf);
  const configs = all.filter((c) => !o.only?.length || o.only.includes(c.id));
  const notes: string[] = [];

  const pki = makeTestPki(tempDir('bench-pod-pki-'));
  const sink = await SinkProcess.start(o.sinkScript, pki.good.key, pki.good.cert);
  const running: Running[] = [];
  // The load generator (this process) and the sink stand for the applications and Google: on a
  // shared machine they must not starve either, or the pod waits for its clients. Same weight as
  // the pods, no quota, no memory limit.
  const clients = PodCgroup.create(`email-bench-${process.pid}-clients`, { cpuMillicores: 0, memoryBytes: 0, shares: SHARES });
  clients.add(process.pid);
  clients.add(sink.pid);
  const onExit = () => {
    sink.kill();
    clients.release(process.pid);
    clients.destroy();
    for (const r of running) r.group.destroy();
  };
  process.once('exit', onExit);
  let block = 100;
  const levels: PodLevel[] = [];
  try {
    for (const config of configs) {
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
      const master = instance.masterPid();
      if (!master || !group.pids().includes(master)) throw new Error(`${config.id}: the Postfix master (pid ${master}) is not in cgroup ${group.name}`);
      running.push({ config, group, instance, sampler: new CgroupSampler(group) });
      o.log(`pod: started ${config.id} on 127.0.0.1:${port} in cgroup ${group.version} ${group.name} (${limits.cpuMillicores}m, ${prod.memoryLimitMiB} MiB)`);
    }

    const measure = async (r: Running, sessions: number, round: number, kind: PodLevel['kind'] = 'closed', offered?: { perSecond: number; share: number }): Promise<void> => {
      block = block >= 250 ? 100 : block + 1;
      const level = await measureLevel(r, sink, sessions, round, { durationMs, warmupMs, kind, ...(offered ? { offered } : {}) }, `q${block}r${round}`, block);
      levels.push(level);
      o.log(
        `pod: ${r.config.id} ${offered ? `offered ${offered.perSecond.toFixed(1)}/s (${Math.round(offered.share * 100)}% of capacity)` : `at ${sessions} sessions`} (round ${round + 1}): accepted ${level.accepted} (${level.acceptedPerSecond.toFixed(1)}/s), delivered ${level.delivered} (${level.windowDeliveredPerSecond.toFixed(1)}/s in the window), ` +
          `failed ${level.errors + level.rejected}, p50 ${level.latencyMs.p50.toFixed(0)} p99 ${level.latencyMs.p99.toFixed(0)} ms (transaction p99 ${level.transactionMs.p99.toFixed(0)}), ` +
          `lost ${level.lost}, dup ${level.duplicates}, ` +
          `CPU ${(level.load.cpuMs / Math.max(1, level.accepted)).toFixed(2)} ms/msg at ${((level.load.cpuMs / level.load.wallMs) * 1000).toFixed(0)}m, throttled ${pctText(level.load.throttledPeriods, level.load.periods)}, ` +
          `peak ${(level.cgroup.peakBytes / 1024 ** 2).toFixed(0)} MiB (working set ${level.peak.workingSetMiB.toFixed(0)}, PSS ${level.peak.pssMiB.toFixed(0)}), OOM ${level.cgroup.oomKills}` +
          (level.firstProblem ? `; first problem: ${level.firstProblem}` : ''),
      );
    };

    const main = running.filter((r) => !r.config.sweepOnly);
    const sessionLevels = o.sessions?.length ? o.sessions : [...SESSIONS];
    for (const sessions of sessionLevels) {
      // One round at the burst count: its clients wait up to 30 s for a greeting, so it is the slowest.
      for (let round = 0; round < (sessions >= POD_BURST ? 1 : rounds); round++) {
        const order = round % 2 === 0 ? main : [...main].reverse();
        for (const r of order) await measure(r, sessions, round);
      }
    }
    // The sweep: prod and its variants at the session counts that decide the defaults.
    const sweep = running.filter((r) => r.config.sweepOnly || r.config.id === 'prod');
    if (sweep.length > 1) {
      for (const sessions of sweepSessions) {
        for (const r of sweep) {
          // prod already ran these in the main schedule.
          if (r.config.id === 'prod' || r.config.sweepAt) continue;
          await measure(r, sessions, 0, 'sweep');
        }
      }
    }
    // Variants that matter at other session counts (the connection cache: light traffic).
    for (const r of running.filter((v) => v.config.sweepAt)) for (const sessions of r.config.sweepAt!) await measure(r, sessions, 0, 'sweep');

    // Open loop: prod at fractions of the capacity it just showed (its CPU limit over its CPU per
    // message at 50 sessions): how latency and throttling grow with the CPU use the HPA targets.
    const prodRun = running.find((r) => r.config.id === 'prod');
    const ref = levels.filter((l) => l.config === 'prod' && l.kind === 'closed' && l.accepted > 0);
    if (prodRun && ref.length) {
      const at50 = ref.filter((l) => l.sessions === 50);
      const use = at50.length ? at50 : ref;
      const cpuPerMessage = use.reduce((a, l) => a + l.cgroup.cpuMs, 0) / use.reduce((a, l) => a + l.accepted, 0);
      const capacity = limits.cpuMillicores / cpuPerMessage;
      for (const share of openShares) {
        for (const r of [prodRun, ...running.filter((v) => v.config.openAt?.includes(share))]) await measure(r, 200, 0, 'open', { perSecond: Math.max(1, capacity * share), share });
      }
    }

    const infos: PodConfigInfo[] = running.map((r) => {
      const log = r.instance.log();
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
        tlsEvidence: tlsEvidence(log),
        logProblems: problems(log),
      };
    });
    return {
      cgroupVersion: running[0]?.group.version ?? 'v1',
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
    await sink.stop();
    clients.release(process.pid);
    clients.destroy();
    process.off('exit', onExit);
  }
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
  sink: SinkProcess,
  sessions: number,
  round: number,
  { durationMs, warmupMs, kind, offered }: { durationMs: number; warmupMs: number; kind: PodLevel['kind']; offered?: { perSecond: number; share: number } },
  runId: string,
  block: number,
): Promise<PodLevel> {
  const discard = r.config.id === 'ceiling';
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
  const sinkStart = await sink.stats();
  // Warm-up: its messages count for loss like the others, nothing else of it is measured.
  const warm = await runLoad({ ...common, durationMs: warmupMs, runId: `${runId}w`, localAddressFor: (n) => `127.${block}.${249 - (Math.floor(n / 250) % 50)}.${(n % 250) + 1}` });
  const sinkBefore = await sink.stats();
  r.sampler.start();
  const before = r.group.stats();
  // The sink's count when the sustained window closes.
  let sinkAtWindow: number | undefined;
  let groupAtWindow: ReturnType<PodCgroup['stats']> | undefined;
  const windowTimer = setTimeout(() => {
    groupAtWindow = r.group.stats();
    void sink.stats().then((s) => (sinkAtWindow = s.messages));
  }, durationMs);
  const load = await runLoad({
    ...common,
    durationMs,
    deadlineMs: durationMs + 60_000,
    runId,
    // A new client address per connection: 127.<block>.x.y (the warm-up used the top of the block).
    localAddressFor: (n) => `127.${block}.${Math.floor(n / 250) % 200}.${(n % 250) + 1}`,
  });
  clearTimeout(windowTimer);
  const after = r.group.stats();
  // The load can end before the window does (open loop, or a deadline): the window ends with it.
  const windowMs = Math.min(durationMs, load.elapsedMs);
  sinkAtWindow ??= (await sink.stats()).messages;
  const atWindow = groupAtWindow ?? after;
  const want = discard ? 0 : warm.accepted + load.accepted;
  const sinkAfter = await waitForSink(sink, sinkStart.messages + want, DRAIN_TIMEOUT_MS);
  const window = r.sampler.finish();
  const measured = await sink.ids(runId);
  const check = deliveryCheck([...(load.acceptedIds ?? []), ...(warm.acceptedIds ?? [])], { ...measured, ...(await sink.ids(`${runId}w`)) });
  const { lost, duplicates, unacknowledged } = check;
  const delivered = Object.keys(measured).length;
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
    attempted: load.attempted,
    accepted: load.accepted,
    rejected: load.rejected,
    errors: load.errors,
    ...(load.firstProblem ? { firstProblem: load.firstProblem } : {}),
    acceptedPerSecond: (load.acceptedInWindow * 1000) / windowMs,
    windowDeliveredPerSecond: discard ? NaN : ((sinkAtWindow - sinkBefore.messages) * 1000) / windowMs,
    loadMs: load.elapsedMs,
    delivered,
    deliveredPerSecond: discard ? NaN : (delivered * 1000) / Math.max(1, lastAt - load.startedAt),
    lost: discard ? 0 : lost,
    duplicates,
    unacknowledged,
    queued,
    latencyMs: load.latencyMs,
    transactionMs: load.transactionMs,
    sinkConnections: sinkAfter.connections - sinkBefore.connections,
    sinkTlsConnections: sinkAfter.tlsConnections - sinkBefore.tlsConnections,
    sinkMessages: sinkAfter.messages - sinkBefore.messages,
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
