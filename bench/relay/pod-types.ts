import type { CgroupStats, CgroupVersion } from './cgroup';
import type { CommandCpu } from './cgroup-sampler';

/** Shapes of the at-the-pod's-limits results (no harness imports: the report and its tests use them). */

/** The Postfix the relay sections ran (bench/relay/generation.ts). */
export interface PostfixUnderTest {
  /** 3.10: the Debian 13 root of the integration harness (the image's generation); host: this machine's own. */
  generation: 'host' | '3.10';
  /** mail_version of the Postfix that ran. */
  version: string;
  /** mail_version of the host's own Postfix (/usr/sbin/postconf). */
  hostVersion: string;
  /** The Debian 13 root and its wrappers (3.10 only). */
  root?: string;
  bin?: string;
  /** Where that generation's stock main.cf.debian and master.cf.dist are (the stock configurations read them). */
  stockDir: string;
  /** The master's start line ("daemon started -- version ...") per instance, keyed section:config. */
  versionLines: Record<string, string>;
}

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
  /** The configurations measured at the same time as this one (the same parallel group), this one excluded. */
  alongside?: string[];
  /** Processes of the instance (entrypoint, master and every descendant) found outside the pod's cgroup after the round: must be 0. */
  outsideGroup?: number;
  durationMs: number;
  /** The unmeasured start of the same load (absent in older results: a separate warm-up run). */
  warmupMs?: number;
  /** Connections started, warm-up included (the failed ones are out of these). */
  attempted: number;
  /** Accepted after the warm-up: the messages the window's CPU per message and delivery rate are for. */
  accepted: number;
  /** Accepted over the whole round, warm-up included (loss is checked on all of them). */
  acceptedWithWarmup?: number;
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
  /** Acceptance latency of every message of the round, warm-up (and its first burst of connects) included. */
  latencyAllMs?: { p50: number; p90: number; p99: number; max: number };
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
  /** The master's "daemon started -- version ..." line, and the root directory the master ran in (/proc/<pid>/root). */
  versionLine?: string;
  processRoot?: string;
  /** main.cf parameters the bench set on top (the --pod-try experiments). */
  extraMainCf?: Record<string, string>;
}

export interface PodResult {
  cgroupVersion: CgroupVersion;
  /** The Postfix that ran (older results: the host's 3.7, not recorded). */
  postfix?: PostfixUnderTest;
  /** Rounds at each session count (rounds applies to the light ones, 1 and 10). */
  roundsBySessions?: Record<string, number>;
  /** Warm-up before each measured window, ms. */
  warmupMs?: number;
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
