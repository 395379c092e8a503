import type { EnvironmentConfig } from '../config/schema';
import { METRICS, POD_NAME_REGEX, TARGETS } from './metrics';
import { formatDuration, leMatcher, selector, type Matcher } from './promql';
import { exporterScraped, exporterSelector, probeSelector, runbookUrl } from './scope';
import { renderSloGroups, SLO_ALERTS } from './slo';

export { exporterScraped, exporterSelector, runbookAnchor, runbookUrl } from './scope';

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A recording rule: `record` is the name of the series it writes. */
export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export type Rule = AlertRule | RecordingRule;

export function isAlertRule(rule: Rule): rule is AlertRule {
  return 'alert' in rule;
}

export interface RuleGroup {
  name: string;
  rules: Rule[];
}

export type Severity = 'critical' | 'warning';

/** One line per alert for docs/RUNBOOK.md; its section anchor is `runbookAnchor(name)`. */
export interface AlertSummary {
  readonly name: string;
  readonly severity: Severity;
  readonly meaning: string;
  /** Set when the alert exists only in some environments. */
  readonly onlyWhen?: string;
}

/** Buckets of postfix_showq_message_age_seconds in both exporter builds. */
export const QUEUE_AGE_BUCKETS = [1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8] as const;

/** Window over which counted events (deferrals, bounces, restarts) are looked at. */
export const EVENT_WINDOW = '10m';
/** Events fire after one more evaluation: a single bad scrape does not page anyone. */
export const EVENT_FOR = '1m';
/** Bounce rate window. */
export const RATE_WINDOW = '5m';
/** The HPA reaching its maximum during a burst is normal; staying there is not. */
export const HPA_MAX_FOR = '15m';
export const RESTART_WINDOW = '15m';

const EXPORTER_SCRAPED = 'metrics.enabled and serviceMonitor.enabled';

/** Selects this environment's relay containers in kube-state-metrics and cAdvisor series. */
export function containerSelector(env: EnvironmentConfig): Record<string, Matcher> {
  return { namespace: env.namespace, pod: { re: POD_NAME_REGEX }, container: { re: TARGETS.containers.join('|') } };
}

/**
 * The largest age bucket at or below the threshold. showq ages only come in decade buckets,
 * so "a message older than T" is "a message older than that bucket, continuously for the
 * rest of T" (the `for:`). It fires no later than a message crossing T; it can also fire when
 * different messages keep the queue older than the bucket for that long, which is a stuck queue too.
 */
export function queueAgeBucket(thresholdSeconds: number): { bucket: number; forSeconds: number } {
  const bucket = [...QUEUE_AGE_BUCKETS].reverse().find((b) => b <= thresholdSeconds) ?? QUEUE_AGE_BUCKETS[0];
  return { bucket, forSeconds: Math.max(thresholdSeconds - bucket, 60) };
}

/**
 * A counter went up within the window. The second branch catches a labelled counter that
 * sprang into existence at its first event (value 1, no earlier sample), which increase()
 * cannot see although it is the very event we are after; it only counts a series as new when
 * the same pod was already scraped at the start of the window, so a restarted Prometheus
 * (empty TSDB) does not take every old counter for a new event.
 */
function happened(env: EnvironmentConfig, series: string, window: string): string {
  const seen = `${selector(METRICS.up.name, exporterSelector(env))} offset ${window}`;
  return (
    `(sum by (namespace) (increase(${series}[${window}])) > 0)` +
    ` or (sum by (namespace) ((${series} unless ${series} offset ${window}) and on (namespace, pod) ${seen}))`
  );
}

const DSN = {
  /** 450 4.2.1: Google's per-organisation peak limits; mail stays queued and is retried. */
  gmailRateLimit: '4\\.2\\.1',
  /** 550 5.4.5: the sender's daily relay limit; soft_bounce turns 5 into 4. */
  gmailDailyLimit: '[45]\\.4\\.5',
  /** 550 5.7.0 Mail relay denied / 5.7.1: unregistered egress IP or a sender outside the domain. */
  relayDenied: '[45]\\.7\\.[01]',
  /** 4.7.4 TLS not offered, 4.7.5 certificate not verified (with encrypt/secure: never sent in clear). */
  tls: '[45]\\.7\\.[45]',
  /** relay.auth refused: 535 5.7.8 bad credentials, 534 5.7.9 app password required, 5.7.14 web login required (4.x: soft-bounced). */
  auth: '[45]\\.7\\.(8|9|14)',
} as const;

