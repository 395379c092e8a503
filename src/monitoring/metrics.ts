import { EXPORTER_CONTAINER, POSTFIX_CONTAINER, SHOWQ_SOCKET } from '../postfix/layout';

/**
 * Every metric the alert rules and the dashboard read, in one place, with the exporter that
 * exposes it. The live exporter test scrapes Debian's kumina 0.3.0 build and checks each
 * `kumina-0.3.0` name; `hsn723` names exist only in the maintained fork that runs in the pod and
 * are checked against test/fixtures/hsn723-metrics.txt; `kube-state-metrics` and `cadvisor` names
 * come from the cluster's standard monitoring stack (kube-prometheus-stack ships both).
 */
export type MetricSource =
  /** Exposed by both postfix_exporter builds (Debian's kumina 0.3.0 and Hsn723's fork). */
  | 'kumina-0.3.0'
  /** Only Hsn723/postfix_exporter (the sidecar image) exposes it. */
  | 'hsn723'
  | 'kube-state-metrics'
  | 'cadvisor'
  /** Synthesised by Prometheus itself for every target. */
  | 'prometheus'
  /** The user's blackbox exporter, running the Probe's module (probe.enabled). */
  | 'blackbox-exporter';

export interface MetricInfo {
  readonly name: string;
  readonly source: MetricSource;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly meaning: string;
}

const metric = (name: string, source: MetricSource, type: MetricInfo['type'], meaning: string): MetricInfo => ({
  name,
  source,
  type,
  meaning,
});

export const METRICS = {
  up: metric('up', 'prometheus', 'gauge', 'Whether Prometheus could scrape the exporter.'),

  postfixUp: metric(
    'postfix_up',
    'kumina-0.3.0',
    'gauge',
    'Whether the exporter could read the showq socket (label path). Hsn723 adds a second series for the log file path that stays 0 until the first new log line: only the showq series says Postfix is up.',
  ),
  queueSize: metric(
    'postfix_showq_message_size_bytes',
    'kumina-0.3.0',
    'histogram',
    'Sizes of the queued messages; its _count is the queue length (rebuilt at each scrape: a gauge, never rate() it).',
  ),
  queueAge: metric(
    'postfix_showq_message_age_seconds',
    'kumina-0.3.0',
    'histogram',
    'Ages of the queued messages, buckets 10 s to 1e8 s in powers of ten (rebuilt at each scrape).',
  ),
  messagesReceived: metric('postfix_cleanup_messages_processed_total', 'kumina-0.3.0', 'counter', 'Messages accepted into the queue (cleanup).'),
  messagesExpired: metric(
    'postfix_qmgr_messages_expired_total',
    'hsn723',
    'counter',
    'Messages returned to their sender after queue.maximalQueueLifetime (qmgr "status=expired, returned to sender").',
  ),
  messagesRemoved: metric('postfix_qmgr_messages_removed_total', 'kumina-0.3.0', 'counter', 'Messages removed from the queue (delivered or bounced for good).'),
  smtpdConnects: metric('postfix_smtpd_connects_total', 'kumina-0.3.0', 'counter', 'Client connections to the relay.'),
  smtpdRejects: metric('postfix_smtpd_messages_rejected_total', 'kumina-0.3.0', 'counter', 'Client RCPTs refused (NOQUEUE reject), by SMTP code.'),
  smtpDeferred: metric('postfix_smtp_status_deferred', 'kumina-0.3.0', 'counter', 'Deliveries to the relay deferred (both builds; no DSN label).'),
  smtpTimeouts: metric('postfix_smtp_connection_timed_out_total', 'kumina-0.3.0', 'counter', 'Connections to the relay that timed out.'),
  smtpTls: metric(
    'postfix_smtp_tls_connections_total',
    'kumina-0.3.0',
    'counter',
    'TLS sessions to the relay, by trust (Verified, Trusted, Untrusted, Anonymous) and protocol.',
  ),

  smtpProcessed: metric(
    'postfix_smtp_messages_processed_total',
    'hsn723',
    'counter',
    'Delivery attempts to the relay by status (sent, deferred, bounced). kumina 0.3.0 has no such counter: its bounce lines only reach postfix_unsupported_log_entries_total{service="bounce"}.',
  ),
  smtpDeferredByDsn: metric('postfix_smtp_deferred_messages_by_dsn_total', 'hsn723', 'counter', 'Deferred deliveries by enhanced status code (dsn).'),
  smtpBouncedByDsn: metric('postfix_smtp_bounced_messages_by_dsn_total', 'hsn723', 'counter', 'Bounced deliveries by enhanced status code (dsn).'),

  probeSuccess: metric(
    'probe_success',
    'blackbox-exporter',
    'gauge',
    'Whether the last SMTP conversation of the probe with the relay Service succeeded (1) or not (0).',
  ),
  probeDuration: metric('probe_duration_seconds', 'blackbox-exporter', 'gauge', 'How long the last probe took.'),

  restarts: metric('kube_pod_container_status_restarts_total', 'kube-state-metrics', 'counter', 'Container restarts.'),
  lastTerminatedReason: metric(
    'kube_pod_container_status_last_terminated_reason',
    'kube-state-metrics',
    'gauge',
    'Why the container last terminated (reason="OOMKilled", ...).',
  ),
  resourceLimits: metric('kube_pod_container_resource_limits', 'kube-state-metrics', 'gauge', 'Container limits by resource (cpu, memory).'),
  hpaCurrentReplicas: metric('kube_horizontalpodautoscaler_status_current_replicas', 'kube-state-metrics', 'gauge', 'Current replicas of the HPA.'),
  hpaMaxReplicas: metric('kube_horizontalpodautoscaler_spec_max_replicas', 'kube-state-metrics', 'gauge', 'Maximum replicas of the HPA.'),

  memoryWorkingSet: metric('container_memory_working_set_bytes', 'cadvisor', 'gauge', 'Memory the kernel counts against the limit (what the OOM killer sees).'),
  cpuUsage: metric('container_cpu_usage_seconds_total', 'cadvisor', 'counter', 'CPU time used.'),
  cpuPeriods: metric('container_cpu_cfs_periods_total', 'cadvisor', 'counter', 'CFS enforcement periods.'),
  cpuThrottledPeriods: metric('container_cpu_cfs_throttled_periods_total', 'cadvisor', 'counter', 'CFS periods in which the container was throttled.'),
} as const satisfies Record<string, MetricInfo>;

export type MetricKey = keyof typeof METRICS;

/**
 * Names of the Kubernetes objects the selectors point at. They must equal what the constructs
 * create (the Service name is also the Prometheus `job` label: the Prometheus Operator sets
 * job = Service name unless the ServiceMonitor sets jobLabel).
 */
export const TARGETS = {
  workload: 'postfix-relay',
  metricsService: 'postfix-relay-metrics',
  /** The Probe's spec.jobName: the `job` label of probe_success. */
  probeJob: 'postfix-relay-probe',
  horizontalPodAutoscaler: 'postfix-relay',
  containers: [POSTFIX_CONTAINER, EXPORTER_CONTAINER],
  showqSocket: SHOWQ_SOCKET,
} as const;

/**
 * Pod names of the workload only: `<name>-<replicaset hash>-<5 chars>` (Deployment) or
 * `<name>-<ordinal>` (StatefulSet, when the queue is persistent). kube-state-metrics and cAdvisor
 * series carry no app labels by default, so the pod name is what scopes them.
 */
export const POD_NAME_REGEX = `${TARGETS.workload}-([0-9]+|[a-z0-9]+-[a-z0-9]{5})`;
