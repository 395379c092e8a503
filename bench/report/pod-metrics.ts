import type { PodLevel, PodResult } from '../relay/pod-types';

/**
 * Figures derived from the at-the-limits runs, shared by the goals, the tables, the capacity
 * guidance and the chart. Pure functions of the results (unit-tested in test/bench).
 */

export const POD_GOALS = {
  /** prod's sustained rate over the stock image's, same limits, same run. */
  prodOverStock: 1.5,
  /** Messages per second per pod at the CPU limit, at 50 sessions. */
  minPerSecond: 60,
  referenceSessions: 50,
  p99Ms: 1000,
  /** Where zero OOM kills and zero lost messages are required. */
  burstSessions: 200,
} as const;

/** One configuration at one session count, its rounds combined. */
export interface PodPoint {
  config: string;
  sessions: number;
  rounds: PodLevel[];
  /** The round with the higher delivery rate (a neighbour's load can only slow a round down). */
  best: PodLevel;
  /** levelRate of the best round. */
  rate: number;
  /** Pod CPU per accepted message over every round (load and drain), ms. */
  cpuMsPerMessage: number;
  /** Safety counters summed over every round (a bad round is never hidden by a good one). */
  lost: number;
  duplicates: number;
  unacknowledged: number;
  failed: number;
  oomKills: number;
  queued: number;
  /** Highest over the rounds. */
  peakMiB: number;
  workingSetMiB: number;
  anonMiB: number;
  pssMiB: number;
  /** Share of CFS periods throttled during the load, over every round. */
  throttled: number;
  /** CPU the pod used during the load, millicores (mean over rounds). */
  cpuMillicores: number;
}

export const isCeiling = (config: string): boolean => config === 'ceiling';

/**
 * The rate of one round: every message accepted in the sustained window delivered, from the first
 * one sent to the last one received (the queue that builds while accepting outruns relaying is
 * drained inside it); accepted/s for the ceiling, which delivers nothing.
 */
export function levelRate(l: PodLevel): number {
  return isCeiling(l.config) ? l.acceptedPerSecond : l.deliveredPerSecond;
}

export function podPoints(pod: PodResult, kind: PodLevel['kind'] | 'closed+sweep' = 'closed'): PodPoint[] {
  const groups = new Map<string, PodLevel[]>();
  for (const l of pod.levels) {
    const ok = kind === 'closed+sweep' ? l.kind === 'closed' || l.kind === 'sweep' : l.kind === kind;
    if (!ok) continue;
    const key = `${l.config}\u0000${l.kind === 'open' ? `open${l.offeredShare}` : l.sessions}`;
    groups.set(key, [...(groups.get(key) ?? []), l]);
  }
  return [...groups.values()].map((rounds) => point(rounds));
}

function point(rounds: PodLevel[]): PodPoint {
  const best = rounds.reduce((a, b) => (finite(levelRate(b)) > finite(levelRate(a)) ? b : a));
  const sum = (f: (l: PodLevel) => number) => rounds.reduce((a, l) => a + f(l), 0);
  const max = (f: (l: PodLevel) => number) => maxFinite(rounds.map(f));
  const accepted = sum((l) => l.accepted);
  const periods = sum((l) => l.load.periods);
  return {
    config: best.config,
    sessions: best.sessions,
    rounds,
    best,
    rate: levelRate(best),
    cpuMsPerMessage: accepted > 0 ? sum((l) => l.cgroup.cpuMs) / accepted : NaN,
    lost: sum((l) => l.lost),
    duplicates: sum((l) => l.duplicates),
    unacknowledged: sum((l) => l.unacknowledged),
    failed: sum((l) => l.errors + l.rejected),
    oomKills: sum((l) => l.cgroup.oomKills),
    queued: max((l) => l.queued),
    peakMiB: max((l) => l.cgroup.peakBytes / 1024 ** 2),
    workingSetMiB: max((l) => l.peak.workingSetMiB),
    anonMiB: max((l) => l.peak.anonMiB),
    pssMiB: max((l) => l.peak.pssMiB),
    throttled: periods > 0 ? sum((l) => l.load.throttledPeriods) / periods : NaN,
    cpuMillicores: rounds.reduce((a, l) => a + (l.load.cpuMs / Math.max(1, l.load.wallMs)) * 1000, 0) / rounds.length,
  };
}