interface AlertDefinition extends AlertSummary {
  readonly build: (env: EnvironmentConfig) => Omit<AlertRule, 'alert' | 'labels' | 'annotations'> & {
    summary: string;
    description: string;
  };
  readonly include?: (env: EnvironmentConfig) => boolean;
  readonly group: 'mail' | 'workload';
}

const DEFINITIONS: readonly AlertDefinition[] = [
  {
    name: 'PostfixRelayDown',
    severity: 'critical',
    group: 'mail',
    meaning:
      'No metrics target for the relay, the exporter cannot be scraped, or it cannot read the showq socket (Postfix is not running); with probe.enabled, also when the SMTP probe of the Service fails or reports nothing (what clients see).',
    build: (env) => {
      const sel = exporterSelector(env);
      // With a probe, also what clients see: the probe fails, or its result is missing.
      const probe = probeSelector(env);
      const clientView = env.probe.enabled
        ? [
            `(min by (namespace, job, instance) (${selector(METRICS.probeSuccess.name, probe)}) == 0)`,
            `absent(${selector(METRICS.probeSuccess.name, probe)})`,
          ]
        : [];
      return {
        expr: [
          `absent(${selector(METRICS.up.name, sel)})`,
          `(${selector(METRICS.up.name, sel)} == 0)`,
          `(${selector(METRICS.postfixUp.name, { ...sel, path: TARGETS.showqSocket })} == 0)`,
          ...clientView,
        ].join(' or '),
        for: env.alerts.for,
        summary: 'Postfix relay {{ $labels.pod }} is down in {{ $labels.namespace }}',
        description:
          'For ' +
          env.alerts.for +
          ' Prometheus has had no healthy postfix-relay-metrics target in {{ $labels.namespace }}, or the exporter in pod "{{ $labels.pod }}" cannot read the showq socket: Postfix is not running there and mail sent to that pod is refused.' +
          (env.probe.enabled
            ? ' Or the SMTP probe of {{ $labels.instance }} (job {{ $labels.job }}) has failed or reported nothing: clients of the Service get no answer or no 250 to RCPT.'
            : ''),
      };
    },
  },
  {
    name: 'PostfixRelayHighQueue',
    severity: 'warning',
    group: 'mail',
    meaning: 'A relay pod holds more messages in its queue than alerts.queueSize: mail is not leaving fast enough.',
    build: (env) => ({
      expr: `sum by (namespace, pod) (${selector(`${METRICS.queueSize.name}_count`, exporterSelector(env))}) > ${env.alerts.queueSize}`,
      for: env.alerts.for,
      summary: 'Postfix queue of {{ $labels.pod }} above ' + env.alerts.queueSize + ' messages',
      description:
        'Pod {{ $labels.pod }} has held {{ printf "%.0f" $value }} queued messages (threshold ' +
        env.alerts.queueSize +
        ') for ' +
        env.alerts.for +
        '. The relay is slow, deferring or unreachable: check PostfixRelayGmail* and PostfixRelayTlsFailure, then postqueue -p.',
    }),
  },
  {
    name: 'PostfixRelayHighBounceRate',
    severity: 'warning',
    group: 'mail',
    meaning: 'More bounces per second than alerts.bounceRatePerSecond (Hsn723 exporter; kumina 0.3.0 has no bounce counter).',
    build: (env) => ({
      expr: `sum by (namespace) (rate(${selector(METRICS.smtpProcessed.name, { ...exporterSelector(env), status: 'bounced' })}[${RATE_WINDOW}])) > ${env.alerts.bounceRatePerSecond}`,
      for: env.alerts.for,
      summary: 'Postfix relay in {{ $labels.namespace }} bounces more than ' + env.alerts.bounceRatePerSecond + ' messages/s',
      description:
        'Messages bounce at {{ printf "%.3f" $value }}/s (threshold ' +
        env.alerts.bounceRatePerSecond +
        '/s) over ' +
        RATE_WINDOW +
        ' for ' +
        env.alerts.for +
        '. Bounced mail is returned to its sender and not retried: look at the DSNs in PostfixRelayDenied / PostfixRelayGmailDailyLimit and the log.',
    }),
  },
  {
    name: 'PostfixRelayQueueStale',
    severity: 'warning',
    group: 'mail',
    meaning: 'A queued message is older than alerts.oldestMessageAgeSeconds (measured with the decade buckets of the showq age histogram).',
    build: (env) => {
      const { bucket, forSeconds } = queueAgeBucket(env.alerts.oldestMessageAgeSeconds);
      const sel = exporterSelector(env);
      return {
        expr:
          `sum by (namespace, pod) (${selector(`${METRICS.queueAge.name}_count`, sel)})` +
          ` - sum by (namespace, pod) (${selector(`${METRICS.queueAge.name}_bucket`, { ...sel, le: leMatcher(bucket) })}) > 0`,
        for: formatDuration(forSeconds),
        summary: 'Postfix queue of {{ $labels.pod }} holds messages older than ' + formatDuration(env.alerts.oldestMessageAgeSeconds),
        description:
          '{{ printf "%.0f" $value }} message(s) in pod {{ $labels.pod }} have been queued for more than ' +
          formatDuration(bucket) +
          ', continuously for ' +
          formatDuration(forSeconds) +
          ' (threshold ' +
          formatDuration(env.alerts.oldestMessageAgeSeconds) +
          '). Deferred mail is retried until queue.maximalQueueLifetime and then bounced.',
      };
    },
  },
  {
    name: 'PostfixRelayGmailRateLimited',
    severity: 'warning',
    group: 'mail',
    meaning: "Google defers mail with 450 4.2.1: the organisation's relay limits are reached; mail stays queued and is retried.",
    build: (env) => ({
      expr: happened(env, selector(METRICS.smtpDeferredByDsn.name, { ...exporterSelector(env), dsn: { re: DSN.gmailRateLimit } }), EVENT_WINDOW),
      for: EVENT_FOR,
      summary: 'Gmail relay rate-limits {{ $labels.namespace }} (4.2.1)',
      description:
        'smtp-relay.gmail.com deferred deliveries with 4.2.1 in the last ' +
        EVENT_WINDOW +
        ": the Workspace organisation's relay limits are reached. Mail stays queued and is retried; watch the queue size and age.",
    }),
  },
  {
    name: 'PostfixRelayGmailDailyLimit',
    severity: 'critical',
    group: 'mail',
    meaning: 'Google refuses mail with 5.4.5: a sender reached its daily relay limit (10,000 messages or recipients per 24 h).',
    build: (env) => {
      const dsn = { ...exporterSelector(env), dsn: { re: DSN.gmailDailyLimit } };
      return {
        expr: `${happened(env, selector(METRICS.smtpBouncedByDsn.name, dsn), EVENT_WINDOW)} or ${happened(env, selector(METRICS.smtpDeferredByDsn.name, dsn), EVENT_WINDOW)}`,
        for: EVENT_FOR,
        summary: 'Gmail daily relay limit reached in {{ $labels.namespace }} (5.4.5)',
        description:
          'smtp-relay.gmail.com refused deliveries with 5.4.5 in the last ' +
          EVENT_WINDOW +
          ': an envelope sender exceeded its daily limit. Those messages bounce (or stay queued under soft_bounce) until the 24 h window moves on.',
      };
    },
  },
  {
    name: 'PostfixRelayDenied',
    severity: 'critical',
    group: 'mail',
    meaning: "Google denies relaying (5.7.0 / 5.7.1): the cluster's egress IP is not registered, or the sender is outside the Workspace domains.",
    build: (env) => {
      const dsn = { ...exporterSelector(env), dsn: { re: DSN.relayDenied } };
      return {
        expr: `${happened(env, selector(METRICS.smtpBouncedByDsn.name, dsn), EVENT_WINDOW)} or ${happened(env, selector(METRICS.smtpDeferredByDsn.name, dsn), EVENT_WINDOW)}`,
        for: EVENT_FOR,
        summary: 'Gmail relay denies mail from {{ $labels.namespace }} (5.7.0/5.7.1)',
        description:
          'smtp-relay.gmail.com answered 5.7.0/5.7.1 in the last ' +
          EVENT_WINDOW +
          ': check that every egress IP of the cluster is registered in the Workspace SMTP relay settings and that the senders are in mail.allowedSenderDomains.',
      };
    },
  },
  {
    name: 'PostfixRelayTlsFailure',
    severity: 'critical',
    group: 'mail',
    meaning: 'Deliveries deferred because TLS to the relay failed (4.7.4 no STARTTLS offered, 4.7.5 certificate not verified); mail is never sent in clear.',
    build: (env) => {
      const dsn = { ...exporterSelector(env), dsn: { re: DSN.tls } };
      return {
        expr: `${happened(env, selector(METRICS.smtpDeferredByDsn.name, dsn), EVENT_WINDOW)} or ${happened(env, selector(METRICS.smtpBouncedByDsn.name, dsn), EVENT_WINDOW)}`,
        for: EVENT_FOR,
        summary: 'TLS to the relay fails from {{ $labels.namespace }}',
        description:
          'Deliveries to ' +
          env.relay.host +
          ' were deferred in the last ' +
          EVENT_WINDOW +
          ' because TLS failed (4.7.4: STARTTLS not offered; 4.7.5: certificate not verified at level "' +
          env.relay.tlsSecurityLevel +
          '"). Mail stays queued. Check for an intercepting proxy, the CA bundle (relay.caFile) and the relay host name.',
      };
    },
  },
  {
    name: 'PostfixRelayAuthFailed',
    severity: 'critical',
    group: 'mail',
    onlyWhen: `relay.auth and ${EXPORTER_SCRAPED}`,
    include: (env) => env.relay.auth !== undefined,
    meaning: 'The relay refuses our SMTP AUTH login (5.7.8 bad credentials, 5.7.9 app password required, 5.7.14 sign-in required); mail stays queued until the Secret is fixed.',
    build: (env) => {
      const dsn = { ...exporterSelector(env), dsn: { re: DSN.auth } };
      return {
        expr: `${happened(env, selector(METRICS.smtpDeferredByDsn.name, dsn), EVENT_WINDOW)} or ${happened(env, selector(METRICS.smtpBouncedByDsn.name, dsn), EVENT_WINDOW)}`,
        for: EVENT_FOR,
        summary: 'The relay refuses the SMTP AUTH login of {{ $labels.namespace }}',
        description:
          env.relay.host +
          ' refused the login with the credentials of Secret "' +
          (env.relay.auth?.secretName ?? '') +
          '" in the last ' +
          EVENT_WINDOW +
          ' (5.7.8: wrong user name or password; 5.7.9: an app password is required; 5.7.14: the account must sign in on the web). Mail stays queued (smtp_sasl_auth_soft_bounce). Fix the Secret: the relay picks it up within about a minute and retries the queue.',
      };
    },
  },
  {
    name: 'PostfixRelayPodRestarting',
    severity: 'warning',
    group: 'workload',
    meaning: 'A relay container restarted in the last 15 minutes.',
    build: (env) => ({
      expr: `sum by (namespace, pod, container) (increase(${selector(METRICS.restarts.name, containerSelector(env))}[${RESTART_WINDOW}])) > 0`,
      for: EVENT_FOR,
      summary: 'Container {{ $labels.container }} of {{ $labels.pod }} is restarting',
      description:
        'Container {{ $labels.container }} in pod {{ $labels.pod }} restarted {{ printf "%.0f" $value }} time(s) in the last ' +
        RESTART_WINDOW +
        '. Check `kubectl logs --previous` and PostfixRelayOOMKilled.',
    }),
  },
  {
    name: 'PostfixRelayOOMKilled',
    severity: 'warning',
    group: 'workload',
    meaning: 'A relay container was killed for exceeding its memory limit.',
    build: (env) => {
      const sel = containerSelector(env);
      return {
        expr:
          `(max by (namespace, pod, container) (${selector(METRICS.lastTerminatedReason.name, { ...sel, reason: 'OOMKilled' })}) == 1)` +
          ` and on (namespace, pod, container) (sum by (namespace, pod, container) (increase(${selector(METRICS.restarts.name, sel)}[${RESTART_WINDOW}])) > 0)`,
        for: EVENT_FOR,
        summary: 'Container {{ $labels.container }} of {{ $labels.pod }} was OOM-killed',
        description:
          'Container {{ $labels.container }} in pod {{ $labels.pod }} restarted after an OOM kill in the last ' +
          RESTART_WINDOW +
          '. Raise its memory limit (resources / metrics.resources) or find what grew.',
      };
    },
  },
  {
    name: 'PostfixRelayMemoryNearLimit',
    severity: 'warning',
    group: 'workload',
    meaning: 'A relay container uses more than alerts.memoryLimitRatio of its memory limit.',
    build: (env) => {
      const sel = containerSelector(env);
      return {
        expr:
          `max by (namespace, pod, container) (${selector(METRICS.memoryWorkingSet.name, sel)})` +
          ` / on (namespace, pod, container) max by (namespace, pod, container) (${selector(METRICS.resourceLimits.name, { ...sel, resource: 'memory' })})` +
          ` > ${env.alerts.memoryLimitRatio}`,
        for: env.alerts.for,
        summary: 'Container {{ $labels.container }} of {{ $labels.pod }} is near its memory limit',
        description:
          'Container {{ $labels.container }} in pod {{ $labels.pod }} has used {{ printf "%.2f" $value }} of its memory limit (threshold ' +
          env.alerts.memoryLimitRatio +
          ') for ' +
          env.alerts.for +
          '. At the limit it is OOM-killed.',
      };
    },
  },
  {
    name: 'PostfixRelayCpuThrottled',
    severity: 'warning',
    group: 'workload',
    meaning: 'A relay container is CPU-throttled in more than alerts.cpuThrottleRatio of its CFS periods.',
    build: (env) => {
      const sel = containerSelector(env);
      const by = 'namespace, pod, container';
      return {
        expr:
          `sum by (${by}) (increase(${selector(METRICS.cpuThrottledPeriods.name, sel)}[${RATE_WINDOW}]))` +
          ` / on (${by}) sum by (${by}) (increase(${selector(METRICS.cpuPeriods.name, sel)}[${RATE_WINDOW}]))` +
          ` > ${env.alerts.cpuThrottleRatio}`,
        for: env.alerts.for,
        summary: 'Container {{ $labels.container }} of {{ $labels.pod }} is CPU-throttled',
        description:
          'Container {{ $labels.container }} in pod {{ $labels.pod }} was throttled in {{ printf "%.2f" $value }} of its CPU periods (threshold ' +
          env.alerts.cpuThrottleRatio +
          ') for ' +
          env.alerts.for +
          '. Throttling slows TLS handshakes and delivery; raise the CPU limit.',
      };
    },
  },
  {
    name: 'PostfixRelayHpaAtMaximum',
    severity: 'warning',
    group: 'workload',
    onlyWhen: 'autoscaling.enabled',
    include: (env) => env.autoscaling.enabled,
    meaning: 'The autoscaler has run the relay at autoscaling.maxReplicas for 15 minutes: it cannot add capacity.',
    build: (env) => {
      const sel = { namespace: env.namespace, horizontalpodautoscaler: TARGETS.horizontalPodAutoscaler };
      const by = 'namespace, horizontalpodautoscaler';
      return {
        expr:
          `max by (${by}) (${selector(METRICS.hpaCurrentReplicas.name, sel)})` +
          ` >= on (${by}) max by (${by}) (${selector(METRICS.hpaMaxReplicas.name, sel)})`,
        for: HPA_MAX_FOR,
        summary: 'Postfix relay autoscaler in {{ $labels.namespace }} is at its maximum',
        description:
          'The HPA {{ $labels.horizontalpodautoscaler }} has run {{ printf "%.0f" $value }} replicas (autoscaling.maxReplicas ' +
          env.autoscaling.maxReplicas +
          ') for ' +
          HPA_MAX_FOR +
          ': it cannot add capacity. Raise maxReplicas or find the load.',
      };
    },
  },
];

