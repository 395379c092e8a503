import type { LoadSummary } from '../lib/machine';
import type { PodResult } from '../relay/pod-types';
import { chart } from './chart';
import { int, met, mib, ms, pct, table, x } from './format';
import {
  capacityPerSecond,
  cpuByCommand,
  estimateKey,
  median,
  paired,
  PROCESS_LIMIT_RULE,
  cpuByStage,
  isCeiling,
  levelRate,
  maxFinite,
  memoryFit,
  pointAt,
  podPoints,
  podsFor,
  POD_GOALS,
  recommendHpaTarget,
  recommendProcessLimit,
  sweepRows,
  targetShareOfLimit,
  type PodPoint,
} from './pod-metrics';

/** The "relay at the pod's limits" part of docs/PERFORMANCE.md, from one run's results. */

const LABEL_ORDER = ['prod', 'stock-image', 'ceiling'];

/** Google Workspace SMTP relay limits (support.google.com/a/answer/166852 and /2956491). */
export const GOOGLE = { messagesPerSenderPerDay: 10_000, recipientsPerMessage: 100, orgRecipientsPerDay: 4_600_000 } as const;

/** "median (min-max)" of a point's rates. */
/** Per-round ratios of a's rate to b's, measured at the same moment: "median (min-max), n rounds". */
export function pairedRatioText(pod: PodResult, a: string, b: string, sessions: number): { median: number; text: string } | undefined {
  const pairs = paired(pod, a, b, sessions, levelRate).filter((p) => Number.isFinite(p.a) && Number.isFinite(p.b) && p.b > 0);
  if (!pairs.length) return undefined;
  const ratios = pairs.map((p) => p.a / p.b);
  const m = median(ratios);
  return { median: m, text: `${x(m)}${ratios.length > 1 ? ` (${x(Math.min(...ratios))}-${x(Math.max(...ratios))}, ${ratios.length} paired rounds)` : ''}` };
}

export function podGoalRows(pod: PodResult): string[][] {
  const points = podPoints(pod);
  const ref = POD_GOALS.referenceSessions;
  const prod = pointAt(points, 'prod', ref);
  const stock = pointAt(points, 'stock-image', ref);
  const lim = `${pod.limits.cpuMillicores}m, ${pod.limits.memoryMiB} MiB`;
  const rows: string[][] = [];
  if (prod && stock) {
    const pairedRatio = pairedRatioText(pod, 'prod', 'stock-image', ref);
    const ratio = pairedRatio?.median ?? prod.rate / stock.rate;
    const perLevel = pod.sessions
      .map((s) => [s, pairedRatioText(pod, 'prod', 'stock-image', s)] as const)
      .filter(([, r]) => r)
      .map(([n, r]) => `${n}: ${x(r!.median)}`)
      .join(', ');
    rows.push([
      `at the pod's limits (${lim}): prod against the stock image, messages/s delivered at ${ref} sessions (per round, both measured at the same moment)`,
      `>= ${POD_GOALS.prodOverStock.toFixed(1)}x`,
      `${pairedRatio?.text ?? x(ratio)}`,
      `medians ${ms(prod.rate)} vs ${ms(stock.rate)}/s; CPU per message ${ms(prod.cpuMsPerMessage)} vs ${ms(stock.cpuMsPerMessage)} ms (${x(stock.cpuMsPerMessage / prod.cpuMsPerMessage)}); by sessions: ${perLevel}`,
      met(ratio >= POD_GOALS.prodOverStock),
    ]);
  }
  if (prod) {
    const cap = capacityPerSecond(pod);
    const ceiling = pointAt(points, 'ceiling', ref);
    const ok = prod.rate >= POD_GOALS.minPerSecond && prod.p99 < POD_GOALS.p99Ms;
    rows.push([
      `one prod pod at ${pod.limits.cpuMillicores}m, ${ref} sessions: messages/s and p99 acceptance latency (medians over rounds)`,
      `>= ${POD_GOALS.minPerSecond}/s, p99 < ${ms(POD_GOALS.p99Ms)} ms`,
      `${ms(prod.rate)}/s, p99 ${ms(prod.p99)} ms`,
      `rounds ${prod.rounds.map((r) => ms(levelRate(r))).join(', ')}/s, p99 ${prod.rounds.map((r) => ms(r.latencyMs.p99)).join(', ')} ms; the CPU limit over the CPU per message: ${ms(cap)}/s; the pod used ${int(prod.cpuMillicores)}m` +
        (ceiling ? `; the submission-only ceiling at the same limits: ${ms(ceiling.rate)}/s, p99 ${ms(ceiling.p99)} ms` : ''),
      met(ok),
    ]);
  }
  const burst = POD_GOALS.burstSessions;
  const prodBurst = pointAt(points, 'prod', burst);
  if (prodBurst) {
    const others = points.filter((p) => p.sessions === burst && p.config !== 'prod');
    rows.push([
      `${burst} sessions under ${pod.limits.memoryMiB} MiB (prod): OOM kills, lost and duplicated messages, every round`,
      '0, 0, 0',
      `${prodBurst.oomKills}, ${prodBurst.lost}, ${prodBurst.duplicates}`,
      `${prodBurst.rounds.length} rounds; peak ${mib(prodBurst.peakMiB)} charged, working set ${mib(prodBurst.workingSetMiB)}; failed connections ${prodBurst.failedByRound.join(', ')} of ${int(prodBurst.attempted)}; ` +
        others.map((o) => `${o.config}: OOM ${o.oomKills}, lost ${o.lost}${o.queued ? ` (${o.queued} still in its queue after the wait)` : ''}, peak ${mib(o.peakMiB)}`).join('; '),
      met(prodBurst.oomKills === 0 && prodBurst.lost === 0 && prodBurst.duplicates === 0),
    ]);
  }
  const pl = recommendProcessLimit(pod);
  const hpa = recommendHpaTarget(pod);
  if (pl || hpa) {
    const shipped = pod.prod;
    const fit = memoryFit(pod);
    const estimateOk = fit.points.every((p) => estimateHolds(pod, p));
    const plOk = pl ? pl.value === shipped.tuning.processLimit && pl.relayConcurrency === shipped.tuning.relayConcurrency : undefined;
    const hpaOk = hpa ? hpa.value === shipped.autoscaling.cpuTargetPercent : undefined;
    rows.push([
      'the shipped defaults follow from these measurements',
      'tuning.processLimit and relayConcurrency, the HPA target and the memory estimate as derived below',
      `processLimit ${shipped.tuning.processLimit}, relayConcurrency ${shipped.tuning.relayConcurrency} (derived ${pl && Number.isFinite(pl.value) ? `${pl.value}, ${pl.relayConcurrency}` : 'n/a'}), HPA target ${shipped.autoscaling.cpuTargetPercent} % (derived ${hpa ? int(hpa.value) : 'n/a'} %)`,
      `estimatedPeakMemoryMiB covers every measured peak within ${pct(1 - PROCESS_LIMIT_RULE.estimateTolerance)} (the rule's step 2): ${estimateOk ? 'yes' : 'NO'}`,
      met([plOk, hpaOk, estimateOk].every((v) => v !== false)),
    ]);
  }
  return rows;
}