/** Math.max over the finite values only; NaN when there are none (never NaN because one value was). */
export function maxFinite(values: readonly number[]): number {
  const ok = values.filter(Number.isFinite);
  return ok.length ? Math.max(...ok) : NaN;
}

const finite = (v: number) => (Number.isFinite(v) ? v : -Infinity);

export const pointAt = (points: PodPoint[], config: string, sessions: number): PodPoint | undefined =>
  points.find((p) => p.config === config && p.sessions === sessions);

/**
 * Messages per second a pod sustains at its CPU limit: the limit over the CPU one message costs
 * (measured at the reference session count, load and drain together). Robust to a neighbour's
 * load, unlike a rate, as long as the pod got its quota (see cpuMillicores).
 */
export function capacityPerSecond(pod: PodResult, config = 'prod', sessions: number = POD_GOALS.referenceSessions): number {
  const points = podPoints(pod);
  const p = pointAt(points, config, sessions) ?? points.filter((v) => v.config === config).sort((a, b) => b.sessions - a.sessions)[0];
  return p ? pod.limits.cpuMillicores / p.cpuMsPerMessage : NaN;
}

export interface CpuShare {
  command: string;
  msPerMessage: number;
  share: number;
  started: number;
}

/** Pod CPU per message by command (smtpd, cleanup, smtp, tlsproxy, ...) over the given rounds. */
export function cpuByCommand(rounds: readonly PodLevel[]): CpuShare[] {
  const accepted = rounds.reduce((a, l) => a + l.accepted, 0);
  const total = rounds.reduce((a, l) => a + l.cgroup.cpuMs, 0);
  const by = new Map<string, { ms: number; started: number }>();
  for (const l of rounds) {
    for (const [command, v] of Object.entries(l.byCommand)) {
      const c = by.get(command) ?? { ms: 0, started: 0 };
      c.ms += v.ms;
      c.started += v.started;
      by.set(command, c);
    }
  }
  return [...by]
    .map(([command, v]) => ({ command, msPerMessage: accepted ? v.ms / accepted : NaN, share: total ? v.ms / total : NaN, started: v.started }))
    .sort((a, b) => b.msPerMessage - a.msPerMessage);
}

/** Daemons grouped by the stage of a message they serve. */
export const STAGES: Record<string, string[]> = {
  'accepting (smtpd, anvil, proxymap, cleanup, trivial-rewrite)': ['smtpd', 'anvil', 'proxymap', 'cleanup', 'trivial-rewrite'],
  'queueing (qmgr, master, pickup)': ['qmgr', 'master', 'pickup'],
  'relaying (smtp, tlsproxy, scache, tlsmgr)': ['smtp', 'tlsproxy', 'scache', 'tlsmgr'],
  'logging (postlogd, the entrypoint\'s tail)': ['postlogd', 'tail'],
};

export function cpuByStage(shares: readonly CpuShare[]): { stage: string; msPerMessage: number }[] {
  const known = new Set(Object.values(STAGES).flat());
  const out = Object.entries(STAGES).map(([stage, commands]) => ({
    stage,
    msPerMessage: shares.filter((s) => commands.includes(s.command)).reduce((a, s) => a + s.msPerMessage, 0),
  }));
  out.push({ stage: 'other (discard, entrypoint, exited between samples)', msPerMessage: shares.filter((s) => !known.has(s.command)).reduce((a, s) => a + s.msPerMessage, 0) });
  return out;
}

export interface CapacityRow {
  perMinute: number;
  /** Pods to carry the rate at the CPU limit, and at the HPA's target utilization (what the HPA will run). */
  podsAtLimit: number;
  podsAtTarget: number;
}

/**
 * Pods for a message rate: at the limit (every pod saturated) and at the HPA's target (the HPA
 * keeps the average CPU use at target % of the request, so each pod carries that share of its
 * capacity); never fewer than the HPA's minimum.
 */