/** Every alert this project can create, in rule order: the runbook has one section per entry. */
export const ALERTS: readonly AlertSummary[] = [
  ...DEFINITIONS.map(({ name, severity, meaning, onlyWhen, group }) => {
    const when = onlyWhen ?? (group === 'mail' ? EXPORTER_SCRAPED : undefined);
    return when === undefined ? { name, severity, meaning } : { name, severity, meaning, onlyWhen: when };
  }),
  // The SLO alerts (src/monitoring/slo.ts) come last, after their recording rules.
  ...SLO_ALERTS,
];

/**
 * The PrometheusRule's spec.groups for one environment. Pure: same input, same output. The
 * exporter alerts exist only when the exporter is scraped (see exporterScraped); the SLO group
 * (recording rules and burn-rate alerts, src/monitoring/slo.ts) follows the alert groups.
 */
export function renderRuleGroups(env: EnvironmentConfig): RuleGroup[] {
  const groups: RuleGroup[] = [
    { name: `postfix-relay.${env.name}.mail`, rules: [] },
    { name: `postfix-relay.${env.name}.workload`, rules: [] },
  ];
  for (const def of DEFINITIONS) {
    if (def.include && !def.include(env)) continue;
    if (def.group === 'mail' && !exporterScraped(env)) continue;
    const { summary, description, ...rule } = def.build(env);
    const group = groups[def.group === 'mail' ? 0 : 1] as RuleGroup;
    group.rules.push({
      alert: def.name,
      expr: rule.expr,
      ...(rule.for === undefined ? {} : { for: rule.for }),
      labels: { severity: def.severity, service: TARGETS.workload, environment: env.name },
      annotations: { summary, description, runbook_url: runbookUrl(env, def.name) },
    });
  }
  return [...groups.filter((g) => g.rules.length > 0), ...renderSloGroups(env)];
}
