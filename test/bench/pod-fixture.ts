import type { CgroupStats } from '../../bench/relay/cgroup';
import type { PodLevel, PodResult } from '../../bench/relay/pod-types';

/** Small hand-made at-the-limits results for the report's pure functions (no Postfix, no cgroups). */

const stats = (o: Partial<CgroupStats> = {}): CgroupStats => ({
  cpuMs: 0,
  periods: 100,
  throttledPeriods: 100,
  throttledMs: 0,
  memoryBytes: 0,
  peakBytes: 100 * 1024 ** 2,
  anonBytes: 0,
  fileBytes: 0,
  workingSetBytes: 0,
  oomKills: 0,
  limitHits: 0,
  ...o,
});

export function level(o: Partial<PodLevel> & { config: string; sessions: number; rate?: number; cpuMs?: number; workingSetMiB?: number; p99?: number }): PodLevel {
  const rate = o.rate ?? 50;
  const accepted = o.accepted ?? rate * 10;
  const { rate: _r, cpuMs, workingSetMiB, p99, ...rest } = o;
  const peak = rest.peak ?? { anonMiB: 50, workingSetMiB: workingSetMiB ?? 100, pssMiB: 90, processes: 40, pssByCommand: {} };
  if (workingSetMiB !== undefined) peak.workingSetMiB = workingSetMiB;
  delete rest.peak;
  return {
    kind: 'closed',
    round: 0,
    durationMs: 10_000,
    attempted: accepted,
    accepted,
    rejected: 0,
    errors: 0,
    acceptedPerSecond: rate,
    windowDeliveredPerSecond: o.config === 'ceiling' ? NaN : rate,
    loadMs: 10_000,
    delivered: o.config === 'ceiling' ? 0 : accepted,
    deliveredPerSecond: rate,
    lost: 0,
    duplicates: 0,
    unacknowledged: 0,
    queued: 0,
    latencyMs: { p50: 100, p90: 200, p99: p99 ?? 300, max: 400 },
    transactionMs: { p50: 50, p90: 80, p99: 100, max: 120 },
    sinkConnections: 10,
    sinkTlsConnections: 10,
    sinkMessages: accepted,
    load: { cpuMs: 2000, wallMs: 10_000, periods: 100, throttledPeriods: 100 },
    cgroup: stats({ cpuMs: cpuMs ?? accepted * 4 }),
    byCommand: { smtpd: { ms: accepted * 1, started: 2 }, cleanup: { ms: accepted * 1, started: 0 }, smtp: { ms: accepted * 1.5, started: 1 }, tlsproxy: { ms: accepted * 0.5, started: 0 } },
    peak,
    ...rest,
  };
}

/**
 * The sweep's instances measured together for `rounds` rounds at 50 and 200 sessions: `of(config,
 * sessions, round)` gives each one's figures (rate, failed connections, working set...).
 */
export function sweepLevels(rounds: number, of: (config: string, sessions: number, round: number) => Partial<Parameters<typeof level>[0]>): PodLevel[] {
  const ids = ['prod-pl30', 'prod-pl60', 'prod-pl60-rc10', 'prod-pl100'];
  const out: PodLevel[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const sessions of [50, 200]) {
      for (const id of ids) {
        const pl = Number(/pl(\d+)/.exec(id)![1]);
        out.push(
          level({
            config: id,
            sessions,
            round,
            kind: 'sweep',
            alongside: ids.filter((o) => o !== id),
            peak: { anonMiB: 100, workingSetMiB: 100, pssMiB: 90, processes: 40 + pl, pssByCommand: { smtpd: { processes: pl, pssMiB: pl * 1.4 } } },
            ...of(id, sessions, round),
          }),
        );
      }
    }
  }
  return out;
}

export function podResult(levels: PodLevel[], o: Partial<PodResult> = {}): PodResult {
  return {
    cgroupVersion: 'v1',
    limits: { cpuMillicores: 200, memoryMiB: 256, shares: 8192 },
    prod: {
      cpuRequestMillicores: 100,
      cpuLimitMillicores: 200,
      memoryRequestMiB: 128,
      memoryLimitMiB: 256,
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 10, cpuTargetPercent: 70 },
      replicas: 2,
      tuning: { processLimit: 30, relayConcurrency: 20 },
      rateLimits: { connectionsPerMinute: 0, messagesPerMinute: 600, recipientsPerMinute: 6000 },
      maxRecipientsPerMessage: 100,
      estimatedPeakMemoryMiB: 140,
      estimates: { '30': 140, '60': 180, '100': 240, '30/20': 140, '60/20': 180, '60/10': 160, '100/20': 240 },
    },
    messageBytes: 2048,
    sessions: [1, 10, 50, 200],
    rounds: 2,
    durationMs: 10_000,
    openShares: [0.5, 1],
    sweepSessions: [50, 200],
    configs: [
      { id: 'prod', label: 'prod', description: '', overrides: [], processLimit: 30, relayConcurrency: 20, tlsEvidence: '', logProblems: [] },
      { id: 'stock-image', label: 'stock image', description: '', overrides: [], processLimit: 100, relayConcurrency: 20, tlsEvidence: '', logProblems: [] },
      ...[
        [30, 20],
        [60, 20],
        [60, 10],
        [100, 20],
      ].map(([pl, rc]) => ({
        id: `prod-pl${pl}${rc === 20 ? '' : `-rc${rc}`}`,
        label: `prod, processLimit ${pl}`,
        description: '',
        overrides: [],
        variant: { processLimit: pl!, relayConcurrency: rc! },
        processLimit: pl!,
        relayConcurrency: rc!,
        tlsEvidence: '',
        logProblems: [],
      })),
    ],
    levels,
    notes: [],
    tookMs: 1000,
    ...o,
  };
}
