import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadEnvironmentFile } from '../../src/config/load';
import { cpuMillis, memoryBytes } from '../../src/config/formats';
import { findTool, freePort, makeTestPki, startPostfix, stopAllPostfix, tempDir, type PostfixInstance } from '../../test/integration/harness';
import { relayConfigs, type RelayConfig } from './configs';
import { runLoad, type LoadOptions } from './load';
import { SinkProcess } from './sink-process';
import { cpuByCommand, treeCpuByPid, treeCpuMs, TreeMemorySampler } from './tree';
import type { RelayConfigResult, RelayDrain, RelayLevel, RelayResult, SinkAloneLevel } from './types';

export { runPodBench } from './pod';
export { usePostfixGeneration } from './generation';
import { versionLine } from './generation';
import type { PostfixUnderTest } from './pod-types';
import { prodSettings } from './prod-settings';

/**
 * Relay throughput: the prod configuration against Debian's stock one and against the
 * submission-only ceiling, on real Postfix, on the same load, in one run. All instances run at
 * once and the load levels interleave (every configuration at 1 client, then at 5, ...), so a
 * neighbour's burst of load does not land on one configuration only.
 */

const LEVELS = [1, 20, 50] as const;
const MESSAGES: Record<number, number> = { 1: 200, 20: 1200, 50: 1600 };
/** The WAN stand-in: about one round trip from a cluster to smtp-relay.gmail.com per reply. */
const WAN_REPLY_DELAY_MS = 10;
/** Which configurations also run against the WAN stand-in (the ceiling does not relay). */
const WAN_CONFIGS = new Set(['prod', 'stock', 'stock-tls']);
const MESSAGE_BYTES = 2048;
const LEVEL_DEADLINE_MS = 60_000;
const DRAIN_TIMEOUT_MS = 90_000;
/** Messages in the held backlog that measures relaying alone. */
const BACKLOG = 1000;
const FROM = 'bench@bionicaisolutions.com';
const TO = 'someone@example.com';

export interface RelayBenchOptions {
  root: string;
  sinkScript: string;
  quick: boolean;
  log: (s: string) => void;
  /** The Postfix to run (bench/relay/generation.ts); its stock files feed the stock configurations. */
  postfix: PostfixUnderTest;
  /** Only these configuration ids (e.g. prod, stock, prod@wan); all when empty. */
  only?: string[];
  /** Also the WAN stand-in configurations (without --relay-configs). */
  wan?: boolean;
}

interface Running {
  id: string;
  link: 'loopback' | 'wan';
  sink: SinkProcess;
  config: RelayConfig;
  instance: PostfixInstance;
  sampler: TreeMemorySampler;
  levels: RelayLevel[];
}

