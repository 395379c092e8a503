/**
 * promtool unit tests of the SLO rules: synthetic series that model what the issue asks the
 * burn-rate alerts to get right, run against the GENERATED rules of an environment.
 *
 * Series names are written out literally (as the blackbox exporter and the postfix exporter expose
 * them), never read from src/monitoring: a renamed metric in the rules must fail these tests.
 * The probe runs every 30 s (the input interval of probe series); rules are evaluated every 1 m.
 *
 * Each scenario is one promtool test group; a check is an expression whose result at `at` must be
 * exactly `samples` (empty = no result). `firing`/`silent`/`neverFired` build the usual checks on
 * the ALERTS series that promtool keeps for every evaluation.
 */
import type { EnvironmentConfig } from '../../../src/config/schema';

export interface Check {
  readonly expr: string;
  /** Seconds from the start. */
  readonly at: number;
  readonly samples: ReadonlyArray<{ labels: string; value: number }>;
  /** Why it must hold (shown on failure). */
  readonly why: string;
}

export interface SloScenario {
  readonly name: string;
  /** Input series interval. */
  readonly interval: '30s' | '1m' | '5m';
  /**
   * promtool's rule evaluation interval (default 1m). Days-long scenarios of counted SLIs run at
   * 5m: their ratios come from counters, whatever the interval, and promtool's cost grows with
   * the square of the days evaluated.
   */
  readonly evaluationInterval?: '1m' | '5m';
  readonly series: ReadonlyArray<{ series: string; values: string }>;
  readonly checks: readonly Check[];
}

export const MIN = 60;
export const HOUR = 3600;
export const DAY = 86400;
const JOB_PROBE = 'postfix-relay-probe';
const JOB_METRICS = 'postfix-relay-metrics';
const SHOWQ = '/var/spool/postfix/public/showq';
const POD = 'postfix-relay-0';

export function seriesName(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}

/** `count` samples of `value` in promtool's notation ("_" = no sample). */
function run(value: number | '_', count: number): string {
  if (count <= 0) return '';
  if (value === '_') return `_x${count}`.replace(/_x1$/, '_');
  return count === 1 ? `${value}` : `${value}x${count - 1}`;
}

/** A gauge from runs of [value, count]. */
export function gauge(runs: ReadonlyArray<readonly [number | '_', number]>): string {
  return runs
    .map(([v, n]) => run(v, n))
    .filter(Boolean)
    .join(' ');
}

/** A counter from runs of [increment per sample, count of samples]; the first sample is 0. */
export function counter(runs: ReadonlyArray<readonly [number, number]>): string {
  const parts = ['0'];
  let value = 0;
  for (const [inc, n] of runs) {
    if (n <= 0) continue;
    parts.push(n === 1 ? `${value + inc}` : `${value + inc}+${inc}x${n - 1}`);
    value += inc * n;
  }
  return parts.join(' ');
}

/** `n` probe results at 0.05%-style rates: one failure after every `every - 1` successes. */
export function sparseFailures(total: number, every: number): string {
  const runs: Array<[number, number]> = [];
  let left = total;
  while (left > 0) {
    const ok = Math.min(every - 1, left);
    runs.push([1, ok]);
    left -= ok;
    if (left > 0) {
      runs.push([0, 1]);
      left -= 1;
    }
  }
  return gauge(runs);
}

const alertsOf = (alert: string) => `ALERTS{alertname=${JSON.stringify(alert)}}`;

export function firing(alert: string, at: number, why: string): Check {
  return { expr: `count(ALERTS{alertname=${JSON.stringify(alert)}, alertstate="firing"})`, at, samples: [{ labels: '{}', value: 1 }], why };
}

export function silent(alert: string, at: number, why: string): Check {
  return { expr: alertsOf(alert), at, samples: [], why };
}

/** Not firing (it may be pending: an alert with a `for:`). */
export function notFiring(alert: string, at: number, why: string): Check {
  return { expr: `count(ALERTS{alertname=${JSON.stringify(alert)}, alertstate="firing"})`, at, samples: [], why };
}

/** Neither pending nor firing at any evaluation in the `span` seconds before `at`. */
export function neverFired(alerts: readonly string[], at: number, span: number, why: string): Check {
  const names = alerts.map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return { expr: `max_over_time(ALERTS{alertname=~${JSON.stringify(names)}}[${span}s])`, at, samples: [], why };
}

