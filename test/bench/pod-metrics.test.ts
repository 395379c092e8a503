import { describe, expect, it } from 'vitest';
import { keyed } from '../../bench/relay/cgroup';
import { deliveryCheck } from '../../bench/relay/delivery-check';
import {
  capacityPerSecond,
  cpuByCommand,
  maxFinite,
  memoryFit,
  podPoints,
  podsFor,
  pointAt,
  recommendHpaTarget,
  recommendProcessLimit,
  targetShareOfLimit,
} from '../../bench/report/pod-metrics';
import { podGoalRows, podSection, relayConcurrencyEvidence } from '../../bench/report/pod-report';
import { level, podResult, sweepLevels } from './pod-fixture';

// The pure arithmetic behind the "relay at the pod's limits" section (the bench itself runs
// only with `npm run bench`, never in `npm test`).

describe('maxFinite', () => {
  it('ignores NaN instead of returning it (Math.max(1, NaN) is NaN)', () => {
    expect(Math.max(1, NaN)).toBeNaN();
    expect(maxFinite([1, NaN, 3])).toBe(3);
    expect(maxFinite([NaN])).toBeNaN();
    expect(maxFinite([])).toBeNaN();
  });
});

describe('deliveryCheck', () => {
  it('counts lost, duplicated and unacknowledged messages one by one', () => {
    expect(deliveryCheck(['a.1', 'a.2', 'a.3'], { 'a.1': 1, 'a.2': 2, 'a.4': 1 })).toEqual({ lost: 1, duplicates: 1, unacknowledged: 1 });
    expect(deliveryCheck(['a.1'], { 'a.1': 1 })).toEqual({ lost: 0, duplicates: 0, unacknowledged: 0 });
    expect(deliveryCheck([], {})).toEqual({ lost: 0, duplicates: 0, unacknowledged: 0 });
  });
});

describe('cgroup stat files', () => {
  it('parses key value lines (cpu.stat, memory.oom_control)', () => {
    expect(keyed('nr_periods 10\nnr_throttled 7\nthrottled_time 12345\n')).toEqual({ nr_periods: 10, nr_throttled: 7, throttled_time: 12345 });
    expect(keyed('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n').oom_kill).toBe(2);
  });
});

describe('podPoints', () => {
  const pod = podResult([
    level({ config: 'prod', sessions: 50, round: 0, rate: 40, cpuMs: 1000, accepted: 400, lost: 1, workingSetMiB: 120 }),
    level({ config: 'prod', sessions: 50, round: 1, rate: 60, cpuMs: 3000, accepted: 600, lost: 2, cgroup: { ...level({ config: 'prod', sessions: 50 }).cgroup, cpuMs: 3000, oomKills: 1 } }),
  ]);
  const p = pointAt(podPoints(pod), 'prod', 50)!;

  it('shows the median of the rounds and their range, and pools the CPU per message over every round', () => {
    expect(p.rate).toBe(50);
    expect([p.rateMin, p.rateMax]).toEqual([40, 60]);
    expect(p.best.round).toBe(0); // the lower middle round of an even count
    expect(p.cpuMsPerMessage).toBeCloseTo(4000 / 1000);
  });

  it('sums the safety counters over every round, so a bad round is never hidden by a good one', () => {
    expect(p.lost).toBe(3);
    expect(p.oomKills).toBe(1);
    expect(p.workingSetMiB).toBe(120);
  });
});

describe('capacity guidance', () => {
  const pod = podResult([level({ config: 'prod', sessions: 50, rate: 45, cpuMs: 2000, accepted: 500 })]);

  it('capacity is the CPU limit over the CPU per message', () => {
    expect(capacityPerSecond(pod)).toBeCloseTo(200 / 4);
  });

  it('the HPA target is a share of the request, expressed against the limit', () => {
    expect(targetShareOfLimit(pod)).toBeCloseTo(0.35);
    expect(targetShareOfLimit(pod, 100)).toBeCloseTo(0.5);
    expect(targetShareOfLimit(pod, 400)).toBe(1);
  });

  it('pods for a rate: at the limit and at the target, never below minReplicas', () => {
    // 50 msg/s = 3000 per minute per pod at the limit; 1050 at 35 %.
    expect(podsFor(1_000, 50, pod)).toEqual({ perMinute: 1_000, podsAtLimit: 2, podsAtTarget: 2 });
    expect(podsFor(10_000, 50, pod)).toEqual({ perMinute: 10_000, podsAtLimit: 4, podsAtTarget: 10 });
    expect(podsFor(100_000, 50, pod)).toEqual({ perMinute: 100_000, podsAtLimit: 34, podsAtTarget: 96 });
  });
});

