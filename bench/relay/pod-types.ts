import type { CgroupStats, CgroupVersion } from './cgroup';
import type { CommandCpu } from './cgroup-sampler';

/** Shapes of the at-the-pod's-limits results (no harness imports: the report and its tests use them). */

/** What environments/prod.yaml says, read through the project's loader at bench time. */
export interface ProdSettings {
  cpuRequestMillicores: number;
  cpuLimitMillicores: number;
  memoryRequestMiB: number;
  memoryLimitMiB: number;
  autoscaling: { enabled: boolean; minReplicas: number; maxReplicas: number; cpuTargetPercent: number };
  replicas: number;
  tuning: { processLimit: number; relayConcurrency: number };
  /** Per-client anvil limits (0 = unlimited). */
  rateLimits: { connectionsPerMinute: number; messagesPerMinute: number; recipientsPerMinute: number };
  maxRecipientsPerMessage: number;
  /** estimatedPeakMemoryMiB(processLimit, relayConcurrency) from src/config/schema.ts, as shipped. */
  estimatedPeakMemoryMiB: number;
  /** The same estimate at every swept process limit (relayConcurrency as the sweep runs it), keyed by processLimit. */
  estimates: Record<string, number>;
}

export interface PodLevel {
  config: string;
  /** closed: `sessions` clients send back to back; open: new connections at `offeredPerSecond`; sweep: a tuning variant, closed loop. */
  kind: 'closed' | 'open' | 'sweep';
  /** Open loop: the offered rate, and which fraction of the measured capacity it is. */
  offeredPerSecond?: number;
  offeredShare?: number;
  sessions: number;
  /** Which round of the interleaved schedule (0-based). */
  round: number;
  durationMs: number;
  attempted: number;
  accepted: number;
  rejected: number;
  errors: number;
  firstProblem?: string;
  /** Accepted within the sustained window (the first durationMs, all sessions busy), per second. */
  acceptedPerSecond: number;
  /** Received by the sink within the same window, per second: the pod's sustained relay rate. */
  windowDeliveredPerSecond: number;
  /** Wall time of the load until the last session ended (sessions that waited for a greeting end late). */
  loadMs: number;
  /** Messages the sink received for this round, from the first message sent to the last one received. */
  delivered: number;
  deliveredPerSecond: number;
  /** Accepted messages the sink never received, received more than once, and received but never acknowledged to the client. */
  lost: number;
  duplicates: number;
  unacknowledged: number;
  /** Messages left in the queue after the round's drain wait. */
  queued: number;
  /** Connect to the 250 after the data (what an application waits), and the transaction alone (MAIL FROM to 250). */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  transactionMs: { p50: number; p90: number; p99: number; max: number };
  sinkConnections: number;
  sinkTlsConnections: number;
  /** Messages the sink received over the same span as the connection counts (warm-up stragglers included). */
  sinkMessages: number;
  /** The pod cgroup over the sustained window (all sessions busy): CPU it used, periods throttled. */
  load: { cpuMs: number; wallMs: number; periods: number; throttledPeriods: number };
  /** The pod cgroup over the whole round (load and drain): counters as differences, peakBytes its high-water mark. */
  cgroup: CgroupStats;
  byCommand: Record<string, CommandCpu>;
  peak: { anonMiB: number; workingSetMiB: number; pssMiB: number; processes: number; pssByCommand: Record<string, { processes: number; pssMiB: number }> };
}

export interface PodConfigInfo {
  id: string;
  label: string;
  description: string;
  overrides: string[];
  /** The settings that differ in a sweep variant (e.g. { processLimit: 60 }). */
  variant?: Record<string, number>;
  /** What the rendered main.cf sets for the parameters the analysis talks about. */
  processLimit: number;
  relayConcurrency: number;
  tlsEvidence: string;
  logProblems: string[];
  /** The smtpd socket's listen backlog (ss Send-Q): connections beyond the busy smtpd processes wait there. */
  listenBacklog?: number;
  /** main.cf parameters the bench set on top (the --pod-try experiments). */
  extraMainCf?: Record<string, string>;
}

export interface PodResult {
  cgroupVersion: CgroupVersion;
  limits: { cpuMillicores: number; memoryMiB: number; shares: number };
  prod: ProdSettings;
  messageBytes: number;
  sessions: number[];
  rounds: number;
  durationMs: number;
  /** Fractions of prod's measured capacity offered open loop (the HPA target follows from them). */
  openShares: number[];
  /** Sessions at which the process-limit sweep ran. */
  sweepSessions: number[];
  configs: PodConfigInfo[];
  levels: PodLevel[];
  notes: string[];
  /** Wall time of the whole section, ms. */
  tookMs: number;
}