/** Never firing (pending allowed: an alert with a `for:` may be pending) in the `span` seconds before `at`. */
export function neverFiring(alerts: readonly string[], at: number, span: number, why: string): Check {
  const names = alerts.map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return { expr: `max_over_time(ALERTS{alertname=~${JSON.stringify(names)}, alertstate="firing"}[${span}s])`, at, samples: [], why };
}

const PAGES = (sli: string) => [`PostfixRelay${sli}FastBurn`, `PostfixRelay${sli}SlowBurn`];
const TICKET = (sli: string) => `PostfixRelay${sli}BudgetAtRisk`;

/** Scenarios of the availability SLO measured by the probe (probe.enabled, 30 s interval). */
export function availabilityProbeScenarios(env: EnvironmentConfig): SloScenario[] {
  const ns = env.namespace;
  const probe = seriesName('probe_success', { namespace: ns, job: JOB_PROBE, instance: `postfix-relay.${ns}.svc.cluster.local:25` });
  const perMin = 2;
  const exporterUp = (minutes: number) => [
    { series: seriesName('up', { namespace: ns, job: JOB_METRICS, pod: POD }), values: gauge([[1, minutes * perMin]]) },
    { series: seriesName('postfix_up', { namespace: ns, job: JOB_METRICS, pod: POD, path: SHOWQ }), values: gauge([[1, minutes * perMin]]) },
  ];
  const out: SloScenario[] = [];

  {
    // 0.05% of probes fail (one in 2,000: one every 16 h 40 m): half the budget, for two days.
    // The errors are even from the start, so every window holds 0.05%, as after months.
    const minutes = 2 * 24 * 60;
    out.push({
      name: 'availability: 0.05% of probes fail for two days',
      interval: '30s',
      series: [{ series: probe, values: sparseFailures(minutes * perMin, 2000) }, ...exporterUp(minutes)],
      checks: [
        neverFired([...PAGES('Availability'), TICKET('Availability'), 'PostfixRelayDown'], minutes * MIN - MIN, minutes * MIN - MIN, 'a 0.5x burn pages nobody and opens no ticket'),
      ],
    });
  }

  {
    // Rules installed before the Probe is first scraped (a fresh install): nothing pages.
    const before = 4;
    const minutes = 2 * 60;
    out.push({
      name: 'availability: the first probe arrives minutes after the rules',
      interval: '30s',
      series: [{ series: probe, values: gauge([['_', before * perMin], [1, (minutes - before) * perMin]]) }, ...exporterUp(minutes)],
      checks: [
        neverFired(PAGES('Availability'), (minutes - 1) * MIN, (minutes - 1) * MIN, 'a probe that is not there yet burns no budget'),
        // PostfixRelayDown is pending while absent(probe_success) holds, and never reaches its for:.
        neverFiring(['PostfixRelayDown'], (minutes - 1) * MIN, (minutes - 1) * MIN, 'and pages nobody'),
      ],
    });
  }

  {
    // Two hours of health, then the relay stops answering.
    const before = 2 * 60;
    const after = 20;
    out.push({
      name: 'availability: a complete outage',
      interval: '30s',
      series: [{ series: probe, values: gauge([[1, before * perMin], [0, after * perMin]]) }, ...exporterUp(before + after)],
      checks: [
        neverFired(PAGES('Availability'), (before - 1) * MIN, (before - 1) * MIN, 'nothing pages while the relay is healthy'),
        firing('PostfixRelayAvailabilityFastBurn', (before + 2) * MIN, 'a complete outage pages within 2 minutes'),
        // PostfixRelayDown says the same after its `for:` (alerts.for), from the probe alone: the exporter is up.
        notFiring('PostfixRelayDown', (before + 2) * MIN, 'PostfixRelayDown waits for its for:'),
        firing('PostfixRelayDown', (before + 1 + durationMinutes(env.alerts.for) + 1) * MIN, 'PostfixRelayDown fires on what clients see'),
      ],
    });
  }

  {
    // The probe's series disappears (the blackbox exporter is gone, the Probe was deleted, ...).
    // A gap shorter than 5 minutes records nothing; then every minute without a result is bad.
    const before = 2 * 60;
    const after = 20;
    out.push({
      name: 'availability: the probe series disappears',
      interval: '30s',
      series: [{ series: probe, values: gauge([[1, before * perMin], ['_', after * perMin]]) }, ...exporterUp(before + after)],
      checks: [
        { expr: 'postfix_relay_slo:sli_good:sample', at: (before + 3) * MIN, samples: [], why: 'a gap of a few minutes records nothing (a Prometheus restart, the first scrape)' },
        notFiring('PostfixRelayAvailabilityFastBurn', (before + 4) * MIN, 'a short gap does not page'),
        firing('PostfixRelayAvailabilityFastBurn', (before + 6) * MIN, 'no probe result for 5 minutes is an error, not silence'),
        // absent() sees it once the last sample leaves the 5 m lookback; then alerts.for.
        firing('PostfixRelayDown', (before + 5 + durationMinutes(env.alerts.for) + 1) * MIN, 'PostfixRelayDown fires without a probe result'),
      ],
    });
  }

  {
    // A healthy day, then 0.2% of probes fail (one in 500: one every 250 minutes), a 2x burn.
    // The 3-day window (one day of health, then errors) crosses 1x after 24 h of errors.
    const healthy = 24 * 60;
    const bad = 36 * 60;
    out.push({
      name: 'availability: 0.2% of probes fail, sustained',
      interval: '30s',
      series: [{ series: probe, values: `${gauge([[1, healthy * perMin]])} ${sparseFailures(bad * perMin, 500)}` }, ...exporterUp(healthy + bad)],
      checks: [
        silent(TICKET('Availability'), (healthy + 20 * 60) * MIN, 'the 3-day window is still below 1x after 20 h of errors'),
        // 8 failed probes (each half an evaluation's sample) in 60 h of samples: 0.111%.
        firing(TICKET('Availability'), (healthy + 36 * 60) * MIN, 'a 2x burn opens a ticket within two days'),
        neverFired(PAGES('Availability'), (healthy + bad) * MIN - MIN, (healthy + bad) * MIN - MIN, 'a 2x burn pages nobody'),
      ],
    });
  }
  return out;
}

