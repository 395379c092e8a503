/**
 * promtool unit tests for every alert, generated from an environment's thresholds.
 *
 * Metric names are written out literally here, as the exporters expose them (see
 * test/fixtures/hsn723-metrics.txt and the live exporter test), and deliberately NOT read from
 * src/monitoring/metrics.ts: a renamed metric in the rules must make these tests fail.
 *
 * Each scenario is one promtool test group. A check at time `at` says which alerts fire and,
 * optionally, which are pending: "pending but not firing" while the condition already holds is
 * what proves `for:` is respected; "neither" at the threshold proves the comparison is strict.
 */
import type { EnvironmentConfig } from '../../../src/config/schema';
import { durationSeconds, formatDuration } from '../../../src/monitoring/promql';
import { queueAgeBucket } from '../../../src/monitoring/rules';

export interface Expected {
  /** Labels of the alert's series (the rule's own labels are added by the test writer). */
  readonly labels: Record<string, string>;
  /** $value at that time, for the annotations. */
  readonly value?: number;
}

export interface Check {
  readonly at: number;
  readonly firing: readonly Expected[];
  /** When set: exactly these are pending (condition true, `for:` not yet elapsed). */
  readonly pending?: readonly Expected[];
}

export interface Scenario {
  readonly alert: string;
  readonly name: string;
  readonly series: ReadonlyArray<{ series: string; values: string }>;
  readonly checks: readonly Check[];
}

const MIN = 60;
const SHOWQ = '/var/spool/postfix/public/showq';
const JOB = 'postfix-relay-metrics';
const POD = 'postfix-relay-7d9f8c6b5d-x2x9q';
const POD2 = 'postfix-relay-1';

/** Builds `name{labels}` for input series. */
export function seriesName(name: string, labels: Record<string, string>): string {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return `${name}{${body}}`;
}

/** One sample per minute from t=0; `undefined` writes `_` (no sample). */
function samples(values: ReadonlyArray<number | undefined>): string {
  return values.map((v) => (v === undefined ? '_' : String(v))).join(' ');
}

function repeat(value: number | undefined, minutes: number): Array<number | undefined> {
  return Array.from({ length: minutes }, () => value);
}

/** Cumulative counter from per-minute increments; the first sample is `start`. */
function counter(increments: readonly number[], start = 0): number[] {
  const out = [start];
  for (const inc of increments) out.push((out[out.length - 1] as number) + inc);
  return out;
}