export function podsFor(perMinute: number, capacityPerSecond: number, pod: PodResult): CapacityRow {
  const perPodMinute = capacityPerSecond * 60;
  const atTarget = perPodMinute * targetShareOfLimit(pod);
  const min = pod.prod.autoscaling.enabled ? pod.prod.autoscaling.minReplicas : pod.prod.replicas;
  return {
    perMinute,
    podsAtLimit: Math.max(min, Math.ceil(perMinute / perPodMinute)),
    podsAtTarget: Math.max(min, Math.ceil(perMinute / atTarget)),
  };
}

/** The HPA's CPU target as a share of the CPU limit (the target is a percentage of the request). */
export function targetShareOfLimit(pod: PodResult, targetPercent = pod.prod.autoscaling.cpuTargetPercent): number {
  return Math.min(1, ((targetPercent / 100) * pod.prod.cpuRequestMillicores) / pod.prod.cpuLimitMillicores);
}

export interface Recommendation {
  value: number;
  why: string;
}

/** Shares behind the processLimit rule: connections that may fail in a burst, and the rate a limit may give up. */
export const PROCESS_LIMIT_RULE = { maxFailedShare: 0.1, minRateShare: 0.85 } as const;

/**
 * tuning.processLimit from the sweep: the smallest limit that, at the burst session count, lost
 * nothing, had no OOM kill, let at most 10 % of the connections time out (beyond about twice the
 * process limit, new connections wait for SYN retransmissions), kept its peak working set within
 * 80 % of the memory limit (the schema's gate) and its rate within 85 % of the best swept rate.
 * Smaller is better: each process costs memory and CPU (scheduling, start-up) under the quota.
 */
export function recommendProcessLimit(pod: PodResult): Recommendation | undefined {
  const rows = sweepRows(pod);
  // Only the process-limit variants (the shipped relayConcurrency): the relayConcurrency variant answers another question.
  const at = rows.filter((r) => r.sessions === POD_GOALS.burstSessions && r.relayConcurrency === pod.prod.tuning.relayConcurrency);
  if (at.length < 2) return undefined;
  const best = maxFinite(at.map((r) => r.point.rate));
  const attempted = (r: SweepRow) => r.point.rounds.reduce((a, l) => a + l.attempted, 0);
  const failedShare = (r: SweepRow) => r.point.failed / Math.max(1, attempted(r));
  const ok = at
    .filter(
      (r) =>
        r.point.oomKills === 0 &&
        r.point.lost === 0 &&
        failedShare(r) <= PROCESS_LIMIT_RULE.maxFailedShare &&
        r.point.workingSetMiB <= 0.8 * pod.limits.memoryMiB &&
        r.point.rate >= PROCESS_LIMIT_RULE.minRateShare * best,
    )
    .sort((a, b) => a.processLimit - b.processLimit);
  const pick = ok[0];
  if (!pick) {
    const reasons = at.map((r) => {
      const why = [
        r.point.oomKills ? `${r.point.oomKills} OOM kills` : '',
        r.point.lost ? `${r.point.lost} lost` : '',
        failedShare(r) > PROCESS_LIMIT_RULE.maxFailedShare ? `${(failedShare(r) * 100).toFixed(1)} % of connections timed out` : '',
        r.point.workingSetMiB > 0.8 * pod.limits.memoryMiB ? `working set ${r.point.workingSetMiB.toFixed(0)} MiB` : '',
        r.point.rate < PROCESS_LIMIT_RULE.minRateShare * best ? `${r.point.rate.toFixed(1)}/s, under ${PROCESS_LIMIT_RULE.minRateShare * 100} % of the best ${best.toFixed(1)}/s` : '',
      ].filter(Boolean);
      return `${r.processLimit}: ${why.join(', ')}`;
    });
    return { value: NaN, why: `no swept process limit met every condition at ${POD_GOALS.burstSessions} sessions (${reasons.join('; ')}); the shipped value stays until a run decides` };
  }
  return {
    value: pick.processLimit,
    why:
      `the smallest swept limit that, at ${POD_GOALS.burstSessions} sessions, lost nothing, had no OOM kill, let ${(failedShare(pick) * 100).toFixed(1)} % of its connections time out (at most ${PROCESS_LIMIT_RULE.maxFailedShare * 100} %), ` +
      `peaked at ${pick.point.workingSetMiB.toFixed(0)} MiB of working set (at most 80 % of ${pod.limits.memoryMiB} MiB, the schema's gate) and delivered ${pick.point.rate.toFixed(1)}/s ` +
      `(at least ${PROCESS_LIMIT_RULE.minRateShare * 100} % of the best swept ${best.toFixed(1)}/s)`,
  };
}