/** estimatedPeakMemoryMiB at a swept tuning, as the schema computed it when the bench ran. */
function estimate(pod: PodResult, processLimit: number, relayConcurrency = pod.prod.tuning.relayConcurrency): number {
  return pod.prod.estimates[estimateKey(processLimit, Math.min(processLimit, relayConcurrency))] ?? (relayConcurrency === pod.prod.tuning.relayConcurrency ? pod.prod.estimates[String(processLimit)] : undefined) ?? NaN;
}

/** Step 2 of the rule: the schema's estimate is at most 10 % below the working set measured at this point. */
function estimateHolds(pod: PodResult, p: { processLimit: number; relayConcurrency: number; workingSetMiB: number }): boolean {
  return estimate(pod, p.processLimit, p.relayConcurrency) >= PROCESS_LIMIT_RULE.estimateTolerance * p.workingSetMiB;
}

export function podSection(pod: PodResult, load?: LoadSummary, cpus = 2): string[] {
  const out = ["## The relay at the pod's limits", ''];
  const points = podPoints(pod);
  const order = (id: string) => (LABEL_ORDER.includes(id) ? LABEL_ORDER.indexOf(id) : LABEL_ORDER.length);
  const configs = [...pod.configs].filter((c) => !c.variant).sort((a, b) => order(a.id) - order(b.id));
  out.push(
    `A production pod gets **${pod.prod.cpuLimitMillicores}m CPU and ${pod.prod.memoryLimitMiB} MiB** (environments/prod.yaml \`resources.limits\`, read through src/config/load.ts; requests ${pod.prod.cpuRequestMillicores}m and ${int(pod.prod.memoryRequestMiB)} MiB). ` +
      `Here every configuration's whole Postfix container (the rendered entrypoint.sh, its log mirror and rotation loop, the master and every daemon it forks) runs inside a cgroup ${pod.cgroupVersion} group with that CPU quota ` +
      `(${pod.cgroupVersion === 'v1' ? `\`cpu.cfs_quota_us\` ${pod.limits.cpuMillicores * 100} per \`cpu.cfs_period_us\` 100000` : `\`cpu.max\` "${pod.limits.cpuMillicores * 100} 100000"`}) and memory limit ` +
      `(${pod.cgroupVersion === 'v1' ? '`memory.limit_in_bytes`, no swap' : '`memory.max`, `memory.swap.max` 0'}), as the kubelet sets them; the entrypoint joins the group before it starts anything. ` +
      `The group's CPU weight is raised (${pod.limits.shares} shares) so the other people's processes on this shared machine cannot take the CPU its quota allows; the quota still caps it. ` +
      'Clients and the sink run outside the group, as applications and Google do.',
    '',
    ...postfixParagraph(pod),
    `Each round keeps N client sessions busy for ${(pod.warmupMs ?? 0) / 1000} s of unmeasured warm-up and then a ${pod.durationMs / 1000} s window, in one continuous load (no second burst of connects at the window's start), ` +
      `one ${pod.messageBytes}-byte message per connection, every connection from a new loopback address (the prod rate limits are per client address; a cluster has many client pods); ` +
      'clients give up on a connection after 30 s without a greeting (nodemailer\'s default greeting timeout) and count it as *failed*. ' +
      `Session counts ${pod.sessions.join(', ')}; rounds ${pod.sessions.map((s) => `${pod.roundsBySessions?.[String(s)] ?? pod.rounds} at ${s}`).join(', ')}. ` +
      '**Configurations compared with each other run at the same moment**, each in its own cgroup with its own sink: prod, the stock image and the ceiling together; every instance of the process-limit sweep together. ' +
      'The neighbours\' load then weighs on both sides of a ratio in the same way, so ratios are taken per round (paired) and their spread shows the noise. ' +
      'Tables show the median over rounds (with the lowest and highest round) and sum the safety counters over all rounds. ' +
      'The sink is the loopback STARTTLS sink of the section above (test CA, verified by prod); it records every Message-ID it receives, so **lost** (accepted, never received) and **duplicated** messages are counted one by one, warm-up included.',
    '',
    '*Delivered/s*: the messages accepted after the warm-up, all delivered, over the time from the window\'s start to the last one received by the sink: ' +
      'while clients keep every smtpd busy, accepting takes CPU from relaying and the queue grows, so this includes draining it (for the ceiling, which delivers nothing, accepted/s). ' +
      '*Accepted/s*: 250 replies within the window; above *delivered/s* when the queue grows. *p50/p99*: acceptance latency, connect to the 250 after the data (what an application waits, including the wait for a free smtpd); ' +
      '*transaction p99*: MAIL FROM to that 250 alone. *CPU/msg*: the group\'s CPU time (cpuacct) from the window\'s start to the end of the drain, per message accepted after the warm-up. ' +
      '*CPU used*: during the load, in millicores. *Throttled*: share of CFS periods in which the quota ran out. *Peak*: the group\'s charged memory (page cache included), its working set (what the kubelet evicts on), and the processes\' PSS.',
    '',
  );
  out.push('### The configurations', '');
  for (const c of configs) {
    out.push(
      `- **${c.label}** (\`${c.id}\`): ${c.description} Bench changes: ${c.overrides.map((o) => `\`${o}\``).join(', ')}.` +
        (c.listenBacklog !== undefined ? ` smtpd listen backlog: ${c.listenBacklog}.` : ''),
    );
  }
  out.push('', '![Throughput and latency at the pod limits](performance-pod.svg)', '');
  out.push(
    table(
      ['Configuration', 'Sessions', 'Delivered/s: median (rounds)', 'Accepted/s', 'p50 / p99', 'Transaction p99', 'Failed', 'Lost / dup', 'CPU/msg', 'CPU used', 'Throttled', 'Peak / working set / PSS', 'OOM kills'],
      configs.flatMap((c) =>
        pod.sessions
          .map((s) => pointAt(points, c.id, s))
          .filter((p): p is PodPoint => !!p)
          .map((p) => [
            c.label,
            p.sessions,
            `${ms(p.rate)} (${p.rounds.map((r) => ms(levelRate(r))).join(', ')})`,
            ms(median(p.rounds.map((r) => r.acceptedPerSecond))),
            `${ms(p.p50)} / ${ms(p.p99)} ms`,
            `${ms(p.transactionP99)} ms`,
            p.failedByRound.join(', '),
            isCeiling(p.config) ? '-' : `${p.lost} / ${p.duplicates}`,
            `${p.cpuMsPerMessage.toFixed(2)} ms`,
            `${int(p.cpuMillicores)}m`,
            pct(p.throttled),
            `${int(p.peakMiB)} / ${int(p.workingSetMiB)} / ${int(p.pssMiB)} MiB`,
            int(p.oomKills),
          ]),
      ),
    ),
    '',
  );
  out.push(...whereTheCpuGoes(pod, points));
  out.push(...sweepSection(pod));
  out.push(...openLoopSection(pod));
  out.push(...capacitySection(pod));
  out.push(...machineNote(pod, points, load, cpus));
  return out;
}

function whereTheCpuGoes(pod: PodResult, points: PodPoint[]): string[] {
  const ref = POD_GOALS.referenceSessions;
  const ids = ['prod', 'stock-image', 'ceiling'].filter((id) => pointAt(points, id, ref));
  if (!ids.length) return [];
  const shares = Object.fromEntries(ids.map((id) => [id, cpuByCommand(pointAt(points, id, ref)!.rounds)]));
  const commands = [...new Set(ids.flatMap((id) => shares[id]!.filter((s) => s.msPerMessage >= 0.02).map((s) => s.command)))];
  commands.sort((a, b) => maxFinite(ids.map((id) => shares[id]!.find((s) => s.command === b)?.msPerMessage ?? 0)) - maxFinite(ids.map((id) => shares[id]!.find((s) => s.command === a)?.msPerMessage ?? 0)));
  const cell = (id: string, c: string) => {
    const s = shares[id]!.find((v) => v.command === c);
    return s ? `${s.msPerMessage.toFixed(2)}${s.started ? ` (${s.started} started)` : ''}` : '-';
  };
  const out = ['### Where the CPU goes', ''];
  out.push(
    `CPU per accepted message by process, at ${ref} sessions, all rounds: each process's run time from /proc/<pid>/schedstat (nanoseconds), sampled every 250 ms for every process in the group; ` +
      '"(exited between samples)" is the group\'s cpuacct total minus what was attributed (daemons that started and exited between two samples). ' +
      'In brackets: processes of that command that the master started during the rounds (process churn).',
    '',
  );
  const pLabel = (id: string) => pod.configs.find((c) => c.id === id)?.label ?? id;
  out.push(table(['Process (ms CPU per message)', ...ids.map(pLabel)], [...commands.map((c) => [c, ...ids.map((id) => cell(id, c))]), ['**total**', ...ids.map((id) => `**${pointAt(points, id, ref)!.cpuMsPerMessage.toFixed(2)}**`)]]), '');
  const stages = Object.fromEntries(ids.map((id) => [id, cpuByStage(shares[id]!)]));
  out.push(table(['Stage (ms CPU per message)', ...ids.map(pLabel)], stages[ids[0]!]!.map((s, i) => [s.stage, ...ids.map((id) => stages[id]![i]!.msPerMessage.toFixed(2))])), '');
  const prod = pointAt(points, 'prod', ref);
  const stock = pointAt(points, 'stock-image', ref);
  const ceiling = pointAt(points, 'ceiling', ref);
  const hs = (p: PodPoint | undefined) => (p ? handshakeShare(p) : NaN);
  const stage = (id: string, prefix: string) => stages[id]?.find((s) => s.stage.startsWith(prefix))?.msPerMessage ?? NaN;
  const bullets: string[] = [];
  if (prod && stock) {
    const prodRelay = stage('prod', 'relaying');
    const stockRelay = stage('stock-image', 'relaying');
    bullets.push(
      `**TLS handshakes against bulk.** The stock image opens a connection and does a full TLS handshake for ${pct(hs(stock))} of its messages (sink TLS connections over messages); prod for ${pct(hs(prod))}, ` +
        `reusing its TLS connections through tlsproxy. Relaying costs prod ${prodRelay.toFixed(2)} ms per message (smtp, tlsproxy, scache) and the stock image ${stockRelay.toFixed(2)} ms (smtp doing its own handshakes): ` +
        `about ${(stockRelay - prodRelay).toFixed(2)} ms per message is the handshakes prod does not do; what is left in prod is bulk encryption in tlsproxy and the smtp client's own work.`,
    );
  }
  if (prod && ceiling) {
    bullets.push(
      `**Accepting costs more than relaying.** The ceiling (accept, queue, discard) needs ${ceiling.cpuMsPerMessage.toFixed(2)} ms per message; prod ${prod.cpuMsPerMessage.toFixed(2)} ms. ` +
        `So ${pct(ceiling.cpuMsPerMessage / prod.cpuMsPerMessage)} of prod's CPU goes to receiving, checking, queueing and logging a message, whatever the relay does; ` +
        `the smtpd and cleanup processes alone take ${((shares.prod!.find((s) => s.command === 'smtpd')?.msPerMessage ?? 0) + (shares.prod!.find((s) => s.command === 'cleanup')?.msPerMessage ?? 0)).toFixed(2)} ms.`,
    );
    const proxymap = shares.prod!.find((s) => s.command === 'proxymap')?.msPerMessage ?? 0;
    const anvil = shares.prod!.find((s) => s.command === 'anvil')?.msPerMessage ?? 0;
    bullets.push(
      `**proxymap and anvil are cheap.** The drain table lookup (\`check_client_access proxy:cidr:...\`, one proxymap query per connection) costs ${proxymap.toFixed(2)} ms per message and the rate limits (anvil) ${anvil.toFixed(2)} ms: ` +
        'together a few percent, so both safety features stay.',
    );
    const logging = stage('prod', 'logging');
    bullets.push(`**Logging** (postlogd writing the file the exporter parses, and the entrypoint's \`tail\` that mirrors it to stdout) costs ${logging.toFixed(2)} ms per message.`);
  }
  const relay = relayConcurrencyEvidence(pod);
  if (relay) bullets.push(relay);
  const cache = connectionCacheEvidence(pod);
  if (cache) bullets.push(cache);
  if (bullets.length) out.push(...bullets.map((b) => `- ${b}`), '');
  return out;
}