/** Scenarios of the availability SLO from target health (no probe). */
export function availabilityTargetScenarios(env: EnvironmentConfig): SloScenario[] {
  const ns = env.namespace;
  const before = 2 * 60;
  const after = 20;
  const pod = (name: string) => ({ namespace: ns, job: JOB_METRICS, pod: name, instance: `10.0.0.${name.length}:8080` });
  return [
    {
      name: 'availability without a probe: every pod down',
      interval: '1m',
      series: [
        { series: seriesName('up', pod('postfix-relay-0')), values: gauge([[1, before], [0, after]]) },
        { series: seriesName('postfix_up', { ...pod('postfix-relay-0'), path: SHOWQ }), values: gauge([[1, before], ['_', after]]) },
        // A second pod whose Postfix dies while its exporter stays up.
        { series: seriesName('up', pod('postfix-relay-10')), values: gauge([[1, before + after]]) },
        { series: seriesName('postfix_up', { ...pod('postfix-relay-10'), path: SHOWQ }), values: gauge([[1, before], [0, after]]) },
        // Hsn723's log-file series stays 0 on an idle relay: it must not count.
        { series: seriesName('postfix_up', { ...pod('postfix-relay-0'), path: '/var/log/postfix/postfix.log' }), values: gauge([[0, before + after]]) },
        { series: seriesName('postfix_up', { ...pod('postfix-relay-10'), path: '/var/log/postfix/postfix.log' }), values: gauge([[0, before + after]]) },
      ],
      checks: [
        neverFired(PAGES('Availability'), (before - 1) * MIN, (before - 1) * MIN, 'healthy targets page nobody'),
        firing('PostfixRelayAvailabilityFastBurn', (before + 2) * MIN, 'an outage pages within 2 minutes'),
      ],
    },
    {
      name: 'availability without a probe: one of two pods down',
      interval: '1m',
      series: [
        { series: seriesName('up', pod('postfix-relay-0')), values: gauge([[1, before], [0, after]]) },
        { series: seriesName('up', pod('postfix-relay-10')), values: gauge([[1, before + after]]) },
        { series: seriesName('postfix_up', { ...pod('postfix-relay-10'), path: SHOWQ }), values: gauge([[1, before + after]]) },
      ],
      checks: [neverFired(PAGES('Availability'), (before + after - 1) * MIN, (before + after - 1) * MIN, 'the Service still answers through the other pod')],
    },
  ];
}

