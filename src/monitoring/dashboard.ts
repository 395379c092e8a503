import { createHash } from 'node:crypto';
import type { EnvironmentConfig } from '../config/schema';
import { METRICS, POD_NAME_REGEX, TARGETS } from './metrics';
import { formatDuration, leMatcher, selector, type Matcher } from './promql';
import { QUEUE_AGE_BUCKETS, RATE_WINDOW } from './rules';
import { probeSelector } from './scope';
import { enabledSlos, objectiveRatio, SLO_SERIES, sloSeries } from './slo';
import { BURN_ALERTS, burnRate, errorBudget } from '../config/sections/slo';

/**
 * The Grafana dashboard of one environment (JSON model, schemaVersion 39), shipped in a
 * ConfigMap labelled grafana_dashboard: "1" for the Grafana sidecar. Deterministic: the uid
 * comes from the environment name, panel ids and positions from the panel order.
 */

/** Grafana uids are at most 40 characters. */
const UID_MAX = 40;

export function dashboardUid(env: Pick<EnvironmentConfig, 'name'>): string {
  const uid = `email-server-${env.name}`;
  if (uid.length <= UID_MAX) return uid;
  return `email-server-${createHash('sha256').update(env.name).digest('hex').slice(0, UID_MAX - 'email-server-'.length)}`;
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

interface Target {
  readonly expr: string;
  readonly legend: string;
}

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly targets: readonly Target[];
  readonly unit: string;
  readonly kind?: 'timeseries' | 'stat';
  /** A red threshold (line on time series, colour on stats). */
  readonly threshold?: number;
  /** Green at and above this value, red below (an SLI against its objective); instead of threshold. */
  readonly goodFrom?: number;
  readonly width?: number;
  readonly stack?: boolean;
}

interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