/**
 * The sweep's two relayConcurrency values at the shipped process limit: CPU per message and peak
 * memory, per round at the same moment. Fewer smtp processes is the one setting the sweep found to
 * cut CPU per message without touching a safety guarantee.
 */
export function relayConcurrencyEvidence(pod: PodResult): string | undefined {
  const pl = pod.prod.tuning.processLimit;
  const variants = pod.configs.filter((c) => c.variant?.processLimit === pl);
  const shipped = variants.find((c) => c.relayConcurrency === pod.prod.tuning.relayConcurrency);
  const other = variants.find((c) => c !== shipped);
  if (!shipped || !other) return undefined;
  const parts: string[] = [];
  for (const sessions of pod.sweepSessions) {
    const cpu = paired(pod, shipped.id, other.id, sessions, (l) => l.cgroup.cpuMs / Math.max(1, l.accepted));
    const rate = paired(pod, shipped.id, other.id, sessions, levelRate);
    if (!cpu.length) continue;
    const ratios = cpu.map((p) => p.a / p.b);
    parts.push(
      `at ${sessions} sessions ${median(cpu.map((p) => p.a)).toFixed(2)} against ${median(cpu.map((p) => p.b)).toFixed(2)} ms of CPU per message ` +
        `(per round ${ratios.map((r) => x(r)).join(', ')}), ${ms(median(rate.map((p) => p.a)))} against ${ms(median(rate.map((p) => p.b)))} messages/s`,
    );
  }
  const rows = sweepRows(pod).filter((r) => r.sessions === POD_GOALS.burstSessions);
  const mem = (id: string) => rows.find((r) => r.config === id)?.point;
  if (!parts.length) return undefined;
  return (
    `**Relay connections.** With ${shipped.relayConcurrency} relay connections (shipped) against ${other.relayConcurrency}, same process limit, measured at the same moment: ${parts.join('; ')}. ` +
    `Postfix runs more smtp processes than connections (idle ones wait for the next delivery), each about 2 MiB: at ${POD_GOALS.burstSessions} sessions ` +
    `${mem(shipped.id)?.processesAtPeak ?? '?'} against ${mem(other.id)?.processesAtPeak ?? '?'} processes and ${int(mem(shipped.id)?.workingSetMiB ?? NaN)} against ${int(mem(other.id)?.workingSetMiB ?? NaN)} MiB of working set. ` +
    'Fewer connections touch no safety guarantee (verified TLS, allowlist, rate limits, held refusals, drain): each carries mail over one reused TLS session, ' +
    `and at a few round trips (tens of ms to smtp-relay.gmail.com) per message over a reused connection, ${Math.min(shipped.relayConcurrency, other.relayConcurrency)} connections carry several times the ${int(capacityPerSecond(pod))} messages/s that ${pod.limits.cpuMillicores}m of CPU can relay.`
  );
}