export interface SweepRow {
  config: string;
  processLimit: number;
  relayConcurrency: number;
  sessions: number;
  point: PodPoint;
}

/** prod and its tuning variants at the sweep's session counts. */
export function sweepRows(pod: PodResult): SweepRow[] {
  const points = podPoints(pod, 'closed+sweep');
  const out: SweepRow[] = [];
  for (const c of pod.configs) {
    if (c.id !== 'prod' && !c.variant) continue;
    for (const s of pod.sweepSessions) {
      const p = pointAt(points, c.id, s);
      if (p) out.push({ config: c.id, processLimit: c.processLimit, relayConcurrency: c.relayConcurrency, sessions: s, point: p });
    }
  }
  return out.sort((a, b) => a.sessions - b.sessions || a.processLimit - b.processLimit || a.relayConcurrency - b.relayConcurrency);
}

export interface LinearFit {
  intercept: number;
  slope: number;
}

/** Least squares y = intercept + slope x. */
export function fitLine(points: readonly { x: number; y: number }[]): LinearFit {
  const n = points.length;
  if (n < 2) return { intercept: NaN, slope: NaN };
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : NaN;
  return { intercept: my - slope * mx, slope };
}

/** Peak working set against tuning.processLimit at the burst session count (relayConcurrency as shipped). */
export function memoryFit(pod: PodResult): LinearFit & { points: { x: number; y: number }[] } {
  const points = sweepRows(pod)
    .filter((r) => r.sessions === POD_GOALS.burstSessions && r.relayConcurrency === pod.prod.tuning.relayConcurrency && r.point.oomKills === 0)
    .map((r) => ({ x: r.processLimit, y: r.point.workingSetMiB }));
  return { ...fitLine(points), points };
}

/** autoscaling.cpuTargetPercent's maximum in src/config/schema.ts. */
export const HPA_TARGET_MAX = 100;

/**
 * The HPA's CPU target from the open-loop runs: the highest CPU use (as % of the request) at
 * which prod still had p99 acceptance under the latency goal and kept up with the offered rate,
 * divided by the burst the remaining capacity must absorb while the HPA adds pods, rounded down
 * to a multiple of 10.
 */
export function recommendHpaTarget(pod: PodResult, burst = 1.5, max = HPA_TARGET_MAX): Recommendation | undefined {
  const open = podPoints(pod, 'open')
    .filter((p) => p.config === 'prod')
    .sort((a, b) => (a.best.offeredShare ?? 0) - (b.best.offeredShare ?? 0));
  if (!open.length) return undefined;
  const good = open.filter((p) => p.best.latencyMs.p99 < POD_GOALS.p99Ms && p.failed === 0 && p.lost === 0 && p.rate >= 0.9 * (p.best.offeredPerSecond ?? 0));
  const top = good[good.length - 1];
  if (!top) return { value: NaN, why: 'no open-loop rate kept p99 under the goal' };
  const usePercent = (top.cpuMillicores / pod.prod.cpuRequestMillicores) * 100;
  const derived = Math.max(10, Math.floor(usePercent / burst / 10) * 10);
  const value = Math.min(max, derived);
  return {
    value,
    why:
      `prod kept up with ${top.best.offeredPerSecond?.toFixed(0)} messages/s offered (${Math.round((top.best.offeredShare ?? 0) * 100)} % of its capacity) with p99 ${top.best.latencyMs.p99.toFixed(0)} ms, ` +
      `using ${top.cpuMillicores.toFixed(0)}m = ${usePercent.toFixed(0)} % of its ${pod.prod.cpuRequestMillicores}m request; ` +
      `a target of that divided by ${burst} (a burst of ${Math.round((burst - 1) * 100)} % more traffic absorbed while new pods start), rounded down to a multiple of 10` +
      (derived > max ? ` (${derived} %), capped at ${max} %: the schema's maximum, which keeps a pod's steady state within the CPU the scheduler reserved for it` : ''),
  };
}