/** Increments as multiples of a base with up to 6 decimals: exact in the input text. */
function exact(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

export function buildScenarios(env: EnvironmentConfig): Scenario[] {
  const ns = env.namespace;
  const forS = durationSeconds(env.alerts.for);
  const forMin = Math.ceil(forS / MIN);
  if (forS < MIN) throw new Error(`${env.name}: these scenarios need alerts.for of at least 1m (got ${env.alerts.for})`);
  const exporter = (pod = POD) => ({ namespace: ns, job: JOB, pod, instance: `10.1.2.3:${env.metrics.port}`, service: JOB, endpoint: 'metrics' });
  const container = (pod = POD, name = 'postfix') => ({ namespace: ns, pod, container: name, job: 'kube-state-metrics', instance: '10.9.9.9:8080' });
  const cadvisor = (pod = POD, name = 'postfix') => ({ namespace: ns, pod, container: name, job: 'kubelet', metrics_path: '/metrics/cadvisor', id: `/kubepods/${pod}/${name}` });
  const scenarios: Scenario[] = [];

  // --- PostfixRelayDown -------------------------------------------------------------------
  {
    const total = forMin + 6;
    scenarios.push({
      alert: 'PostfixRelayDown',
      name: 'no metrics target at all',
      series: [{ series: seriesName('up', { namespace: 'other-namespace', job: JOB, pod: POD }), values: samples(repeat(1, total)) }],
      checks: [
        { at: (forMin - 1) * MIN, firing: [], pending: [{ labels: { namespace: ns, job: JOB } }] },
        { at: forMin * MIN, firing: [{ labels: { namespace: ns, job: JOB } }] },
      ],
    });
    const downAt = 3;
    scenarios.push({
      alert: 'PostfixRelayDown',
      name: 'target scrape fails (up == 0)',
      series: [{ series: seriesName('up', exporter()), values: samples([...repeat(1, downAt), ...repeat(0, forMin + 3)]) }],
      checks: [
        { at: (downAt - 1) * MIN, firing: [], pending: [] },
        { at: (downAt + forMin - 1) * MIN, firing: [], pending: [{ labels: exporter() }] },
        { at: (downAt + forMin) * MIN, firing: [{ labels: exporter() }] },
      ],
    });
    const showq = { ...exporter(), path: SHOWQ };
    scenarios.push({
      alert: 'PostfixRelayDown',
      name: 'exporter cannot read showq (postfix_up{path=showq} == 0); the idle log-file series is ignored',
      series: [
        { series: seriesName('up', exporter()), values: samples(repeat(1, downAt + forMin + 3)) },
        { series: seriesName('postfix_up', showq), values: samples([...repeat(1, downAt), ...repeat(0, forMin + 3)]) },
        // Hsn723 keeps this at 0 until it reads a first new log line: an idle relay is not down.
        { series: seriesName('postfix_up', { ...exporter(), path: '/var/log/postfix/postfix.log' }), values: samples(repeat(0, downAt + forMin + 3)) },
      ],
      checks: [
        { at: (downAt - 1) * MIN, firing: [], pending: [] },
        { at: (downAt + forMin - 1) * MIN, firing: [], pending: [{ labels: showq }] },
        { at: (downAt + forMin) * MIN, firing: [{ labels: showq }] },
      ],
    });
  }

  // --- PostfixRelayHighQueue (gauge: below, at, above) ------------------------------------
  {
    const q = env.alerts.queueSize;
    const below = 5;
    const at = forMin + 3;
    const above = forMin + 3;
    const byQueue = (queue: string, values: number[]) => ({
      series: seriesName('postfix_showq_message_size_bytes_count', { ...exporter(), queue }),
      values: samples(values),
    });
    // The queue length is spread over two queues: the rule must add them up.
    const deferred = [...repeat(q - 2, below), ...repeat(q - 1, at), ...repeat(q, above)] as number[];
    const active = repeat(1, below + at + above) as number[];
    const t1 = below + at;
    const labels = { namespace: ns, pod: POD };
    scenarios.push({
      alert: 'PostfixRelayHighQueue',
      name: `queue ${q - 1} (below), ${q} (at) then ${q + 1} (above) messages`,
      series: [
        byQueue('deferred', deferred),
        byQueue('active', active),
        // Another environment's relay with a huge queue must not count.
        { series: seriesName('postfix_showq_message_size_bytes_count', { ...exporter(), namespace: 'other-namespace', queue: 'deferred' }), values: samples(repeat(q * 10, below + at + above)) },
      ],
      checks: [
        { at: (below - 1) * MIN, firing: [], pending: [] },
        { at: (t1 - 1) * MIN, firing: [], pending: [] },
        { at: (t1 + forMin - 1) * MIN, firing: [], pending: [{ labels, value: q + 1 }] },
        { at: (t1 + forMin) * MIN, firing: [{ labels, value: q + 1 }] },
      ],
    });
  }

  // --- PostfixRelayHighBounceRate (counter rate: below, at, above) -----------------------
  {
    const r = env.alerts.bounceRatePerSecond;
    const perMin = exact(r * 60);
    const below = 8;
    const at = forMin + 8;
    const above = forMin + 8;
    const incs = [...repeat(exact(perMin / 2), below), ...repeat(perMin, at), ...repeat(exact(perMin * 2), above)] as number[];
    const values = counter(incs);
    const t1 = below + at; // last sample of the "at" phase; the first "above" increment lands at t1 + 1
    const rateAt = (minute: number) => ((values[minute] as number) - (values[minute - 5] as number)) / 300;
    const labels = { namespace: ns };
    const fireAt = t1 + 1 + forMin;
    scenarios.push({
      alert: 'PostfixRelayHighBounceRate',
      name: `bounce rate ${r / 2}/s (below), ${r}/s (at) then ${2 * r}/s (above)`,
      series: [
        { series: seriesName('postfix_smtp_messages_processed_total', { ...exporter(), status: 'bounced' }), values: samples(values) },
        // Delivered mail is not bounced mail.
        { series: seriesName('postfix_smtp_messages_processed_total', { ...exporter(), status: 'sent' }), values: samples(counter(repeat(perMin * 100, below + at + above) as number[])) },
      ],
      checks: [
        { at: (below - 1) * MIN, firing: [], pending: [] },
        { at: t1 * MIN, firing: [], pending: [] },
        { at: (fireAt - 1) * MIN, firing: [], pending: [{ labels, value: rateAt(fireAt - 1) }] },
        { at: fireAt * MIN, firing: [{ labels, value: rateAt(fireAt) }] },
      ],
    });
  }

  // --- PostfixRelayQueueStale (age histogram) ----------------------------------------------
  {
    const { bucket, forSeconds } = queueAgeBucket(env.alerts.oldestMessageAgeSeconds);
    const staleFor = Math.ceil(forSeconds / MIN);
    const labels = { namespace: ns, pod: POD };
    for (const le of [String(bucket), `${bucket}.0`]) {
      // Phase 1: one message older than the bucket for less than `for:`, then it is delivered.
      // Phase 2: it stays.
      const short = Math.max(staleFor - 1, 1);
      const gap = 3;
      const stay = staleFor + 2;
      const total = 2 + short + gap + stay;
      const old = [...repeat(0, 2), ...repeat(1, short), ...repeat(0, gap), ...repeat(1, stay)] as number[];
      const young = repeat(4, total) as number[];
      const start2 = 2 + short + gap;
      scenarios.push({
        alert: 'PostfixRelayQueueStale',
        name: `a message older than ${bucket}s for ${formatDuration(short * MIN)} (silent) then ${formatDuration(staleFor * MIN)} (fires), le="${le}"`,
        series: [
          { series: seriesName('postfix_showq_message_age_seconds_count', { ...exporter(), queue: 'deferred' }), values: samples(young.map((y, i) => y + (old[i] as number))) },
          { series: seriesName('postfix_showq_message_age_seconds_bucket', { ...exporter(), queue: 'deferred', le }), values: samples(young) },
        ],
        checks: [
          { at: MIN, firing: [], pending: [] },
          { at: (2 + short - 1) * MIN, firing: [], pending: [{ labels, value: 1 }] },
          { at: (2 + short + 1) * MIN, firing: [], pending: [] },
          { at: (start2 + staleFor - 1) * MIN, firing: [], pending: [{ labels, value: 1 }] },
          { at: (start2 + staleFor) * MIN, firing: [{ labels, value: 1 }] },
        ],
      });
    }
  }

  // --- Event alerts on DSN counters ---------------------------------------------------------
  const eventFor = 1;
  const dsnEvents = (alert: string, fire: Array<{ metric: string; dsn: string }>, ignore: Array<{ metric: string; dsn: string }>) => {
    const labels = { namespace: ns };
    const up = { series: seriesName('up', exporter()), values: samples(repeat(1, 30)) };
    for (const { metric, dsn } of fire) {
      // The very first event: the labelled series appears with value 1.
      scenarios.push({
        alert,
        name: `first ${dsn} event (${metric} appears at 1)`,
        series: [up, { series: seriesName(metric, { ...exporter(), dsn }), values: samples([...repeat(undefined, 12), ...repeat(1, 14)]) }],
        checks: [
          { at: 11 * MIN, firing: [], pending: [] },
          { at: 12 * MIN, firing: [], pending: [{ labels }] },
          { at: (12 + eventFor) * MIN, firing: [{ labels }] },
        ],
      });
      // A counter that already had events long ago and counts one more.
      scenarios.push({
        alert,
        name: `${dsn} counter goes from 2 to 3 (${metric})`,
        series: [up, { series: seriesName(metric, { ...exporter(), dsn }), values: samples([...repeat(2, 15), ...repeat(3, 14)]) }],
        checks: [
          { at: 14 * MIN, firing: [], pending: [] },
          { at: 15 * MIN, firing: [], pending: [{ labels }] },
          { at: (15 + eventFor) * MIN, firing: [{ labels }] },
        ],
      });
    }
    const first = fire[0] as { metric: string; dsn: string };
    scenarios.push({
      alert,
      name: `silent: old ${first.dsn} events only, other DSNs, another namespace, and a restarted Prometheus`,
      series: [
        up,
        // Old events (the counter does not move) are not new events.
        { series: seriesName(first.metric, { ...exporter(), dsn: first.dsn }), values: samples(repeat(7, 30)) },
        // A Prometheus with an empty TSDB sees this pod's counter for the first time.
        { series: seriesName(first.metric, { ...exporter(POD2), dsn: first.dsn }), values: samples([...repeat(undefined, 5), ...repeat(4, 25)]) },
        { series: seriesName('up', exporter(POD2)), values: samples([...repeat(undefined, 5), ...repeat(1, 25)]) },
        ...ignore.map(({ metric, dsn }) => ({ series: seriesName(metric, { ...exporter(), dsn }), values: samples(counter(repeat(3, 29) as number[])) })),
        { series: seriesName(first.metric, { ...exporter(), namespace: 'other-namespace', dsn: first.dsn }), values: samples(counter(repeat(3, 29) as number[])) },
      ],
      checks: [
        { at: 6 * MIN, firing: [], pending: [] },
        { at: 14 * MIN, firing: [], pending: [] },
        { at: 25 * MIN, firing: [], pending: [] },
      ],
    });
  };
  const deferred = 'postfix_smtp_deferred_messages_by_dsn_total';
  const bounced = 'postfix_smtp_bounced_messages_by_dsn_total';
  dsnEvents('PostfixRelayGmailRateLimited', [{ metric: deferred, dsn: '4.2.1' }], [
    { metric: deferred, dsn: '4.4.1' },
    { metric: deferred, dsn: '4.2.2' },
    { metric: bounced, dsn: '5.2.1' },
  ]);
  dsnEvents(
    'PostfixRelayGmailDailyLimit',
    [
      { metric: bounced, dsn: '5.4.5' },
      { metric: deferred, dsn: '4.4.5' },
    ],
    [
      { metric: deferred, dsn: '4.2.1' },
      { metric: bounced, dsn: '5.4.4' },
    ],
  );
  dsnEvents(
    'PostfixRelayDenied',
    [
      { metric: bounced, dsn: '5.7.0' },
      { metric: bounced, dsn: '5.7.1' },
      { metric: deferred, dsn: '4.7.0' },
    ],
    [
      { metric: bounced, dsn: '5.7.4' },
      { metric: deferred, dsn: '4.2.1' },
      { metric: bounced, dsn: '5.1.1' },
    ],
  );
  dsnEvents(
    'PostfixRelayTlsFailure',
    [
      { metric: deferred, dsn: '4.7.5' },
      { metric: deferred, dsn: '4.7.4' },
    ],
    [
      { metric: deferred, dsn: '4.7.0' },
      { metric: deferred, dsn: '4.4.1' },
    ],
  );

  if (env.relay.auth) {
    // 535 5.7.8 soft-bounced by smtp_sasl_auth_soft_bounce is what the relay test logs (dsn=4.7.8).
    dsnEvents(
      'PostfixRelayAuthFailed',
      [
        { metric: deferred, dsn: '4.7.8' },
        { metric: deferred, dsn: '4.7.9' },
        { metric: deferred, dsn: '4.7.14' },
        { metric: bounced, dsn: '5.7.8' },
      ],
      [
        { metric: deferred, dsn: '4.7.0' },
        { metric: deferred, dsn: '4.7.5' },
        { metric: deferred, dsn: '4.7.18' },
        { metric: bounced, dsn: '5.7.1' },
      ],
    );
  }

  // --- Workload alerts ------------------------------------------------------------------------
  {
    const labels = { namespace: ns, pod: POD, container: 'postfix' };
    const restarts = (values: Array<number | undefined>, c = container()) => ({
      series: seriesName('kube_pod_container_status_restarts_total', c),
      values: samples(values),
    });
    scenarios.push({
      alert: 'PostfixRelayPodRestarting',
      name: 'one restart fires; old restarts and other workloads do not',
      series: [
        restarts([...repeat(2, 20), ...repeat(3, 20)]),
        restarts(counter(repeat(1, 39) as number[]), container('other-app-5f6d7c8b9-abcde')),
        restarts(counter(repeat(1, 39) as number[]), { ...container(), namespace: 'other-namespace' }),
      ],
      checks: [
        { at: 19 * MIN, firing: [], pending: [] },
        { at: 20 * MIN, firing: [], pending: [{ labels, value: 1 }] },
        { at: 21 * MIN, firing: [{ labels, value: 1 }] },
      ],
    });
    const reason = (r: string, c = container()) => ({
      series: seriesName('kube_pod_container_status_last_terminated_reason', { ...c, reason: r }),
      values: samples(repeat(1, 40)),
    });
    const exporterContainer = container(POD, 'exporter');
    scenarios.push({
      alert: 'PostfixRelayOOMKilled',
      name: 'a restart after an OOM kill fires; an old OOM kill or a restart for another reason does not',
      series: [
        reason('OOMKilled'),
        restarts([...repeat(5, 20), ...repeat(6, 20)]),
        // The exporter restarted too, but with reason Error.
        reason('Error', exporterContainer),
        restarts([...repeat(0, 20), ...repeat(1, 20)], exporterContainer),
        // An OOM kill long ago: no restart in the window.
        reason('OOMKilled', container(POD2)),
        restarts(repeat(1, 40), container(POD2)),
      ],
      checks: [
        { at: 19 * MIN, firing: [], pending: [] },
        { at: 20 * MIN, firing: [], pending: [{ labels }] },
        { at: 21 * MIN, firing: [{ labels }] },
      ],
    });
  }
  {
    const ratio = env.alerts.memoryLimitRatio;
    const limit = 1e8;
    const atBytes = Math.round(ratio * limit);
    const aboveBytes = atBytes + limit / 100;
    const below = 5;
    const at = forMin + 3;
    const above = forMin + 3;
    const t1 = below + at;
    const labels = { namespace: ns, pod: POD, container: 'postfix' };
    const aboveRatio = aboveBytes / limit;
    scenarios.push({
      alert: 'PostfixRelayMemoryNearLimit',
      name: `working set ${ratio - 0.05}, ${ratio} (at) then ${aboveRatio} of the limit`,
      series: [
        { series: seriesName('container_memory_working_set_bytes', cadvisor()), values: samples([...repeat(atBytes - limit / 20, below), ...repeat(atBytes, at), ...repeat(aboveBytes, above)]) },
        { series: seriesName('kube_pod_container_resource_limits', { ...container(), resource: 'memory', unit: 'byte' }), values: samples(repeat(limit, t1 + above)) },
        { series: seriesName('kube_pod_container_resource_limits', { ...container(), resource: 'cpu', unit: 'core' }), values: samples(repeat(0.2, t1 + above)) },
        // The pod-level cgroup (container="") is the sum of all containers: not a container.
        { series: seriesName('container_memory_working_set_bytes', cadvisor(POD, '')), values: samples(repeat(limit * 2, t1 + above)) },
      ],
      checks: [
        { at: (below - 1) * MIN, firing: [], pending: [] },
        { at: (t1 - 1) * MIN, firing: [], pending: [] },
        { at: (t1 + forMin - 1) * MIN, firing: [], pending: [{ labels, value: aboveRatio }] },
        { at: (t1 + forMin) * MIN, firing: [{ labels, value: aboveRatio }] },
      ],
    });
  }
  {
    const c = env.alerts.cpuThrottleRatio;
    const periods = 600;
    const aboveRatio = Math.min(c * 2, (1 + c) / 2);
    const below = 8;
    const at = forMin + 8;
    const above = aboveRatio > c ? forMin + 8 : 0;
    const t1 = below + at;
    const total = below + at + above;
    const throttled = counter([...repeat(exact((periods * c) / 2), below), ...repeat(exact(periods * c), at), ...repeat(exact(periods * aboveRatio), above)] as number[]);
    const all = counter(repeat(periods, total) as number[]);
    const ratioAt = (m: number) => ((throttled[m] as number) - (throttled[m - 5] as number)) / ((all[m] as number) - (all[m - 5] as number));
    const labels = { namespace: ns, pod: POD, container: 'postfix' };
    const fireAt = t1 + 1 + forMin;
    scenarios.push({
      alert: 'PostfixRelayCpuThrottled',
      name: `throttled ${c / 2}, ${c} (at) then ${aboveRatio} of CFS periods`,
      series: [
        { series: seriesName('container_cpu_cfs_throttled_periods_total', cadvisor()), values: samples(throttled) },
        { series: seriesName('container_cpu_cfs_periods_total', cadvisor()), values: samples(all) },
      ],
      checks: [
        { at: (below - 1) * MIN, firing: [], pending: [] },
        { at: t1 * MIN, firing: [], pending: [] },
        ...(above > 0
          ? [
              { at: (fireAt - 1) * MIN, firing: [], pending: [{ labels, value: ratioAt(fireAt - 1) }] },
              { at: fireAt * MIN, firing: [{ labels, value: ratioAt(fireAt) }] },
            ]
          : []),
      ],
    });
  }
  if (env.autoscaling.enabled) {
    const max = env.autoscaling.maxReplicas;
    const hpa = { namespace: ns, horizontalpodautoscaler: 'postfix-relay', job: 'kube-state-metrics', instance: '10.9.9.9:8080' };
    const hpaFor = 15;
    const below = hpaFor + 5;
    const atMax = hpaFor + 3;
    const labels = { namespace: ns, horizontalpodautoscaler: 'postfix-relay' };
    scenarios.push({
      alert: 'PostfixRelayHpaAtMaximum',
      name: `${max - 1} replicas (below the maximum) then ${max} (at it)`,
      series: [
        { series: seriesName('kube_horizontalpodautoscaler_status_current_replicas', hpa), values: samples([...repeat(max - 1, below), ...repeat(max, atMax)]) },
        { series: seriesName('kube_horizontalpodautoscaler_spec_max_replicas', hpa), values: samples(repeat(max, below + atMax)) },
        // Another HPA in the namespace at its maximum is not ours.
        { series: seriesName('kube_horizontalpodautoscaler_status_current_replicas', { ...hpa, horizontalpodautoscaler: 'other' }), values: samples(repeat(3, below + atMax)) },
        { series: seriesName('kube_horizontalpodautoscaler_spec_max_replicas', { ...hpa, horizontalpodautoscaler: 'other' }), values: samples(repeat(3, below + atMax)) },
      ],
      checks: [
        { at: (below - 1) * MIN, firing: [], pending: [] },
        { at: (below + hpaFor - 1) * MIN, firing: [], pending: [{ labels, value: max }] },
        { at: (below + hpaFor) * MIN, firing: [{ labels, value: max }] },
      ],
    });
  }
  return scenarios;
}
