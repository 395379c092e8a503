import { describe, expect, it } from 'vitest';
import type { LoadResult } from '../../bench/relay/load';
import type { RelayConfigResult, RelayLevel, RelayResult } from '../../bench/relay/types';
import { relayAnalysis } from '../../bench/report/analysis';
import { podResult } from './pod-fixture';

// The unconstrained relay section's analysis (bench/report/analysis.ts): its sentences come from
// the measurements and from environments/prod.yaml as loaded, never from constants.

const load = (accepted: number, perSecond: number): LoadResult => ({
  concurrency: 20,
  attempted: accepted,
  accepted,
  rejected: 0,
  errors: 0,
  elapsedMs: 1000,
  acceptedPerSecond: perSecond,
  acceptedInWindow: accepted,
  acceptedAfterWarmup: accepted,
  latencyMs: { p50: 10, p90: 20, p99: 30, max: 40 },
  latencyAllMs: { p50: 10, p90: 20, p99: 30, max: 40 },
  transactionMs: { p50: 5, p90: 10, p99: 15, max: 20 },
  startedAt: 0,
  endedAt: 1000,
});

const lvl = (perSecond: number, sinkBusy: number): RelayLevel => ({
  concurrency: 20,
  passes: [perSecond],
  load: load(1000, perSecond),
  delivered: 1000,
  deliveredPerSecond: perSecond,
  sinkConnections: 20,
  sinkTlsConnections: 20,
  memory: { rssMiB: 100, pssMiB: 80, processes: 50, byCommand: { smtpd: { processes: 20, pssMiB: 30 } } },
  cpuMs: { postfix: 3000, sink: 100, client: 100 },
  cpuByCommand: { smtpd: 1000, smtp: 1000 },
  sinkBusy,
});

const config = (id: string, perSecond: number, sinkBusy: number): RelayConfigResult => ({
  id,
  link: 'loopback',
  config: id,
  label: id,
  description: '',
  overrides: [],
  levels: [lvl(perSecond, sinkBusy)],
  peakMemory: { rssMiB: 100, pssMiB: 80, processes: 50 },
  queueLeft: 0,
  ehloNames: [],
  logProblems: [],
  tlsEvidence: '',
});

function relay(prodOverrides: Partial<RelayResult['prod']> = {}, sinkBusy = 0.3): RelayResult {
  const prod = { ...podResult([]).prod, ...prodOverrides } as NonNullable<RelayResult['prod']>;
  return {
    messageBytes: 2048,
    wanReplyDelayMs: 10,
    cpuLimitMillicores: 200,
    messagesPerLevel: { 20: 1000 },
    memoryLimitMiB: 256,
    prodTuning: { processLimit: 30, relayConcurrency: 20 },
    prod,
    sinkAlone: [
      { concurrency: 20, mode: 'STARTTLS, 100 messages per connection', load: load(1000, 900) },
      { concurrency: 20, mode: 'STARTTLS, new connection per message', load: load(1000, NaN) },
    ],
    configs: [config('prod', 300, sinkBusy), config('ceiling', 400, NaN)],
    notes: [],
  };
}

describe('relayAnalysis', () => {
  it('reports the sink even when one of the values is NaN (Math.max over a NaN is NaN)', () => {
    const text = relayAnalysis(relay()).join('\n');
    expect(text).toMatch(/at most 30 % busy/);
    expect(text).toMatch(/Alone it takes up to 900 messages\/s/);
  });

  it('quotes the HPA target, the CPU request and the per-client limits from environments/prod.yaml as loaded', () => {
    const settings = podResult([]).prod;
    const text = relayAnalysis(
      relay({
        cpuRequestMillicores: 150,
        autoscaling: { ...settings.autoscaling, cpuTargetPercent: 85 },
        rateLimits: { connectionsPerMinute: 0, messagesPerMinute: 1200, recipientsPerMinute: 9000 },
      }),
    ).join('\n');
    expect(text).toMatch(/target 85 % of the 150m request/);
    expect(text).toMatch(/1200 messages and 9000 recipients per minute/);
    expect(text).toMatch(/cannot send more than 20\.0 messages\/s/);
    expect(text).not.toMatch(/target 70 %|100m request|600 messages/);
  });
});