export async function runRelayBench(o: RelayBenchOptions): Promise<RelayResult> {
  for (const tool of ['postfix', 'postconf', 'postqueue', 'openssl']) {
    if (!findTool(tool)) throw new Error(`the relay bench needs ${tool}: apt-get install -y --no-install-recommends postfix openssl`);
  }
  const scale = o.quick ? 0.2 : 1;
  const messagesPerLevel = Object.fromEntries(LEVELS.map((c) => [c, Math.max(20, Math.round(MESSAGES[c]! * scale))]));
  const env = loadEnvironmentFile(join(o.root, 'environments', 'prod.yaml'));
  const pki = makeTestPki(tempDir('bench-pki-'));
  const ca = pki.caFile;
  const sink = await SinkProcess.start(o.sinkScript, pki.good.key, pki.good.cert);
  const wanSink = await SinkProcess.start(o.sinkScript, pki.good.key, pki.good.cert, WAN_REPLY_DELAY_MS);
  const onExit = () => {
    sink.kill();
    wanSink.kill();
  };
  process.once('exit', onExit);
  const running: Running[] = [];
  // Every simulated client connects from its own loopback address: the prod rate limits are per
  // client, as they are per pod in the cluster. A fresh block per level keeps anvil's counters apart.
  let addressBlock = 10;
  const base = (concurrency: number, messages: number): Omit<LoadOptions, 'host' | 'port'> => ({
    concurrency,
    messages,
    messageBytes: MESSAGE_BYTES,
    from: FROM,
    to: TO,
    ehloName: 'bench-client.example.com',
    deadlineMs: LEVEL_DEADLINE_MS,
    runId: `b${addressBlock}`,
    localAddresses: Array.from({ length: concurrency }, (_, i) => `127.${addressBlock}.${Math.floor(i / 250)}.${(i % 250) + 1}`),
  });

  try {
    o.log(`relay: the sink alone (pid ${sink.pid}, port ${sink.port})`);
    const sinkAlone: SinkAloneLevel[] = [];
    for (const c of o.only?.length ? [] : LEVELS) {
      for (const mode of ['plain, new connection per message', 'STARTTLS, new connection per message', 'STARTTLS, 100 messages per connection']) {
        addressBlock++;
        const load = await runLoad({
          ...base(c, messagesPerLevel[c]!),
          host: '127.0.0.1',
          port: sink.port,
          ...(mode.startsWith('STARTTLS') ? { tls: { ca: readCa(ca), servername: pki.relayName } } : {}),
          ...(mode.includes('100') ? { perConnection: 100 } : {}),
        });
        sinkAlone.push({ concurrency: c, mode, load });
        o.log(`relay: sink alone, ${mode}, ${c} clients: ${load.acceptedPerSecond.toFixed(0)} msg/s, p99 ${load.latencyMs.p99.toFixed(1)} ms`);
      }
    }

    const plan = relayConfigs(pki.relayName, o.postfix.stockDir).flatMap((config) => [
      { id: config.id, link: 'loopback' as const, sink, config },
      ...(WAN_CONFIGS.has(config.id) ? [{ id: `${config.id}@wan`, link: 'wan' as const, sink: wanSink, config }] : []),
    ]);
    // prod-tuned only when asked for: the pod-limits section sweeps the process limits instead.
    // By default loopback only: the WAN stand-in (--relay-wan) doubles the section's time for figures
    // the pod section does not need; prod-tuned only when asked for (the pod section sweeps the process limits).
    for (const p of plan.filter((p) => (o.only?.length ? o.only.includes(p.id) : p.id !== 'prod-tuned' && (o.wan || p.link === 'loopback')))) {
      const port = await freePort();
      const instance = await startPostfix({
        env,
        relay: { port: p.sink.port },
        caFile: ca,
        port,
        mainCf: p.config.mainCf,
        ...(p.config.editFiles ? { editFiles: (files) => p.config.editFiles!(files, port) } : {}),
      });
      const sampler = new TreeMemorySampler(instance.process.pid!);
      sampler.start(500);
      running.push({ ...p, instance, sampler, levels: [] });
      const line = versionLine(instance.log());
      if (line) o.postfix.versionLines[`relay:${p.id}`] = line;
      o.log(`relay: started ${p.id} (${line ?? 'no version line'}) on 127.0.0.1:${port} (entrypoint pid ${instance.process.pid})`);
    }

    // Two passes per level, the second in reverse order, each with half the messages; a level
    // keeps its better pass (a neighbour's burst of load can only slow a pass down).
    for (const c of LEVELS) {
      const passes: RelayLevel[][] = running.map(() => []);
      for (const pass of [0, 1]) {
        const order = pass === 0 ? running.map((_, i) => i) : running.map((_, i) => running.length - 1 - i);
        for (const i of order) {
          const r = running[i]!;
          const level = await measureLevel(r, c, Math.ceil(messagesPerLevel[c]! / 2), base);
          passes[i]!.push(level);
          addressBlock++;
          o.log(
            `relay: ${r.id} at ${c} clients, pass ${pass + 1}: accepted ${level.load.accepted}/${level.load.attempted} at ${level.load.acceptedPerSecond.toFixed(0)}/s, ` +
              `delivered ${level.delivered} at ${Number.isFinite(level.deliveredPerSecond) ? level.deliveredPerSecond.toFixed(0) : '-'}/s, ` +
              `p50 ${level.load.latencyMs.p50.toFixed(1)} ms, p99 ${level.load.latencyMs.p99.toFixed(1)} ms, ` +
              `sink connections ${level.sinkConnections} (TLS ${level.sinkTlsConnections}), PSS ${level.memory.pssMiB.toFixed(0)} MiB` +
              (level.load.firstProblem ? `, first problem: ${level.load.firstProblem}` : ''),
          );
        }
      }
      running.forEach((r, i) => {
        const ps = passes[i]!;
        const rate = (l: RelayLevel) => (r.config.id === 'ceiling' ? l.load.acceptedPerSecond : l.deliveredPerSecond);
        const best = ps.reduce((a, b) => (rate(b) > rate(a) ? b : a));
        r.levels.push({
          ...best,
          passes: ps.map(rate),
          memory: ps.reduce((a, b) => (b.memory.pssMiB > a.memory.pssMiB ? b : a)).memory,
        });
      });
    }

    // Relaying alone: the same backlog for every configuration that relays, interleaved.
    const drains = new Map<Running, RelayDrain>();
    for (const r of running.filter((v) => v.config.id !== 'ceiling')) {
      addressBlock++;
      const drain = await measureDrain(r, Math.round(BACKLOG * scale), base);
      drains.set(r, drain);
      o.log(
        `relay: ${r.id} draining a backlog of ${drain.messages}: ${drain.delivered} delivered at ${drain.deliveredPerSecond.toFixed(0)}/s over ` +
          `${drain.sinkConnections} connections (TLS ${drain.sinkTlsConnections}), ${drain.cpuMsPerMessage.toFixed(2)} ms CPU per message${drain.problem ? `; ${drain.problem}` : ''}`,
      );
    }

    const configs: RelayConfigResult[] = [];
    for (const r of running) {
      const peak = r.levels.reduce(
        (p, l) => ({ rssMiB: Math.max(p.rssMiB, l.memory.rssMiB), pssMiB: Math.max(p.pssMiB, l.memory.pssMiB), processes: Math.max(p.processes, l.memory.processes) }),
        { rssMiB: 0, pssMiB: 0, processes: 0 },
      );
      r.sampler.stop();
      const log = r.instance.log();
      configs.push({
        id: r.id,
        link: r.link,
        config: r.config.id,
        label: r.link === 'wan' ? `${r.config.label}, WAN` : r.config.label,
        description: r.config.description,
        overrides: r.config.overrides,
        levels: r.levels,
        peakMemory: peak,
        queueLeft: r.instance.queue().length,
        ehloNames: (await r.sink.stats()).ehloNames,
        logProblems: problems(log),
        tlsEvidence: tlsEvidence(log),
        ...(drains.has(r) ? { drain: drains.get(r)! } : {}),
      });
    }
    return {
      postfix: o.postfix,
      messageBytes: MESSAGE_BYTES,
      wanReplyDelayMs: WAN_REPLY_DELAY_MS,
      cpuLimitMillicores: cpuMillis(env.resources.limits.cpu),
      messagesPerLevel,
      memoryLimitMiB: memoryBytes(env.resources.limits.memory) / 1024 ** 2,
      ...(env.tuning ? { prodTuning: { processLimit: env.tuning.processLimit, relayConcurrency: env.tuning.relayConcurrency } } : {}),
      prod: prodSettings(env),
      sinkAlone,
      configs,
      notes: [],
    };
  } finally {
    for (const r of running) r.sampler.stop();
    await stopAllPostfix();
    await sink.stop();
    await wanSink.stop();
    process.off('exit', onExit);
  }
}