describe('defaults derived from the sweep', () => {
  // Four rounds; by default every tuning equal except: failed connections fall with the process
  // limit, and memory rises with it.
  const base = (config: string, sessions: number, round: number): Partial<Parameters<typeof level>[0]> => {
    const pl = Number(/pl(\d+)/.exec(config)![1]);
    const rc = config.includes('rc10') ? 10 : 20;
    return {
      rate: 50 + (round % 2 ? 5 : -5) + (config.length % 3), // noise that changes sign between rounds
      errors: sessions === 200 ? Math.max(0, 200 - 2 * pl) : 0,
      workingSetMiB: 40 + 1.5 * pl + 2 * rc,
    };
  };
  const sweep = (rounds = 4, over: (config: string, sessions: number, round: number) => Partial<Parameters<typeof level>[0]> = () => ({})) =>
    podResult([...sweepLevels(rounds, (c, s, r) => ({ ...base(c, s, r), ...over(c, s, r) }))]);

  it('takes the fewest failed connections within the memory gate, then the least memory among tunings not separably worse', () => {
    // 100 (0 failed) is over the gate (estimate 240 MiB > 205); 60 beats 30 on failures in every round;
    // 60/rc10 is as good as 60/rc20 on failures and rates, with less memory.
    const d = recommendProcessLimit(sweep())!;
    expect(d.verdicts.find((v) => v.processLimit === 100)!.refused.join()).toMatch(/schema estimates 240 MiB/);
    expect(d.verdicts.find((v) => v.processLimit === 30)!.worse).toEqual(['more failed connections at 200 sessions in every round']);
    expect([d.value, d.relayConcurrency]).toEqual([60, 10]);
  });

  it("judges the schema's memory estimate by the rule's step 2: at most 10 % below each measured working set", () => {
    // The fixture's estimates: 60/20 180 MiB. A peak of 198 MiB is 9 % above it (holds), 201 MiB 10.4 % (does not).
    const covered = (peak: number) => {
      const pod = sweep(3, (c, s) => (c === 'prod-pl60' && s === 200 ? { workingSetMiB: peak } : {}));
      return podGoalRows(pod).find((r) => /shipped defaults follow/.test(r[0]!))![3];
    };
    expect(covered(198)).toMatch(/covers every measured peak within 10 % \(the rule's step 2\): yes$/);
    expect(covered(201)).toMatch(/: NO$/);
  });

  it('counts a difference as real only when it holds in every paired round', () => {
    // rc10 slower at 50 sessions in every round: separably worse, so the shipped relayConcurrency stays.
    const slower = recommendProcessLimit(sweep(4, (c, s) => (c.endsWith('rc10') && s === 50 ? { rate: 30 } : {})))!;
    expect(slower.verdicts.find((v) => v.relayConcurrency === 10)!.worse).toEqual(['fewer messages/s at 50 sessions in every round']);
    expect([slower.value, slower.relayConcurrency]).toEqual([60, 20]);
    // Slower in three rounds of four: noise.
    const once = recommendProcessLimit(sweep(4, (c, s, r) => (c.endsWith('rc10') && s === 50 && r > 0 ? { rate: 30 } : {})))!;
    expect([once.value, once.relayConcurrency]).toEqual([60, 10]);
  });

  it('refuses a tuning that lost a message or was OOM-killed, and decides nothing on fewer than 3 rounds', () => {
    const lost = recommendProcessLimit(sweep(4, (c, s, r) => (c === 'prod-pl60-rc10' && s === 200 && r === 2 ? { lost: 1 } : {})))!;
    expect(lost.verdicts.find((v) => v.relayConcurrency === 10)!.refused.join()).toMatch(/1 lost/);
    expect([lost.value, lost.relayConcurrency]).toEqual([60, 20]);
    expect(recommendProcessLimit(sweep(2))!.value).toBeNaN();
    expect(recommendProcessLimit(sweep(2))!.why).toMatch(/at least 3/);
  });

  it('refuses a tuning the schema estimates over the gate, even when the run stayed under it', () => {
    const pod = sweep();
    pod.prod.estimates['60/10'] = 300;
    expect(recommendProcessLimit(pod)!.verdicts.find((v) => v.relayConcurrency === 10)!.refused.join()).toMatch(/schema estimates 300 MiB/);
  });

  it('refuses a tuning whose measured peak shows the estimate more than 10 % too low (refit first)', () => {
    // 60/10 measures 40 + 90 + 20 = 150 MiB; an estimate of 134 is 89 % of it.
    const pod = sweep();
    pod.prod.estimates['60/10'] = 134;
    expect(recommendProcessLimit(pod)!.verdicts.find((v) => v.relayConcurrency === 10)!.refused.join()).toMatch(/more than 10 % below it/);
    pod.prod.estimates['60/10'] = 136;
    expect(recommendProcessLimit(pod)!.verdicts.find((v) => v.relayConcurrency === 10)!.refused).toEqual([]);
  });

  it('reports the relay-connection variant against the shipped tuning per paired round (CPU per message, memory)', () => {
    const pod = sweep(3, (c) => (c === 'prod-pl60-rc10' ? { cpuMs: 3000, accepted: 500 } : c === 'prod-pl60' ? { cpuMs: 4000, accepted: 500 } : {}));
    pod.prod.tuning = { processLimit: 60, relayConcurrency: 20 };
    const text = relayConcurrencyEvidence(pod) ?? '';
    expect(text).toMatch(/\*\*Relay connections\.\*\* With 20 relay connections \(shipped\) against 10/);
    expect(text).toMatch(/per round 1\.33x, 1\.33x, 1\.33x/);
  });

  it('fits peak memory to the process limit and the relay connections, from the points where every smtpd ran', () => {
    const fit = memoryFit(sweep(3, (c) => (c === 'prod-pl100' ? { peak: { anonMiB: 1, workingSetMiB: 200, pssMiB: 1, processes: 120, pssByCommand: { smtpd: { processes: 80, pssMiB: 100 } } } } : {})));
    expect(fit.perRelay).toBeCloseTo(2);
    expect(fit.perProcess).toBeCloseTo(1.5);
    expect(fit.intercept).toBeCloseTo(40);
    expect(fit.points.find((p) => p.processLimit === 100)).toMatchObject({ full: false, smtpd: 80 });
  });

  it('derives the HPA target from the highest open-loop rate that kept p99 under 1 s, with burst headroom', () => {
    const open = (share: number, p99: number, cpuMs: number) =>
      level({ config: 'prod', sessions: 200, kind: 'open', offeredShare: share, offeredPerSecond: 50 * share, rate: 50 * share, p99, load: { cpuMs, wallMs: 10_000, periods: 100, throttledPeriods: 10 } });
    const pod = podResult([open(0.5, 200, 1000), open(0.85, 600, 1500), open(1, 3000, 2000)]);
    // 0.85: 150m = 150 % of the 100m request; / 1.5 = 100 %.
    expect(recommendHpaTarget(pod)?.value).toBe(100);
  });
});

describe('the report', () => {
  const pod = podResult([
    level({ config: 'prod', sessions: 50, rate: 66 }),
    level({ config: 'stock-image', sessions: 50, rate: 40 }),
    level({ config: 'prod', sessions: 200, rate: 60, lost: 0 }),
  ]);

  it('marks the goals met or missed from the figures', () => {
    const rows = podGoalRows(pod);
    expect(rows[0]![0]).toMatch(/prod against the stock image/);
    expect(rows[0]![2]).toMatch(/^1\.65x/);
    expect(rows[0]![4]).toBe('**met**');
    expect(rows[1]![4]).toBe('**met**'); // 66/s, p99 300 ms
    expect(podGoalRows(podResult([level({ config: 'prod', sessions: 50, rate: 59 })]))[0]![4]).toBe('**missed**');
  });

  it('an OOM kill or a lost message at 200 sessions misses the goal', () => {
    const bad = podResult([level({ config: 'prod', sessions: 200, lost: 2 })]);
    expect(podGoalRows(bad).find((r) => /OOM/.test(r[0]!))![4]).toBe('**missed**');
  });

  it('quotes the HPA target, request and rate limits from the prod settings, not constants', () => {
    const other = podResult(pod.levels, { prod: { ...pod.prod, autoscaling: { ...pod.prod.autoscaling, cpuTargetPercent: 85 }, rateLimits: { connectionsPerMinute: 0, messagesPerMinute: 123, recipientsPerMinute: 456 } } });
    const text = podSection(other).join('\n');
    expect(text).toMatch(/target 85 % of the 100m request/);
    expect(text).toMatch(/123 messages and 456 recipients per minute/);
    expect(text).not.toMatch(/NaN/);
  });

  it('splits the CPU by process per message', () => {
    const shares = cpuByCommand(pod.levels.filter((l) => l.config === 'prod' && l.sessions === 50));
    expect(shares[0]).toMatchObject({ command: 'smtp', msPerMessage: 1.5 });
  });
});
