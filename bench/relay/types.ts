import type { LoadResult } from './load';
import type { TreeMemory } from './tree';
import type { PostfixUnderTest, ProdSettings } from './pod-types';

/** Shapes of the relay throughput results (kept apart from the harness-dependent code). */

export interface RelayLevel {
  concurrency: number;
  /** Throughput of each pass (delivered/s, or accepted/s for the ceiling); the level shows the best pass. */
  passes: number[];
  load: LoadResult;
  /** Messages the sink received for this level. */
  delivered: number;
  /** From the first message sent to the last one received by the sink. */
  deliveredPerSecond: number;
  /** Connections and TLS handshakes the sink saw for this level. */
  sinkConnections: number;
  sinkTlsConnections: number;
  memory: TreeMemory;
  /** CPU time of the Postfix container (entrypoint, master, daemons), of the sink and of the load generator. */
  cpuMs: { postfix: number; sink: number; client: number };
  /** The Postfix container's CPU time per command name. */
  cpuByCommand: Record<string, number>;
  /** The sink's CPU time over the level's wall time (1.0 = its one thread saturated). */
  sinkBusy: number;
}

export interface RelayConfigResult {
  id: string;
  /** `loopback` (the sink answers at once) or `wan` (the sink waits `replyDelayMs` before every reply). */
  link: 'loopback' | 'wan';
  config: string;
  label: string;
  description: string;
  /** Parameters changed from the configuration's own files for the bench. */
  overrides: string[];
  levels: RelayLevel[];
  peakMemory: TreeMemory;
  /** Messages left in the queue at the end (should be 0). */
  queueLeft: number;
  /** EHLO names the sink saw from this instance. */
  ehloNames: string[];
  /** Interesting lines from this instance's maillog (warnings, errors), deduplicated. */
  logProblems: string[];
  /** A maillog line that shows how Postfix talked TLS to the sink (or that it did not). */
  tlsEvidence: string;
  /** Relaying alone: a backlog queued while delivery was held, then released at once. */
  drain?: RelayDrain;
}

export interface SinkAloneLevel {
  concurrency: number;
  mode: string;
  load: LoadResult;
}

export interface RelayResult {
  /** The Postfix that ran (absent in older results: the host's 3.7). */
  postfix?: PostfixUnderTest;
  messageBytes: number;
  wanReplyDelayMs: number;
  cpuLimitMillicores: number;
  messagesPerLevel: Record<number, number>;
  memoryLimitMiB: number;
  /** prod's own process limits (environments/prod.yaml `tuning`, with defaults). */
  prodTuning?: { processLimit: number; relayConcurrency: number };
  /** environments/prod.yaml as the project's loader reads it (the analysis quotes the HPA target, requests and rate limits from here). */
  prod?: ProdSettings;
  sinkAlone: SinkAloneLevel[];
  configs: RelayConfigResult[];
  notes: string[];
}

export interface RelayDrain {
  messages: number;
  delivered: number;
  /** From the flush to the last message received by the sink. */
  deliveredPerSecond: number;
  sinkConnections: number;
  sinkTlsConnections: number;
  /** Postfix CPU per delivered message while draining (the relaying side only). */
  cpuMsPerMessage: number;
  /** The sink's CPU time over the drain's wall time: 1.0 would mean its one thread was saturated. */
  sinkBusy: number;
  memory: TreeMemory;
  problem?: string;
}
