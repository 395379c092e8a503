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
  /** The round whose rate is the median (the lower middle one of an even count): its latencies are shown. */
  best: PodLevel;
  /** Median of the rounds' rates (levelRate), and their lowest and highest. */
  rate: number;
  rateMin: number;
  rateMax: number;
  /** Medians over the rounds of each round's p50 and p99 acceptance latency and transaction p99. */
  p50: number;
  p99: number;
  transactionP99: number;
  /** Failed connections of each round. */
  failedByRound: number[];
  /** Connections attempted over every round. */
  attempted: number;
  /** smtpd processes at the highest PSS sample of the round with the highest working set. */
  smtpdAtPeak: number;
  processesAtPeak: number;
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

/** The median of finite values (the mean of the two middle ones for an even count); NaN when there are none. */
export function median(values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

function point(unordered: PodLevel[]): PodPoint {
  const rounds = [...unordered].sort((a, b) => a.round - b.round);
  const byRate = [...rounds].sort((a, b) => finite(levelRate(a)) - finite(levelRate(b)));
  const best = byRate[Math.floor((byRate.length - 1) / 2)]!;
  const sum = (f: (l: PodLevel) => number) => rounds.reduce((a, l) => a + f(l), 0);
  const max = (f: (l: PodLevel) => number) => maxFinite(rounds.map(f));
  const accepted = sum((l) => l.accepted);
  const periods = sum((l) => l.load.periods);
  const rates = rounds.map(levelRate).filter(Number.isFinite);
  const peakRound = rounds.reduce((a, b) => (b.peak.workingSetMiB > a.peak.workingSetMiB ? b : a));
  return {
    config: best.config,
    sessions: best.sessions,
    rounds,
    best,
    rate: median(rates),
    rateMin: rates.length ? Math.min(...rates) : NaN,
    rateMax: rates.length ? Math.max(...rates) : NaN,
    p50: median(rounds.map((l) => l.latencyMs.p50)),
    p99: median(rounds.map((l) => l.latencyMs.p99)),
    transactionP99: median(rounds.map((l) => l.transactionMs.p99)),
    failedByRound: rounds.map((l) => l.errors + l.rejected),
    attempted: sum((l) => l.attempted),
    smtpdAtPeak: peakRound.peak.pssByCommand.smtpd?.processes ?? 0,
    processesAtPeak: peakRound.peak.processes,
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

/**
 * The rule that derives tuning.processLimit (and, when the sweep has such a variant,
 * tuning.relayConcurrency) from the sweep, written in docs/PERFORMANCE.md:
 *  1. safety: at 50 and 200 sessions, in every round, no OOM kill, no lost or duplicated message;
 *  2. memory: the schema accepts the tuning (its estimatedPeakMemoryMiB within `memoryShare` of the
 *     memory limit), and that estimate holds for it: at most 10 % below every working set measured
 *     at 200 sessions (`estimateTolerance`; gate 80 % and 10 %: a measured peak stays under 89 % of
 *     the limit). The estimate, fitted to the runs, decides rather than one run's highest round, so
 *     the choice does not flip with a round's noise;
 *  3. the reference: of the limits left, the one with the fewest failed connections at 200 sessions
 *     (median over rounds; a smaller limit on a tie);
 *  4. noise: a limit is separably worse than the reference when, in every round (measured at the
 *     same moment, so paired), it had more failed connections at 200 sessions, or delivered fewer
 *     messages/s at 50 or at 200 sessions;
 *  5. of the limits not separably worse than the reference, the one with the smallest peak working
 *     set (the most margin under the limit).
 * It needs at least `minRounds` rounds: fewer cannot tell a difference from noise.
 */
export const PROCESS_LIMIT_RULE = { memoryShare: 0.8, estimateTolerance: 0.9, minRounds: 3 } as const;

export interface SweepRow {
  config: string;
  processLimit: number;
  relayConcurrency: number;
  sessions: number;
  point: PodPoint;
}

/** The sweep's instances (one per process limit, the shipped one too) at the sweep's session counts. */
export function sweepRows(pod: PodResult): SweepRow[] {
  const points = podPoints(pod, 'sweep');
  const out: SweepRow[] = [];
  for (const c of pod.configs) {
    if (c.variant?.processLimit === undefined) continue;
    for (const s of pod.sweepSessions) {
      const p = pointAt(points, c.id, s);
      if (p) out.push({ config: c.id, processLimit: c.processLimit, relayConcurrency: c.relayConcurrency, sessions: s, point: p });
    }
  }
  return out.sort((a, b) => a.sessions - b.sessions || a.processLimit - b.processLimit || b.relayConcurrency - a.relayConcurrency);
}

/**
 * Per round, `f` of configuration a and of configuration b at `sessions`, for the rounds in which
 * both were measured at the same moment (the same batch): paired figures, free of the neighbours'
 * load, which moves both.
 */
export function paired(pod: PodResult, a: string, b: string, sessions: number, f: (l: PodLevel) => number): { round: number; a: number; b: number }[] {
  const at = (config: string) => pod.levels.filter((l) => l.config === config && l.sessions === sessions && l.kind !== 'open');
  const bs = at(b);
  const out: { round: number; a: number; b: number }[] = [];
  for (const la of at(a)) {
    const lb = bs.find((l) => l.round === la.round && (la.alongside ?? []).includes(b));
    if (lb) out.push({ round: la.round, a: f(la), b: f(lb) });
  }
  return out.sort((x, y) => x.round - y.round);
}

/** a is worse than b in every paired round (at least two): a difference beyond the round-to-round noise. */
export function separablyWorse(pairs: readonly { a: number; b: number }[], lowerIsBetter: boolean): boolean {
  return pairs.length >= 2 && pairs.every((p) => (lowerIsBetter ? p.a > p.b : p.a < p.b));
}

export interface SweepVerdict {
  config: string;
  processLimit: number;
  relayConcurrency: number;
  burst: SweepRow;
  steady?: SweepRow;
  /** The schema's estimatedPeakMemoryMiB for this tuning, as it was when the bench ran. */
  estimateMiB: number;
  /** Why it is out (steps 1 and 2), or empty. */
  refused: string[];
  /** Where it is separably worse than the reference (step 4), or empty. */
  worse: string[];
}

export interface ProcessLimitDecision extends Recommendation {
  relayConcurrency: number;
  reference?: string;
  verdicts: SweepVerdict[];
}

const failedOf = (l: PodLevel) => l.errors + l.rejected;

export function recommendProcessLimit(pod: PodResult): ProcessLimitDecision | undefined {
  const rows = sweepRows(pod);
  const burst = rows.filter((r) => r.sessions === POD_GOALS.burstSessions);
  if (burst.length < 2) return undefined;
  const gate = PROCESS_LIMIT_RULE.memoryShare * pod.limits.memoryMiB;
  const verdicts: SweepVerdict[] = burst.map((b) => {
    const steady = rows.find((r) => r.config === b.config && r.sessions === POD_GOALS.referenceSessions);
    const estimateMiB = pod.prod.estimates[estimateKey(b.processLimit, b.relayConcurrency)] ?? pod.prod.estimates[String(b.processLimit)] ?? NaN;
    const refused: string[] = [];
    for (const r of [b, ...(steady ? [steady] : [])]) {
      if (r.point.oomKills) refused.push(`${r.point.oomKills} OOM kills at ${r.sessions} sessions`);
      if (r.point.lost || r.point.duplicates) refused.push(`${r.point.lost} lost and ${r.point.duplicates} duplicated at ${r.sessions} sessions`);
    }
    if (estimateMiB > gate) refused.push(`the schema estimates ${estimateMiB.toFixed(0)} MiB, over ${gate.toFixed(0)} MiB (it refuses this tuning)`);
    if (!(b.point.workingSetMiB * PROCESS_LIMIT_RULE.estimateTolerance <= estimateMiB)) refused.push(`working set ${b.point.workingSetMiB.toFixed(0)} MiB: the estimate (${estimateMiB.toFixed(0)} MiB) is more than 10 % below it, refit it`);
    return { config: b.config, processLimit: b.processLimit, relayConcurrency: b.relayConcurrency, burst: b, ...(steady ? { steady } : {}), estimateMiB, refused, worse: [] };
  });
  const rounds = Math.min(...burst.map((b) => b.point.rounds.length));
  const fail = (why: string): ProcessLimitDecision => ({ value: NaN, relayConcurrency: NaN, why, verdicts });
  if (rounds < PROCESS_LIMIT_RULE.minRounds) return fail(`${rounds} round${rounds === 1 ? '' : 's'} at ${POD_GOALS.burstSessions} sessions: at least ${PROCESS_LIMIT_RULE.minRounds} are needed to tell a difference from noise`);
  const candidates = verdicts.filter((v) => !v.refused.length);
  if (!candidates.length) return fail(`no swept tuning passed the safety and memory steps (${verdicts.map((v) => `${label(v)}: ${v.refused.join(', ')}`).join('; ')})`);
  const medianFailed = (v: SweepVerdict) => median(v.burst.point.failedByRound);
  const reference = [...candidates].sort((x, y) => medianFailed(x) - medianFailed(y) || x.processLimit - y.processLimit || y.relayConcurrency - x.relayConcurrency)[0]!;
  for (const v of candidates) {
    if (v === reference) continue;
    const at = (sessions: number, f: (l: PodLevel) => number) => paired(pod, v.config, reference.config, sessions, f);
    if (separablyWorse(at(POD_GOALS.burstSessions, failedOf), true)) v.worse.push(`more failed connections at ${POD_GOALS.burstSessions} sessions in every round`);
    for (const s of [POD_GOALS.referenceSessions, POD_GOALS.burstSessions]) {
      if (separablyWorse(at(s, levelRate), false)) v.worse.push(`fewer messages/s at ${s} sessions in every round`);
    }
  }
  const ok = candidates.filter((v) => !v.worse.length);
  const pick = [...ok].sort((x, y) => x.burst.point.workingSetMiB - y.burst.point.workingSetMiB || x.processLimit - y.processLimit)[0]!;
  return {
    value: pick.processLimit,
    relayConcurrency: pick.relayConcurrency,
    reference: reference.config,
    verdicts,
    why:
      `${label(pick)}: no OOM kill, nothing lost, estimated at ${pick.estimateMiB.toFixed(0)} MiB (gate ${gate.toFixed(0)} MiB), measured at most ${pick.burst.point.workingSetMiB.toFixed(0)} MiB at ${POD_GOALS.burstSessions} sessions; ` +
      `the fewest failed connections at ${POD_GOALS.burstSessions} sessions had ${label(reference)} (median ${medianFailed(reference)} per round)` +
      (pick === reference ? '' : `, and ${label(pick)} is not separably worse than it (median ${medianFailed(pick)}) on failed connections or messages/s`) +
      (ok.length > 1 ? `; of the ${ok.length} tunings not separably worse, it has the smallest peak working set` : ''),
  };
}

const label = (v: { processLimit: number; relayConcurrency: number }) => `processLimit ${v.processLimit}, relayConcurrency ${v.relayConcurrency}`;

/** The key of ProdSettings.estimates for a tuning. */
export const estimateKey = (processLimit: number, relayConcurrency: number): string => `${processLimit}/${relayConcurrency}`;

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

export interface MemoryPoint {
  processLimit: number;
  relayConcurrency: number;
  /** Highest working set over the rounds at the burst session count, MiB. */
  workingSetMiB: number;
  /** smtpd processes at that peak: fewer than processLimit means the master had not started them all yet. */
  smtpd: number;
  processes: number;
  /** Every smtpd the limit allows was running: the point shows the limit's full cost. */
  full: boolean;
}

/**
 * Peak working set against the tuning at the burst session count: MiB = intercept + perProcess x
 * processLimit + perRelay x relayConcurrency, fitted to the points where every smtpd the limit
 * allows was running (a short burst at a high limit ends before the master has started them all:
 * those points are kept as checks, not fitted). perRelay comes from the relayConcurrency variant
 * when the sweep has one (against the same processLimit at the shipped relayConcurrency), else
 * from the schema's coefficient as given.
 */
export function memoryFit(pod: PodResult, fallbackPerRelay = 2.5): { intercept: number; perProcess: number; perRelay: number; points: MemoryPoint[] } {
  const points: MemoryPoint[] = sweepRows(pod)
    .filter((r) => r.sessions === POD_GOALS.burstSessions && r.point.oomKills === 0)
    .map((r) => ({
      processLimit: r.processLimit,
      relayConcurrency: r.relayConcurrency,
      workingSetMiB: r.point.workingSetMiB,
      smtpd: r.point.smtpdAtPeak,
      processes: r.point.processesAtPeak,
      full: r.point.smtpdAtPeak >= 0.95 * r.processLimit,
    }));
  const shippedRc = pod.prod.tuning.relayConcurrency;
  // A process limit measured with two relayConcurrency values (every smtpd running in both).
  const lo = points.find((p) => p.full && p.relayConcurrency !== shippedRc);
  const hi = lo && points.find((p) => p.full && p.processLimit === lo.processLimit && p.relayConcurrency === shippedRc);
  const perRelay = hi && lo ? (hi.workingSetMiB - lo.workingSetMiB) / (hi.relayConcurrency - lo.relayConcurrency) : fallbackPerRelay;
  const fit = fitLine(points.filter((p) => p.full).map((p) => ({ x: p.processLimit, y: p.workingSetMiB - perRelay * Math.min(p.processLimit, p.relayConcurrency) })));
  return { intercept: fit.intercept, perProcess: fit.slope, perRelay, points };
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