export function renderDashboard(env: EnvironmentConfig): Record<string, unknown> {
  const podVar: Matcher = { re: '$pod' };
  const mail = (extra: Record<string, Matcher> = {}) => ({ namespace: env.namespace, job: TARGETS.metricsService, pod: podVar, ...extra });
  const workload = (extra: Record<string, Matcher> = {}) => ({
    namespace: env.namespace,
    pod: podVar,
    container: { re: TARGETS.containers.join('|') },
    ...extra,
  });
  const m = (name: string, extra: Record<string, Matcher> = {}) => selector(name, mail(extra));
  const rate = (series: string) => `rate(${series}[${RATE_WINDOW}])`;
  const queueCount = `${METRICS.queueSize.name}_count`;
  const by3 = 'pod, container';

  const rows: RowSpec[] = [
    {
      title: 'Overview',
      panels: [
        {
          title: 'Exporters up',
          description: 'Metrics targets Prometheus scrapes successfully (one per relay pod).',
          kind: 'stat',
          unit: 'none',
          targets: [{ expr: `sum(${m(METRICS.up.name)})`, legend: 'up' }],
          width: 4,
        },
        {
          title: 'Postfix running',
          description: 'Pods whose exporter can read the showq socket, i.e. whose Postfix master is running.',
          kind: 'stat',
          unit: 'none',
          targets: [{ expr: `sum(${m(METRICS.postfixUp.name, { path: TARGETS.showqSocket })})`, legend: 'running' }],
          width: 4,
        },
        {
          title: 'Queued messages (largest pod)',
          description: `Largest queue of any pod; PostfixRelayHighQueue fires above ${env.alerts.queueSize}.`,
          kind: 'stat',
          unit: 'none',
          threshold: env.alerts.queueSize,
          targets: [{ expr: `max(sum by (pod) (${m(queueCount)}))`, legend: 'queued' }],
          width: 4,
        },
        {
          title: `Delivered (${RATE_WINDOW})`,
          description: 'Messages the relay accepted from Postfix in the window (status=sent).',
          kind: 'stat',
          unit: 'none',
          targets: [{ expr: `sum(increase(${m(METRICS.smtpProcessed.name, { status: 'sent' })}[${RATE_WINDOW}]))`, legend: 'sent' }],
          width: 4,
        },
        {
          title: 'Bounce rate',
          description: `Bounces per second; PostfixRelayHighBounceRate fires above ${env.alerts.bounceRatePerSecond}/s.`,
          kind: 'stat',
          unit: 'reqps',
          threshold: env.alerts.bounceRatePerSecond,
          targets: [{ expr: `sum(${rate(m(METRICS.smtpProcessed.name, { status: 'bounced' }))})`, legend: 'bounced/s' }],
          width: 4,
        },
        {
          title: 'Deferral rate',
          description: 'Deliveries deferred per second (retried later).',
          kind: 'stat',
          unit: 'reqps',
          targets: [{ expr: `sum(${rate(m(METRICS.smtpDeferred.name))})`, legend: 'deferred/s' }],
          width: 4,
        },
      ],
    },
    {
      title: 'Queue',
      panels: [
        {
          title: 'Queue size',
          description: `Messages in each pod's queue, by queue (active, deferred, hold, incoming, maildrop). Alert threshold ${env.alerts.queueSize}.`,
          unit: 'none',
          threshold: env.alerts.queueSize,
          stack: true,
          targets: [{ expr: `sum by (pod, queue) (${m(queueCount)})`, legend: '{{pod}} {{queue}}' }],
        },
        {
          title: 'Queue age',
          description: `Messages older than each age bucket of the showq histogram; PostfixRelayQueueStale fires for messages older than ${formatDuration(env.alerts.oldestMessageAgeSeconds)}.`,
          unit: 'none',
          targets: QUEUE_AGE_BUCKETS.filter((b) => b >= 100 && b <= 1e5).map((b) => ({
            expr: `sum by (pod) (${m(`${METRICS.queueAge.name}_count`)}) - sum by (pod) (${m(`${METRICS.queueAge.name}_bucket`, { le: leMatcher(b) })})`,
            legend: `{{pod}} older than ${formatDuration(b)}`,
          })),
        },
      ],
    },
    {
      title: 'Throughput',
      panels: [
        {
          title: 'Messages in and out',
          description: 'Accepted from clients (cleanup), delivery attempts to the relay by status, and messages leaving the queue.',
          unit: 'reqps',
          targets: [
            { expr: `sum(${rate(m(METRICS.messagesReceived.name))})`, legend: 'received' },
            { expr: `sum by (status) (${rate(m(METRICS.smtpProcessed.name))})`, legend: '{{status}}' },
            { expr: `sum(${rate(m(METRICS.messagesRemoved.name))})`, legend: 'removed from queue' },
          ],
        },
        {
          title: 'Client connections',
          description: 'SMTP connections from applications to the relay.',
          unit: 'reqps',
          targets: [{ expr: `sum by (pod) (${rate(m(METRICS.smtpdConnects.name))})`, legend: '{{pod}}' }],
        },
      ],
    },
    {
      title: 'Deferrals and bounces',
      panels: [
        {
          title: 'Deferrals by DSN',
          description: '4.2.1: Google rate limit; 4.7.x: TLS or policy; 4.4.x: network. Deferred mail is retried.',
          unit: 'reqps',
          targets: [
            { expr: `sum by (dsn) (${rate(m(METRICS.smtpDeferredByDsn.name))})`, legend: '{{dsn}}' },
            { expr: `sum(${rate(m(METRICS.smtpTimeouts.name))})`, legend: 'connection timeouts' },
          ],
        },
        {
          title: 'Bounces by DSN',
          description: `5.7.0/5.7.1: relay denied; 5.4.5: daily limit; 5.3.4: too large. Alert threshold ${env.alerts.bounceRatePerSecond}/s in total.`,
          unit: 'reqps',
          threshold: env.alerts.bounceRatePerSecond,
          targets: [{ expr: `sum by (dsn) (${rate(m(METRICS.smtpBouncedByDsn.name))})`, legend: '{{dsn}}' }],
        },
      ],
    },
    {
      title: 'Rejections',
      panels: [
        {
          title: 'Client commands rejected by SMTP code',
          description: 'Relay refusals of clients (NOQUEUE reject): 553/554 sender not allowed, 550 relay access denied, 452 too many recipients.',
          unit: 'reqps',
          targets: [{ expr: `sum by (code) (${rate(m(METRICS.smtpdRejects.name))})`, legend: '{{code}}' }],
          width: 24,
        },
      ],
    },
    {
      title: 'TLS to the relay',
      panels: [
        {
          title: 'TLS sessions by trust and protocol',
          description: `Sessions to ${env.relay.host}; at level "${env.relay.tlsSecurityLevel}" every session should be Verified.`,
          unit: 'reqps',
          targets: [{ expr: `sum by (trust, protocol) (${rate(m(METRICS.smtpTls.name))})`, legend: '{{trust}} {{protocol}}' }],
        },
        {
          title: 'TLS failures',
          description: 'Deliveries deferred because TLS failed: 4.7.4 STARTTLS not offered, 4.7.5 certificate not verified.',
          unit: 'none',
          targets: [{ expr: `sum by (dsn) (increase(${m(METRICS.smtpDeferredByDsn.name, { dsn: { re: '4\\.7\\.[45]' } })}[${RATE_WINDOW}]))`, legend: '{{dsn}}' }],
        },
      ],
    },
    {
      title: 'Resources per pod',
      panels: [
        {
          title: 'CPU',
          description: 'CPU used per container (cores).',
          unit: 'none',
          targets: [{ expr: `sum by (${by3}) (${rate(selector(METRICS.cpuUsage.name, workload()))})`, legend: '{{pod}} {{container}}' }],
        },
        {
          title: 'Memory used / limit',
          description: `Working set over the memory limit; PostfixRelayMemoryNearLimit fires above ${env.alerts.memoryLimitRatio}.`,
          unit: 'percentunit',
          threshold: env.alerts.memoryLimitRatio,
          targets: [
            {
              expr:
                `max by (${by3}) (${selector(METRICS.memoryWorkingSet.name, workload())})` +
                ` / on (${by3}) max by (${by3}) (${selector(METRICS.resourceLimits.name, workload({ resource: 'memory' }))})`,
              legend: '{{pod}} {{container}}',
            },
          ],
        },
        {
          title: 'CPU throttling',
          description: `Share of CFS periods throttled; PostfixRelayCpuThrottled fires above ${env.alerts.cpuThrottleRatio}.`,
          unit: 'percentunit',
          threshold: env.alerts.cpuThrottleRatio,
          targets: [
            {
              expr:
                `sum by (${by3}) (increase(${selector(METRICS.cpuThrottledPeriods.name, workload())}[${RATE_WINDOW}]))` +
                ` / on (${by3}) sum by (${by3}) (increase(${selector(METRICS.cpuPeriods.name, workload())}[${RATE_WINDOW}]))`,
              legend: '{{pod}} {{container}}',
            },
          ],
        },
        {
          title: 'Restarts',
          description: 'Container restarts in the last hour, and whether the last termination was an OOM kill.',
          unit: 'none',
          targets: [
            { expr: `sum by (${by3}) (increase(${selector(METRICS.restarts.name, workload())}[1h]))`, legend: '{{pod}} {{container}} restarts' },
            {
              expr: `max by (${by3}) (${selector(METRICS.lastTerminatedReason.name, workload({ reason: 'OOMKilled' }))})`,
              legend: '{{pod}} {{container}} last OOM-killed',
            },
          ],
        },
        ...(env.autoscaling.enabled
          ? [
              {
                title: 'Replicas and autoscaler maximum',
                description: `PostfixRelayHpaAtMaximum fires when the current replicas stay at the maximum (${env.autoscaling.maxReplicas}).`,
                unit: 'none',
                targets: [
                  {
                    expr: `max(${selector(METRICS.hpaCurrentReplicas.name, { namespace: env.namespace, horizontalpodautoscaler: TARGETS.horizontalPodAutoscaler })})`,
                    legend: 'current',
                  },
                  {
                    expr: `max(${selector(METRICS.hpaMaxReplicas.name, { namespace: env.namespace, horizontalpodautoscaler: TARGETS.horizontalPodAutoscaler })})`,
                    legend: 'maximum',
                  },
                ],
                width: 24,
              } satisfies PanelSpec,
            ]
          : []),
      ],
    },
  ];

  rows.unshift(...sloRows(env));

  return {
    uid: dashboardUid(env),
    title: `Postfix relay (${env.name})`,
    description: `SMTP relay ${env.mail.hostname} in namespace ${env.namespace}, relaying through ${env.relay.host}:${env.relay.port}.`,
    tags: ['email-server', 'postfix', env.name],
    editable: true,
    graphTooltip: 1,
    refresh: '1m',
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-6h', to: 'now' },
    timezone: 'utc',
    links: [{ title: 'Runbook', type: 'link', url: env.alerts.runbookBaseUrl, targetBlank: true, icon: 'doc' }],
    annotations: { list: [] },
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
          refresh: 1,
          regex: '',
          options: [],
        },
        {
          name: 'pod',
          label: 'Pod',
          type: 'query',
          datasource: DATASOURCE,
          definition: `label_values(${selector(METRICS.up.name, { namespace: env.namespace, job: TARGETS.metricsService })}, pod)`,
          query: {
            query: `label_values(${selector(METRICS.up.name, { namespace: env.namespace, job: TARGETS.metricsService })}, pod)`,
            refId: 'PrometheusVariableQueryEditor-VariableQuery',
          },
          includeAll: true,
          // "All" means this workload's pods only (kube-state-metrics and cAdvisor series have no job).
          allValue: POD_NAME_REGEX,
          multi: true,
          current: { selected: true, text: ['All'], value: ['$__all'] },
          hide: 0,
          refresh: 2,
          sort: 1,
          regex: '',
          options: [],
        },
      ],
    },
    panels: layout(rows),
  };
}