async function measureLevel(r: Running, concurrency: number, messages: number, base: (c: number, n: number) => Omit<LoadOptions, 'host' | 'port'>): Promise<RelayLevel> {
  r.sampler.reset();
  const pid = r.instance.process.pid!;
  const before = await r.sink.stats();
  const cpuBefore = { postfix: treeCpuMs(pid), sink: treeCpuMs(r.sink.pid), client: cpuNow() };
  const byPidBefore = treeCpuByPid(pid);
  const load = await runLoad({ ...base(concurrency, messages), host: '127.0.0.1', port: r.instance.port });
  const wantAtSink = r.config.id === 'ceiling' ? 0 : load.accepted;
  const after = await waitForSink(r.sink, before.messages + wantAtSink, DRAIN_TIMEOUT_MS);
  const postfixCpu = treeCpuMs(pid) - cpuBefore.postfix;
  const delivered = after.messages - before.messages;
  const lastAt = delivered > 0 ? after.lastMessageAt : load.endedAt;
  const level: RelayLevel = {
    concurrency,
    passes: [],
    load,
    delivered,
    deliveredPerSecond: r.config.id === 'ceiling' ? NaN : (delivered * 1000) / Math.max(1, lastAt - load.startedAt),
    sinkConnections: after.connections - before.connections,
    sinkTlsConnections: after.tlsConnections - before.tlsConnections,
    memory: r.sampler.stop(),
    cpuMs: { postfix: postfixCpu, sink: treeCpuMs(r.sink.pid) - cpuBefore.sink, client: cpuNow() - cpuBefore.client },
    cpuByCommand: cpuByCommand(byPidBefore, treeCpuByPid(pid), postfixCpu),
    sinkBusy: 0,
  };
  level.sinkBusy = level.cpuMs.sink / Math.max(1, lastAt - load.startedAt);
  r.sampler.start(500);
  return level;
}