/** Scenarios of the delivery SLO (the exporter's counters, one sample a minute). */
export function deliveryScenarios(env: EnvironmentConfig): SloScenario[] {
  const ns = env.namespace;
  const labels = { namespace: ns, job: JOB_METRICS, pod: POD, instance: '10.0.0.1:8080' };
  const sent = (runs: ReadonlyArray<readonly [number, number]>) => ({
    series: seriesName('postfix_smtp_messages_processed_total', { ...labels, status: 'sent' }),
    values: counter(runs),
  });
  const bounced = (dsn: string, runs: ReadonlyArray<readonly [number, number]>) => ({
    series: seriesName('postfix_smtp_bounced_messages_by_dsn_total', { ...labels, dsn }),
    values: counter(runs),
  });
  const expired = (runs: ReadonlyArray<readonly [number, number]>) => ({ series: seriesName('postfix_qmgr_messages_expired_total', labels), values: counter(runs) });
  const out: SloScenario[] = [];

  {
    // 2,000 messages a minute, one bounced by the relay (5.7.0: relay denied), for four days;
    // a sample every 5 minutes.
    const steps = (4 * 24 * 60) / 5;
    out.push({
      name: 'delivery: 0.05% of messages bounce for four days',
      interval: '5m',
      evaluationInterval: '5m',
      series: [sent([[1999 * 5, steps]]), bounced('5.7.0', [[5, steps]]), expired([[0, steps]])],
      checks: [neverFired([...PAGES('Delivery'), TICKET('Delivery')], steps * 5 * MIN, steps * 5 * MIN, 'a 0.5x burn pages nobody and opens no ticket')],
    });
  }

  {
    // Six hours at 100 messages a minute without errors, then 2% bounce (a 20x burn) for 60
    // minutes, then recovery.
    const before = 6 * 60;
    const bad = 60;
    const afterwards = 30;
    out.push({
      name: 'delivery: 2% of messages bounce for an hour, then none',
      interval: '1m',
      series: [
        sent([[100, before], [98, bad], [100, afterwards]]),
        bounced('5.7.0', [[0, before], [2, bad], [0, afterwards]]),
        // Bounces that are the sender's doing (unknown recipient) never count, however many.
        bounced('5.1.1', [[0, before], [50, bad], [0, afterwards]]),
        expired([[0, before + bad + afterwards]]),
      ],
      checks: [
        silent('PostfixRelayDeliveryFastBurn', (before + 42) * MIN, 'the 1-hour window is below 14.4x before 43 minutes'),
        firing('PostfixRelayDeliveryFastBurn', (before + 45) * MIN, 'a 20x burn pages through the fast-burn alert within 45 minutes'),
        firing('PostfixRelayDeliveryFastBurn', (before + bad) * MIN, 'it pages while the errors last'),
        // The 5-minute window drops below 14.4x 2 minutes after the last bounce; the 6-hour one never reached 6x.
        neverFired(PAGES('Delivery'), (before + bad + afterwards) * MIN, (afterwards - 3) * MIN, 'it stops paging within the 5-minute confirmation window after recovery'),
      ],
    });
  }

  {
    // Three healthy days at 1,000 messages a minute, then 0.2% lost (a 2x burn): 1 bounced and
    // 1 expired a minute. The 3-day window crosses 1x after 36 h. A sample every 5 minutes.
    const healthy = (3 * 24 * 60) / 5;
    const bad = (48 * 60) / 5;
    out.push({
      name: 'delivery: 0.2% of messages bounce or expire, sustained',
      interval: '5m',
      evaluationInterval: '5m',
      series: [
        sent([[5000, healthy], [4990, bad]]),
        bounced('4.4.1', [[0, healthy], [5, bad]]),
        expired([[0, healthy], [5, bad]]),
      ],
      checks: [
        silent(TICKET('Delivery'), (healthy * 5 + 30 * 60) * MIN, 'the 3-day window is still below 1x after 30 h'),
        firing(TICKET('Delivery'), (healthy * 5 + 40 * 60) * MIN, 'a 2x burn opens a ticket within two days'),
        neverFired(PAGES('Delivery'), (healthy + bad) * 5 * MIN, (healthy + bad) * 5 * MIN, 'a 2x burn pages nobody'),
      ],
    });
  }

  {
    const before = 2 * 60;
    out.push({
      name: 'delivery: every message bounces',
      interval: '1m',
      series: [sent([[100, before], [0, 10]]), bounced('5.7.1', [[0, before], [100, 10]]), expired([[0, before + 10]])],
      checks: [firing('PostfixRelayDeliveryFastBurn', (before + 2) * MIN, 'a complete delivery outage pages within 2 minutes')],
    });
  }

  {
    // No mail at all for a day: nothing to measure, nothing to page about.
    const steps = (24 * 60) / 5;
    out.push({
      name: 'delivery: no traffic',
      interval: '5m',
      evaluationInterval: '5m',
      series: [sent([[0, steps]]), expired([[0, steps]])],
      checks: [
        neverFired([...PAGES('Delivery'), TICKET('Delivery')], steps * 5 * MIN, steps * 5 * MIN, 'no traffic is no error'),
        { expr: 'postfix_relay_slo:sli_error:ratio_rate1h{slo="delivery"}', at: steps * 5 * MIN, samples: [], why: 'no ratio is recorded without messages' },
      ],
    });
  }
  return out;
}