/**
 * The SLOs first: each SLI against its objective over the objective's window, the error budget
 * left, and how fast it burns against the alert thresholds; with a probe, what the probe sees.
 */
function sloRows(env: EnvironmentConfig): RowSpec[] {
  const slos = enabledSlos(env);
  if (!slos.length) return [];
  const panels: PanelSpec[] = [];
  if (env.probe.enabled) {
    const probe = (name: string) => selector(name, probeSelector(env));
    panels.push({
      title: 'SMTP probe (what clients see)',
      description: `The blackbox exporter's SMTP conversation with the relay Service every ${env.probe.interval}: 1 when banner, EHLO, MAIL, RCPT and QUIT all got the expected reply; its duration (timeout ${env.probe.timeout}).`,
      unit: 'none',
      targets: [
        { expr: `min(${probe(METRICS.probeSuccess.name)})`, legend: 'success' },
        { expr: `max(${probe(METRICS.probeDuration.name)})`, legend: 'duration (s)' },
      ],
      width: 24,
    });
  }
  for (const slo of slos) {
    const series = (name: string) => sloSeries(env, name, slo.key);
    const budget = errorBudget(slo.objective);
    const fastest = BURN_ALERTS[0];
    panels.push(
      {
        title: `${slo.title} SLI (${slo.window})`,
        description: `Good share over ${slo.window}; objective ${slo.objective}% (red below). A bad event is ${slo.bad}.`,
        kind: 'stat',
        unit: 'percentunit',
        goodFrom: objectiveRatio(slo.objective),
        targets: [{ expr: `1 - ${series(SLO_SERIES.errorRatio(slo.window))}`, legend: slo.key }],
        width: 6,
      },
      {
        title: `${slo.title} error budget left`,
        description: `Share of the ${slo.window} error budget (${Number((budget * 100).toPrecision(6))}% of events) not yet spent; below 0 the objective is missed.`,
        kind: 'stat',
        unit: 'percentunit',
        goodFrom: 0,
        targets: [{ expr: series(SLO_SERIES.budgetRemaining), legend: 'budget left' }],
        width: 6,
      },
      {
        title: `${slo.title} burn rate`,
        description: `How many times faster than the objective allows the budget burns, over each alert's long window. Pages at ${BURN_ALERTS.filter((a) => a.severity === 'critical')
          .map((a) => `${burnRate(a, slo.window)}x over ${a.long}`)
          .join(' and ')}; ticket at ${BURN_ALERTS.filter((a) => a.severity !== 'critical')
          .map((a) => `${burnRate(a, slo.window)}x over ${a.long}`)
          .join(', ')}.`,
        unit: 'none',
        threshold: burnRate(fastest, slo.window),
        targets: BURN_ALERTS.map((a) => ({ expr: `${series(SLO_SERIES.errorRatio(a.long))} / ${budget}`, legend: `over ${a.long}` })),
        width: 12,
      },
    );
  }
  return [{ title: 'Service level objectives', panels }];
}