/** TLS handshakes the sink saw per message it received. */
function handshakeShare(p: PodPoint): number {
  return p.rounds.reduce((a, l) => a + l.sinkTlsConnections, 0) / Math.max(1, p.rounds.reduce((a, l) => a + (l.sinkMessages ?? l.delivered), 0));
}

/** prod against prod without smtp_connection_cache_destinations, at 1 session and at half load (open loop). */
function connectionCacheEvidence(pod: PodResult): string | undefined {
  const closed = podPoints(pod, 'closed+sweep');
  const open = podPoints(pod, 'open');
  const pairs: string[] = [];
  const hs = handshakeShare;
  const describe = (what: string, a: PodPoint | undefined, b: PodPoint | undefined) => {
    if (!a || !b) return;
    pairs.push(
      `${what}: ${a.cpuMsPerMessage.toFixed(2)} ms of CPU per message with it and ${b.cpuMsPerMessage.toFixed(2)} without (${pct(hs(a))} against ${pct(hs(b))} of messages paying a TLS handshake; ` +
        `${ms(a.rate)} against ${ms(b.rate)} messages/s, p99 ${ms(a.p99)} against ${ms(b.p99)} ms)`,
    );
  };
  describe('one session', pointAt(closed, 'prod', 1), pointAt(closed, 'prod-nocache', 1));
  for (const share of pod.openShares) {
    const a = open.find((p) => p.config === 'prod' && p.best.offeredShare === share);
    const b = open.find((p) => p.config === 'prod-nocache' && p.best.offeredShare === share);
    describe(`${pct(share)} of capacity offered`, a, b);
  }
  if (!pairs.length) return undefined;
  return (
    '**Light traffic and the relay connection cache.** Postfix keeps a connection to a destination open for the next delivery only while mail for it is queued; under light traffic nothing is queued, ' +
    'so every message opened a new connection and paid a full TLS handshake, and a pod at half load spent nearly as much CPU as at full load (which also misleads the HPA). ' +
    'src/postfix/main-cf.ts now lists the relay host in `smtp_connection_cache_destinations` (matched on the host name: `$relayhost`, i.e. `[host]:port`, did not match in a trial run). ' +
    `Measured in this run, ${pairs.join('; ')}.`
  );
}