/** Scenarios of the latency SLO (slo.latency.enabled; the showq age histogram, one sample a minute). */
export function latencyScenarios(env: EnvironmentConfig): SloScenario[] {
  const ns = env.namespace;
  const labels = { namespace: ns, job: JOB_METRICS, pod: POD, instance: '10.0.0.1:8080', queue: 'deferred' };
  const other = { ...labels, pod: 'postfix-relay-1', instance: '10.0.0.2:8080' };
  const threshold = env.slo.latency.thresholdSeconds;
  const before = 2 * 60;
  const stuck = 90;
  const after = 40;
  const total = before + stuck + after;
  return [
    {
      name: `latency: a message older than ${threshold} s for 90 minutes`,
      interval: '1m',
      series: [
        // Two young messages in one pod all along.
        { series: seriesName('postfix_showq_message_age_seconds_count', labels), values: gauge([[2, total]]) },
        { series: seriesName('postfix_showq_message_age_seconds_bucket', { ...labels, le: String(threshold) }), values: gauge([[2, total]]) },
        // In the other pod one message, older than the threshold for 90 minutes. This pod's le is
        // spelled as Prometheus 3 stores it ("1000.0"): a rule matching only "1000" would see it
        // as old all along.
        { series: seriesName('postfix_showq_message_age_seconds_count', other), values: gauge([[1, total]]) },
        { series: seriesName('postfix_showq_message_age_seconds_bucket', { ...other, le: `${threshold}.0` }), values: gauge([[1, before], [0, stuck], [1, after]]) },
      ],
      checks: [
        neverFired(PAGES('Latency'), (before - 1) * MIN, (before - 1) * MIN, 'young mail pages nobody'),
        // 99%: a 14.4x burn over the hour is 8.6 bad minutes in it.
        notFiring('PostfixRelayLatencyFastBurn', (before + 6) * MIN, 'seven stale minutes in the hour are below 14.4x'),
        firing('PostfixRelayLatencyFastBurn', (before + 10) * MIN, 'mail stuck past the threshold pages within 10 minutes'),
        neverFired(['PostfixRelayLatencyFastBurn'], (before + stuck + after) * MIN, (after - 5) * MIN, 'the fast page stops within 5 minutes once the old message has left'),
        neverFired(['PostfixRelayLatencySlowBurn'], (before + stuck + after) * MIN, (after - 31) * MIN, 'the slow page stops within its 30-minute confirmation window'),
      ],
    },
  ];
}

function durationMinutes(text: string): number {
  const m = /^(\d+)m$/.exec(text);
  if (!m) throw new Error(`these scenarios expect alerts.for in whole minutes (got ${text})`);
  return Number(m[1]);
}

/** The promtool test document for scenarios against a rules file. */
export function sloTestDocument(scenarios: readonly SloScenario[], rulesFile: string): Record<string, unknown> {
  const intervals = new Set(scenarios.map((s) => s.evaluationInterval ?? '1m'));
  if (intervals.size > 1) throw new Error('promtool evaluates a test file at one interval: write scenarios with different evaluation intervals to separate files');
  return {
    rule_files: [rulesFile],
    evaluation_interval: scenarios[0]?.evaluationInterval ?? '1m',
    tests: scenarios.map((s) => ({
      name: s.name,
      interval: s.interval,
      input_series: s.series,
      promql_expr_test: s.checks.map((c) => ({ expr: c.expr, eval_time: `${c.at}s`, exp_samples: c.samples })),
    })),
  };
}