/** Rows of 24 grid units; panels fill a row left to right, 8 high (stats 4). */
function layout(rows: readonly RowSpec[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    out.push({ id: id++, type: 'row', title: row.title, collapsed: false, panels: [], gridPos: { h: 1, w: 24, x: 0, y } });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const kind = p.kind ?? 'timeseries';
      const w = p.width ?? 12;
      const h = kind === 'stat' ? 4 : 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      out.push(panel(id++, p, { h, w, x, y }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return out;
}

function panel(id: number, p: PanelSpec, gridPos: { h: number; w: number; x: number; y: number }): Record<string, unknown> {
  const kind = p.kind ?? 'timeseries';
  const thresholds = {
    mode: 'absolute',
    steps:
      p.goodFrom === undefined
        ? [{ color: 'green', value: null }, ...(p.threshold === undefined ? [] : [{ color: 'red', value: p.threshold }])]
        : [
            { color: 'red', value: null },
            { color: 'green', value: p.goodFrom },
          ],
  };
  const custom =
    kind === 'timeseries'
      ? {
          custom: {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: p.stack ? 30 : 10,
            showPoints: 'never',
            spanNulls: false,
            stacking: { mode: p.stack ? 'normal' : 'none', group: 'A' },
            thresholdsStyle: { mode: p.threshold === undefined ? 'off' : 'line' },
          },
        }
      : {};
  return {
    id,
    type: kind,
    title: p.title,
    description: p.description,
    datasource: DATASOURCE,
    gridPos,
    targets: p.targets.map((t, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: t.expr,
      legendFormat: t.legend,
      range: true,
    })),
    fieldConfig: { defaults: { unit: p.unit, thresholds, ...custom }, overrides: [] },
    options:
      kind === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto' }
        : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
  };
}