/** Margin the schema's memory estimate keeps over the fitted peaks (a longer burst, other CPUs, another allocator). */
export const ESTIMATE_MARGIN = 1.1;

function sweepSection(pod: PodResult): string[] {
  const rows = sweepRows(pod);
  if (!rows.length) return [];
  const shipped = pod.prod.tuning;
  const shippedId = pod.configs.find((c) => c.variant?.processLimit === shipped.processLimit && c.relayConcurrency === shipped.relayConcurrency)?.id;
  const rounds = Math.max(...rows.map((r) => r.point.rounds.length));
  const out = ['### Process limits: the sweep behind `tuning.processLimit`', ''];
  out.push(
    `prod with \`tuning.processLimit\` ${[...new Set(rows.map((r) => r.processLimit))].join(', ')} (and \`tuning.relayConcurrency\` ${[...new Set(rows.map((r) => r.relayConcurrency))].join(' and ')}), ` +
      `one instance each (the shipped value too, so every instance ran the same rounds), **all measured at the same moment**, ${rounds} rounds at ${pod.sweepSessions.join(' and ')} sessions. ` +
      '`default_process_limit` caps the smtpd, cleanup and smtp processes; ' +
      "Postfix's master also uses it as the smtpd socket's listen backlog (`ss -ltn` shows it), so a pod takes about twice the process limit in concurrent sessions before new connections wait for SYN retransmissions (1, 3, 7, 15 s...) and clients time out. " +
      `*Against shipped*: this instance's delivered/s over the shipped one's in the same round (median and range of the ${rounds} paired rounds). *Failed*: connections that got no greeting within 30 s, per round.`,
    '',
  );
  out.push(
    table(
      ['processLimit', 'relayConcurrency', 'Sessions', 'Delivered/s: median (range)', 'Against shipped', 'p50 / p99', 'Failed (per round)', 'Lost / dup', 'CPU/msg', 'Peak working set / PSS', 'Processes (smtpd) at the peak', 'OOM kills'],
      rows.map((r) => {
        const vs = shippedId && r.config !== shippedId ? pairedRatioText(pod, r.config, shippedId, r.sessions)?.text ?? '-' : '-';
        return [
          `${r.processLimit}${r.config === shippedId ? ' (shipped)' : ''}`,
          r.relayConcurrency,
          r.sessions,
          r.point.rounds.length > 1 ? `${ms(r.point.rate)} (${ms(r.point.rateMin)}-${ms(r.point.rateMax)})` : ms(r.point.rate),
          vs,
          `${ms(r.point.p50)} / ${ms(r.point.p99)} ms`,
          r.point.failedByRound.join(', '),
          `${r.point.lost} / ${r.point.duplicates}`,
          `${r.point.cpuMsPerMessage.toFixed(2)} ms`,
          `${int(r.point.workingSetMiB)} / ${int(r.point.pssMiB)} MiB`,
          `${r.point.processesAtPeak} (${r.point.smtpdAtPeak})`,
          int(r.point.oomKills),
        ];
      }),
    ),
    '',
  );
  const gate = PROCESS_LIMIT_RULE.memoryShare * pod.limits.memoryMiB;
  out.push(
    '**The rule** (bench/report/pod-metrics.ts, `recommendProcessLimit`), fixed before the runs:',
    '',
    `1. Safety: at ${POD_GOALS.referenceSessions} and ${POD_GOALS.burstSessions} sessions, in every round, no OOM kill, no lost and no duplicated message.`,
    `2. Memory: the schema accepts the tuning (its \`estimatedPeakMemoryMiB\` at most ${pct(PROCESS_LIMIT_RULE.memoryShare)} of \`resources.limits.memory\`, ${int(gate)} MiB), and that estimate holds for it: at most 10 % below every working set measured at ${POD_GOALS.burstSessions} sessions (so a measured peak stays under ${pct(PROCESS_LIMIT_RULE.memoryShare / PROCESS_LIMIT_RULE.estimateTolerance)} of the limit). The estimate, fitted to the runs, decides rather than one run's highest round, so the choice does not flip with the noise of a round.`,
    `3. Reference: of the tunings left, the one with the fewest failed connections at ${POD_GOALS.burstSessions} sessions (median over rounds).`,
    `4. Noise: a tuning is *separably worse* than the reference when in every paired round (at least ${PROCESS_LIMIT_RULE.minRounds}) it had more failed connections at ${POD_GOALS.burstSessions} sessions, or delivered fewer messages/s at ${POD_GOALS.referenceSessions} or at ${POD_GOALS.burstSessions} sessions; differences that change sign from round to round are noise.`,
    '5. Of the tunings not separably worse than the reference, the one with the smallest peak working set: the most margin under the limit for the same service.',
    '',
  );
  const pl = recommendProcessLimit(pod);
  if (pl) {
    out.push(
      table(
        ['Tuning', 'Schema estimate', 'Out at steps 1-2', 'Separably worse than the reference (step 4)'],
        pl.verdicts.map((v) => [
          `processLimit ${v.processLimit}, relayConcurrency ${v.relayConcurrency}${v.config === pl.reference ? ' (reference)' : ''}`,
          `${int(v.estimateMiB)} MiB`,
          v.refused.join('; ') || '-',
          v.refused.length ? '' : v.worse.join('; ') || 'no',
        ]),
      ),
      '',
    );
    out.push(
      Number.isFinite(pl.value)
        ? `**Derived: \`tuning.processLimit: ${pl.value}\`, \`tuning.relayConcurrency: ${pl.relayConcurrency}\`** (shipped: ${shipped.processLimit}, ${shipped.relayConcurrency}): ${pl.why}.`
        : `**Derived \`tuning.processLimit\`: none** (shipped: ${shipped.processLimit}): ${pl.why}.`,
      '',
    );
  }
  const fit = memoryFit(pod);
  if (fit.points.length >= 2) {
    const proposed = (l: number, rc: number) => ESTIMATE_MARGIN * (fit.intercept + fit.perProcess * l + fit.perRelay * Math.min(l, rc));
    out.push(
      `**Memory against the tuning** (highest working set over the rounds at ${POD_GOALS.burstSessions} sessions): ` +
        fit.points.map((p) => `${p.processLimit}/${p.relayConcurrency}: ${int(p.workingSetMiB)} MiB with ${p.processes} processes, ${p.smtpd} smtpd${p.full ? '' : ' (not every smtpd started yet: a check, not fitted)'}`).join('; ') +
        `. Least squares over the points where every smtpd ran: **${ms(fit.intercept)} MiB + ${fit.perProcess.toFixed(2)} MiB per process-limit step + ${fit.perRelay.toFixed(2)} MiB per relay connection** ` +
        `(the last from the relayConcurrency variant where the sweep has one). With ${Math.round((ESTIMATE_MARGIN - 1) * 100)} % margin (a burst longer than a round, the log's page cache up to two rotated files): ` +
        `${fit.points.map((p) => `${p.processLimit}/${p.relayConcurrency}: ${int(proposed(p.processLimit, p.relayConcurrency))} MiB`).join(', ')}. ` +
        `The schema's \`estimatedPeakMemoryMiB\` (src/config/schema.ts), which refuses a tuning whose estimate exceeds ${pct(PROCESS_LIMIT_RULE.memoryShare)} of \`resources.limits.memory\`, gives ` +
        `${fit.points.map((p) => `${p.processLimit}/${p.relayConcurrency}: ${int(estimate(pod, p.processLimit, p.relayConcurrency))} MiB`).join(', ')}: ` +
        `${fit.points.every((p) => estimateHolds(pod, p)) ? `at most ${pct(1 - PROCESS_LIMIT_RULE.estimateTolerance)} below every measured point (the rule's step 2)` : `**more than ${pct(1 - PROCESS_LIMIT_RULE.estimateTolerance)} below a measured point: refit it**`}; ` +
        `the shipped tuning is estimated at ${int(pod.prod.estimatedPeakMemoryMiB)} MiB against the gate's ${int(gate)} MiB.`,
      '',
    );
  }
  return out;
}

function openLoopSection(pod: PodResult): string[] {
  const open = podPoints(pod, 'open').sort((a, b) => (a.best.offeredShare ?? 0) - (b.best.offeredShare ?? 0));
  if (!open.length) return [];
  const out = ['### Latency against CPU use: the HPA target', ''];
  out.push(
    'prod with new connections arriving at a fixed rate (open loop, as independent application pods send), at fractions of the capacity measured above. ' +
      `The HPA's CPU utilization is CPU use over the **request** (${pod.prod.cpuRequestMillicores}m), so a pod can reach ${int((pod.prod.cpuLimitMillicores / pod.prod.cpuRequestMillicores) * 100)} % before its limit.`,
    '',
  );
  out.push(
    table(
      ['Configuration', 'Offered', 'Share of capacity', 'Delivered/s', 'p50 / p99', 'CPU used', 'Utilization (of request)', 'Throttled', 'Failed'],
      open.map((p) => [
        pod.configs.find((c) => c.id === p.config)?.label ?? p.config,
        `${ms(p.best.offeredPerSecond ?? NaN)}/s`,
        pct(p.best.offeredShare ?? NaN),
        ms(p.rate),
        `${ms(p.best.latencyMs.p50)} / ${ms(p.best.latencyMs.p99)} ms`,
        `${int(p.cpuMillicores)}m`,
        pct(p.cpuMillicores / pod.prod.cpuRequestMillicores),
        pct(p.throttled),
        int(p.failed),
      ]),
    ),
    '',
  );
  const hpa = recommendHpaTarget(pod);
  if (hpa) {
    out.push(
      `**Derived HPA target: ${int(hpa.value)} %** of the request (shipped: ${pod.prod.autoscaling.cpuTargetPercent} %): ${hpa.why}. ` +
        `At that target a pod runs at ${pct(targetShareOfLimit(pod, hpa.value))} of its CPU limit, about ${int(capacityPerSecond(pod) * targetShareOfLimit(pod, hpa.value) * 60)} messages per minute, before the HPA adds pods.`,
      '',
    );
  }
  return out;
}

function capacitySection(pod: PodResult): string[] {
  const cap = capacityPerSecond(pod);
  if (!Number.isFinite(cap)) return [];
  const points = podPoints(pod);
  const measured = pointAt(points, 'prod', POD_GOALS.referenceSessions);
  const perMinute = cap * 60;
  const share = targetShareOfLimit(pod);
  const out = ['### Capacity guidance', ''];
  out.push(
    `One prod pod at ${pod.prod.cpuLimitMillicores}m sustains about **${int(cap)} messages/s = ${int(perMinute)} messages/minute** on this machine's CPUs (the limit over ${measured ? measured.cpuMsPerMessage.toFixed(2) : '?'} ms of CPU per message at ${POD_GOALS.referenceSessions} sessions; ` +
      `measured directly: ${measured ? ms(measured.rate) : 'n/a'}/s). The HPA (target ${pod.prod.autoscaling.cpuTargetPercent} % of the ${pod.prod.cpuRequestMillicores}m request = ${pct(share)} of the limit) keeps each pod near ${int(perMinute * share)} messages/minute ` +
      `and runs ${pod.prod.autoscaling.minReplicas} to ${pod.prod.autoscaling.maxReplicas} pods. Faster or slower CPUs scale these numbers; re-run the bench on your nodes' CPU type to be sure.`,
    '',
  );
  const rows = [1_000, 10_000, 100_000].map((m) => podsFor(m, cap, pod));
  out.push(
    table(
      ['Messages per minute', 'Pods at the CPU limit', `Pods the HPA runs (at ${pod.prod.autoscaling.cpuTargetPercent} %)`, 'Within maxReplicas?'],
      rows.map((r) => [int(r.perMinute), int(r.podsAtLimit), int(r.podsAtTarget), r.podsAtTarget <= pod.prod.autoscaling.maxReplicas ? 'yes' : `no: raise autoscaling.maxReplicas to ${r.podsAtTarget}`]),
    ),
    '',
  );
  const perSenderPerMinute = GOOGLE.messagesPerSenderPerDay / (24 * 60);
  const orgPerMinute = GOOGLE.orgRecipientsPerDay / (24 * 60);
  out.push(
    "**Against Google's relay limits.** smtp-relay.gmail.com accepts 10,000 messages (and 10,000 recipients) per envelope sender per 24 h, at most 100 recipients per message, " +
      `and about ${int(GOOGLE.orgRecipientsPerDay)} recipients per organisation per 24 h. One sender's daily quota is ${perSenderPerMinute.toFixed(1)} messages/minute averaged over a day: ` +
      `one pod moves it in ${ms((GOOGLE.messagesPerSenderPerDay / cap) / 60)} minutes at full speed, so a burst from one sender hits Google's daily limit (550 5.4.5, held in the queue by \`mail.holdRelayRefusals\`) long before it strains the relay. ` +
      `The organisation's cap averages ${int(orgPerMinute)} recipients/minute: ${int(Math.ceil(orgPerMinute / perMinute))} pod${Math.ceil(orgPerMinute / perMinute) > 1 ? 's' : ''} at the limit (one recipient per message) carry a whole day's organisation quota as a steady flow. ` +
      `Per client, prod's anvil limits allow ${pod.prod.rateLimits.messagesPerMinute || 'unlimited'} messages and ${pod.prod.rateLimits.recipientsPerMinute || 'unlimited'} recipients per minute ` +
      `(\`mail.rateLimits\`): one client address cannot use more than ${pod.prod.rateLimits.messagesPerMinute ? pct((pod.prod.rateLimits.messagesPerMinute / 60) / cap) : 'all'} of a pod. ` +
      `With up to ${pod.prod.maxRecipientsPerMessage} recipients per message, Google's per-message cap and prod's \`smtp_destination_recipient_limit\` keep one transaction per message to Google.`,
    '',
  );
  return out;
}

/** The largest spread of one configuration's rounds, as a share of its median: how noisy a single round is. */
function roundSpread(points: PodPoint[]): string {
  const spreads = points.filter((p) => p.rounds.length > 1 && p.rate > 0).map((p) => (p.rateMax - p.rateMin) / p.rate);
  return spreads.length ? `up to ${pct(Math.max(...spreads))} of the median between the lowest and the highest round` : 'one round each';
}

/** Which Postfix ran, and the proof that its processes stayed in the pod's cgroup. */
export function postfixParagraph(pod: PodResult): string[] {
  const pf = pod.postfix;
  if (!pf) return ["**Postfix**: the host's (Debian 12, 3.7; this run recorded no version line).", ''];
  const line = Object.entries(pf.versionLines).find(([k]) => k.startsWith('pod:'))?.[1]?.replace(/, configuration \S+/, '');
  const checked = pod.levels.filter((l) => l.outsideGroup !== undefined);
  const outside = checked.reduce((a, l) => a + (l.outsideGroup ?? 0), 0);
  const roots = [...new Set(pod.configs.map((c) => c.processRoot).filter(Boolean))];
  return [
    (pf.generation === '3.10'
      ? `**Postfix ${pf.version}**, the generation the image runs (Alpine 3.23), from the Debian 13 root of the integration harness (scripts/postfix-root.cjs; the host's own is ${pf.hostVersion}): its wrappers go first in PATH, so the rendered entrypoint.sh runs the root's postfix, postconf and postqueue by name. `
      : `**Postfix ${pf.version}: the host's own (\`--postfix=host\`), not the generation the image runs (3.10)**: these figures are for comparison only. `) +
      (line ? `Every instance's master logged \`${line}\`${roots.length ? ` and ran with /proc/<pid>/root at ${roots.map((r) => `\`${r!.replace(/^.*\/node_modules\//, 'node_modules/')}\``).join(', ')}` : ''}. ` : '') +
      (pf.generation === '3.10'
        ? "The wrappers exec all the way (unshare, sh, chroot: no fork), so the master is the entrypoint's own child and every daemon it forks is born in the entrypoint's cgroup. "
        : '') +
      `After every round the bench listed every process of every instance (the entrypoint, the master and all their descendants) against its cgroup: ${checked.length} checks, ${outside} processes outside.`,
    '',
  ];
}

function machineNote(pod: PodResult, points: PodPoint[], load: LoadSummary | undefined, cpus: number): string[] {
  const used = points.filter((p) => p.throttled > 0.9).map((p) => p.cpuMillicores);
  const lo = used.length ? Math.min(...used) : NaN;
  const hi = maxFinite(used);
  return [
    '### How much to trust these numbers',
    '',
    `- In their sustained windows, throttled rounds used ${int(lo)}m to ${int(hi)}m of the ${pod.limits.cpuMillicores}m quota: ${lo >= 0.9 * pod.limits.cpuMillicores ? 'the pods got their full quota despite the neighbours, so the rates are what the limit allows on these CPUs' : '**some rounds got less than the quota (neighbours): their rates are low, the CPU per message still holds**'}.` +
      (load ? ` The machine's 1-minute load ran from ${load.load1Min.toFixed(1)} to ${load.load1Max.toFixed(1)} on ${cpus} cores during the whole bench (other engineers' test suites): CPU time per message is inflated by contention for caches and cores, so a quiet node does better.` : ''),
    `- Rates move with the neighbours from round to round (the rounds columns: ${roundSpread(points)}); ratios between configurations measured at the same moment move much less (the paired ranges). The CPU per message is the steadiest single figure.`,
    pod.postfix?.generation === '3.10'
      ? `- Postfix ${pod.postfix.version} is Debian 13's build; the image runs Alpine 3.23's build of the same release line (musl instead of glibc, the same OpenSSL 3 line): the daemons and their division of labour are the same, per-process memory may differ by some percent.`
      : "- The host's Postfix (Debian 12, 3.7) ran these configurations, not the image's 3.10: per-process memory and CPU differ (3.10 measured more memory per process); use a 3.10 run for decisions.",
    `- ${pod.durationMs / 1000} s per round is short against a real burst; the warm-up starts the processes first, and the drain after each round is part of the CPU per message.`,
    '',
  ];
}

export function podChart(pod: PodResult): string {
  const points = podPoints(pod);
  const style: Record<string, { color: string; dashed?: boolean }> = {
    prod: { color: '#1b7837' },
    'stock-image': { color: '#b2182b' },
    ceiling: { color: '#2166ac', dashed: true },
  };
  const ids = LABEL_ORDER.filter((id) => points.some((p) => p.config === id));
  const label = (id: string) => pod.configs.find((c) => c.id === id)?.label ?? id;
  const values = (id: string, f: (p: PodPoint) => number) => pod.sessions.map((s) => {
    const p = pointAt(points, id, s);
    return p ? f(p) : NaN;
  });
  return chart({
    title: `The relay at the pod's limits (${pod.limits.cpuMillicores}m CPU, ${pod.limits.memoryMiB} MiB) against concurrent sessions`,
    xLabel: 'concurrent client sessions',
    yLabel: 'messages per second',
    independentY: true,
    xUnit: 'sessions',
    panels: [
      { title: 'Throughput, median of rounds (delivered/s; ceiling: accepted/s)', categories: pod.sessions.map(String), series: ids.map((id) => ({ ...style[id]!, label: label(id), values: values(id, (p) => p.rate) })) },
      {
        title: 'p99 acceptance latency, median of rounds (ms, lower is better)',
        yLabel: 'milliseconds',
        unit: ' ms',
        categories: pod.sessions.map(String),
        series: ids.map((id) => ({ ...style[id]!, label: label(id), values: values(id, (p) => p.p99) })),
      },
    ],
  });
}