/**
 * Queues `messages` with delivery held (`defer_transports = smtp`), then releases them at once
 * (`postqueue -f`) and times the sink receiving them all: the relay's own throughput, whatever the
 * clients' speed.
 */
async function measureDrain(r: Running, messages: number, base: (c: number, n: number) => Omit<LoadOptions, 'host' | 'port'>): Promise<RelayDrain> {
  const dir = runningConfigDir(r.instance);
  // A reload restarts qmgr; give the new one a moment before relying on its settings.
  setMainCf(dir, 'defer_transports', 'smtp');
  await sleep(1500);
  let problem: string | undefined;
  try {
    const sinkBefore = (await r.sink.stats()).messages;
    const load = await runLoad({ ...base(20, messages), host: '127.0.0.1', port: r.instance.port });
    if (load.accepted < messages) problem = `only ${load.accepted} of ${messages} accepted (${load.firstProblem ?? 'no reply'})`;
    const leaked = (await r.sink.stats()).messages - sinkBefore;
    if (leaked) problem = `${leaked} delivered before delivery was held`;
    await r.instance.waitForQueue((q) => q.length >= load.accepted - leaked && q.every((m) => m.queue_name === 'deferred'), `${load.accepted - leaked} deferred messages`, 60_000);
  } finally {
    setMainCf(dir, 'defer_transports', '');
  }
  await sleep(1500);
  r.sampler.reset();
  const pid = r.instance.process.pid!;
  const before = await r.sink.stats();
  const cpuBefore = treeCpuMs(pid);
  const sinkCpuBefore = treeCpuMs(r.sink.pid);
  const flushedAt = Date.now();
  r.instance.flush();
  const queued = r.instance.queue().length;
  const after = await waitForSink(r.sink, before.messages + queued, DRAIN_TIMEOUT_MS);
  const delivered = after.messages - before.messages;
  const memory = r.sampler.stop();
  r.sampler.start(500);
  return {
    messages,
    delivered,
    deliveredPerSecond: (delivered * 1000) / Math.max(1, after.lastMessageAt - flushedAt),
    sinkConnections: after.connections - before.connections,
    sinkTlsConnections: after.tlsConnections - before.tlsConnections,
    cpuMsPerMessage: (treeCpuMs(pid) - cpuBefore) / Math.max(1, delivered),
    sinkBusy: (treeCpuMs(r.sink.pid) - sinkCpuBefore) / Math.max(1, after.lastMessageAt - flushedAt),
    memory,
    ...(problem ? { problem } : {}),
  };
}

/**
 * The folder the running master reads its configuration from, as its log says ("daemon started
 * -- version ..., configuration DIR"): the entrypoint may run Postfix on a copy of the mounted
 * ConfigMap, and the harness lays that out with ..data symlinks, so the mounted path is not it.
 */
function runningConfigDir(instance: PostfixInstance): string {
  const found = [...instance.log().matchAll(/postfix\/master\[\d+\]: (?:daemon started|reload) -- version \S+, configuration (\S+)/g)].pop()?.[1];
  return found ?? dirname(realpathSync(join(instance.configDir, 'main.cf')));
}

/** Sets one main.cf parameter of a running instance and reloads it (daemons pick it up at once). */
function setMainCf(configDir: string, name: string, value: string): void {
  execFileSync('postconf', ['-c', configDir, '-e', `${name} = ${value}`], { stdio: 'pipe' });
  const old = new Date(Date.now() - 10_000);
  utimesSync(join(configDir, 'main.cf'), old, old);
  execFileSync('postfix', ['-c', configDir, 'reload'], { stdio: 'pipe' });
}

let caText: string | undefined;
function readCa(file: string): string {
  caText ??= readFileSync(file, 'utf8');
  return caText;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
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
    } else if (Date.now() - lastChange > 20_000) break; // nothing moves: report what arrived
  }
  // A short settle, so a message Postfix sends twice (it must not) would show up as extra.
  await new Promise((r) => setTimeout(r, 300));
  return sink.stats();
}

/** Warnings and errors from a maillog, with ids and counters stripped so repeats collapse. */
function problems(log: string): string[] {
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

function tlsEvidence(log: string): string {
  const line = log.split('\n').find((l) => /TLS connection established to/.test(l) || /TLS connection (reused|established)/.test(l));
  if (!line) return 'no TLS line in the log (this configuration logs no TLS: see the sink counts)';
  return line.replace(/^.*?postfix/, 'postfix').replace(/\[\d+\]/, '');
}
