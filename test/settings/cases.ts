import { alertRule, dashboardPanel, field, mainCf, masterCf, script, type Effect } from './effects';

/**
 * Every setting takes effect: one entry per leaf setting of src/config/schema.ts.
 *
 * test/settings/settings.test.ts walks the zod schema, so a new setting is checked the moment it
 * is added. For each one it synthesizes the default and a valid non-default value (generated
 * from the field's type; override with `value`) and asserts that every `effect` below reads
 * differently in dist/. A setting without an entry fails, and its failure message prints what
 * the value changed: copy the line it suggests, keep the effect(s) the setting's description
 * promises.
 *
 * HOW TO ADD A SETTING'S CASE (one line, in schema order):
 *   'section.field': { effect: field('Kind/name', 'path.in[name=x].object') },
 *   'section.field': { effect: mainCf('postfix_parameter') },          // or masterCf('service'),
 *   'section.field': { effect: script('drain.sh', 'shell_variable') },  // alertRule, dashboardPanel
 *   add `with: { 'section.enabled': true }` when it only matters with a feature on,
 *   add `value: ...` when the generated value is not valid (the message says so),
 *   or `{ exception: 'why it has no manifest effect' }` when that is by design (rare: a setting
 *   that is only a validation gate). An exception that starts changing dist/ fails too.
 * Paths: `a.b[0]`, `[name=postfix]` (list element by a field), `[*]` (any element), `["key.with.dots"]`;
 * '' is the object itself (present or absent). Details: docs/TESTING.md, "Every setting takes effect".
 */
export interface SettingCase {
  /** Where the setting shows in dist/: each listed effect must differ from the default's. */
  readonly effect: Effect | readonly Effect[];
  /** A valid non-default value, when the generated one does not suit. */
  readonly value?: unknown;
  /** Companion settings applied on both sides (the feature switch the setting needs, ...). */
  readonly with?: Readonly<Record<string, unknown>>;
  /**
   * Settings the non-default value cannot go without, set on its side only (a LoadBalancer
   * needs client ranges, which a ClusterIP Service refuses): the effects then show the pair.
   */
  readonly alongside?: Readonly<Record<string, unknown>>;
  /**
   * For a setting the schema pins to its default: a value set on the validated config, past
   * validation, to prove the code reads the setting rather than a constant.
   */
  readonly forceValue?: unknown;
}

/** One case, several (the setting shows in different places in different modes), or an exception. */
export type SettingEntry = SettingCase | readonly SettingCase[] | { readonly exception: string };

const POSTFIX = 'spec.template.spec.containers[name=postfix]';
const EXPORTER = 'spec.template.spec.containers[name=exporter]';
const POD = 'spec.template.spec';
const HPA_ON = { 'autoscaling.enabled': true };
const PERSISTENT = { 'queue.persistence.enabled': true };
const NP = 'NetworkPolicy/postfix-relay';
const DEPLOY = 'Deployment/postfix-relay';
const STS = 'StatefulSet/postfix-relay';
const HPA = 'HorizontalPodAutoscaler/postfix-relay';
const APP = 'Application/email-server-settings';
const PROBE = 'Probe/postfix-relay';
const PROM = 'PrometheusRule/postfix-relay';
const SLO_GROUP = 'spec.groups[name=postfix-relay.settings.slo]';
const PROBE_ON = { 'probe.enabled': true };
const LATENCY_ON = { 'slo.latency.enabled': true };

export const SETTINGS: Readonly<Record<string, SettingEntry>> = {
  tier: { exception: 'Selects which safety checks apply (latest images, one pod, the PDB); it renders nothing. Its gates are proven by test/config/catalogue.cases.ts.' },
  namespace: { effect: [field('Namespace/email-server-settings', ''), field(DEPLOY, 'metadata.namespace'), field(APP, 'spec.destination.namespace')] },
  'image.repository': { effect: field(DEPLOY, `${POSTFIX}.image`) },
  'image.tag': { effect: field(DEPLOY, `${POSTFIX}.image`) },
  'image.digest': { effect: field(DEPLOY, `${POSTFIX}.image`) },
  'image.pullPolicy': { effect: field(DEPLOY, `${POSTFIX}.imagePullPolicy`) },
  'image.pullSecrets': { effect: field(DEPLOY, `${POD}.imagePullSecrets`) },
  replicas: { effect: field(DEPLOY, 'spec.replicas') },
  'resources.requests.cpu': { effect: field(DEPLOY, `${POSTFIX}.resources.requests.cpu`) },
  'resources.requests.memory': { effect: field(DEPLOY, `${POSTFIX}.resources.requests.memory`) },
  'resources.limits.cpu': { effect: field(DEPLOY, `${POSTFIX}.resources.limits.cpu`) },
  'resources.limits.memory': { effect: field(DEPLOY, `${POSTFIX}.resources.limits.memory`) },
  'probes.initialDelaySeconds': { effect: [field(DEPLOY, `${POSTFIX}.livenessProbe.initialDelaySeconds`), field(DEPLOY, `${POSTFIX}.readinessProbe.initialDelaySeconds`)] },
  'probes.periodSeconds': {
    effect: [field(DEPLOY, `${POSTFIX}.livenessProbe.periodSeconds`), field(DEPLOY, `${POSTFIX}.readinessProbe.periodSeconds`), field(DEPLOY, `${POSTFIX}.startupProbe.periodSeconds`)],
  },
  'probes.timeoutSeconds': {
    effect: [field(DEPLOY, `${POSTFIX}.livenessProbe.timeoutSeconds`), field(DEPLOY, `${POSTFIX}.readinessProbe.timeoutSeconds`), field(DEPLOY, `${POSTFIX}.startupProbe.timeoutSeconds`)],
  },
  'probes.failureThreshold': { effect: [field(DEPLOY, `${POSTFIX}.livenessProbe.failureThreshold`), field(DEPLOY, `${POSTFIX}.readinessProbe.failureThreshold`)] },
  'probes.startupFailureThreshold': { effect: field(DEPLOY, `${POSTFIX}.startupProbe.failureThreshold`) },
  terminationGracePeriodSeconds: { effect: field(DEPLOY, `${POD}.terminationGracePeriodSeconds`) },

  'network.clusterCidrs': { effect: [mainCf('mynetworks'), field(NP, 'spec.egress[1].to[0].ipBlock.except')] },
  'network.mynetworks': { effect: mainCf('mynetworks') },
  'network.accessLabel.key': { effect: [field(NP, 'spec.ingress[0].from[0].namespaceSelector.matchLabels'), field('Namespace/email-server-settings', 'metadata.labels')] },
  'network.accessLabel.value': { effect: [field(NP, 'spec.ingress[0].from[0].namespaceSelector.matchLabels'), field('Namespace/email-server-settings', 'metadata.labels')] },
  'network.allowPublicClientNetworks': { exception: 'An explicit override: it only lets clusterCidrs/mynetworks hold public ranges, which then show in main.cf; catalogue cases prove the gate.' },
  'network.dnsCidrs': { value: ['169.254.20.10/32'], effect: field(NP, 'spec.egress[1].to[0].ipBlock.cidr') },
  'network.monitoringNamespace': { effect: field(NP, 'spec.ingress[1].from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"]') },
  'network.relayCidrs': { value: ['142.250.0.0/15'], effect: field(NP, 'spec.egress[1].to[0].ipBlock.cidr') },

  'relay.host': { effect: [mainCf('relayhost'), mainCf('smtp_tls_servername'), mainCf('smtp_tls_secure_cert_match'), mainCf('smtp_tls_verify_cert_match')] },
  'relay.port': [
    { effect: [mainCf('relayhost'), field(NP, 'spec.egress[1].ports[0].port')] },
    { value: 465, effect: [mainCf('relayhost'), mainCf('smtp_tls_wrappermode'), field(NP, 'spec.egress[1].ports[0].port')] },
  ],
  'relay.tlsSecurityLevel': { effect: mainCf('smtp_tls_security_level') },
  'relay.allowUnverifiedTls': { exception: 'An explicit override: it only lets relay.tlsSecurityLevel be "encrypt", which then shows in main.cf; catalogue and policy tests prove the gate.' },
  'relay.caFile': { effect: mainCf('smtp_tls_CAfile') },
  'relay.ipVersion': { effect: mainCf('inet_protocols') },
  'relay.connectionReuse': { effect: mainCf('smtp_tls_connection_reuse') },
  'relay.auth.secretName': {
    with: { 'relay.auth.secretName': 'gmail-relay' },
    value: 'workspace-relay',
    effect: [field(DEPLOY, `${POD}.volumes[name=relay-auth].secret.secretName`), alertRule('PostfixRelayAuthFailed', 'annotations.description')],
  },
  'relay.auth.usernameKey': { with: { 'relay.auth.secretName': 'gmail-relay' }, effect: [field(DEPLOY, `${POD}.volumes[name=relay-auth].secret.items[0].key`)] },
  'relay.auth.passwordKey': { with: { 'relay.auth.secretName': 'gmail-relay' }, effect: field(DEPLOY, `${POD}.volumes[name=relay-auth].secret.items[1].key`) },

  'mail.hostname': { effect: mainCf('myhostname') },
  'mail.domain': { effect: mainCf('mydomain') },
  'mail.allowedSenderDomains': { effect: mainCf('smtpd_sender_restrictions') },
  'mail.messageSizeLimitBytes': { effect: mainCf('message_size_limit') },
  'mail.maxRecipientsPerMessage': { effect: mainCf('smtpd_recipient_limit') },
  'mail.relayRecipientsPerTransaction': { effect: mainCf('smtp_destination_recipient_limit') },
  'mail.holdRelayRefusals': { effect: mainCf('smtp_reply_filter') },
  'mail.softBounce': { effect: [masterCf('smtp'), masterCf('relay')] },
  'mail.rateLimits.connectionsPerMinute': { effect: mainCf('smtpd_client_connection_rate_limit') },
  'mail.rateLimits.messagesPerMinute': { effect: mainCf('smtpd_client_message_rate_limit') },
  'mail.rateLimits.recipientsPerMinute': { effect: mainCf('smtpd_client_recipient_rate_limit') },
  'mail.rewrite.senders': {
    value: [{ from: 'noreply@example.com', to: 'relay@example.com' }],
    effect: [mainCf('sender_canonical_maps'), mainCf('local_header_rewrite_clients'), mainCf('header_checks'), mainCf('smtp_header_checks')],
  },
  'mail.rewrite.masqueradeDomains': { value: ['example.com'], effect: [mainCf('masquerade_domains'), mainCf('local_header_rewrite_clients')] },
  'mail.stripReceivedHeaders': [{ effect: mainCf('smtp_header_checks') }, { value: 'all', effect: mainCf('smtp_header_checks') }],

  'tuning.processLimit': { effect: mainCf('default_process_limit') },
  'tuning.relayConcurrency': { effect: mainCf('default_destination_concurrency_limit') },

  'postfix.extraMainCf': { value: { header_size_limit: 204800 }, effect: mainCf('header_size_limit') },

  'queue.persistence.enabled': { effect: [field(STS, ''), field(DEPLOY, '')] },
  'queue.persistence.size': [
    { effect: field(DEPLOY, `${POD}.volumes[name=queue].emptyDir.sizeLimit`) },
    { with: PERSISTENT, effect: field(STS, 'spec.volumeClaimTemplates[0].spec.resources.requests.storage') },
  ],
  'queue.persistence.storageClassName': { with: PERSISTENT, value: 'fast-ssd', effect: field(STS, 'spec.volumeClaimTemplates[0].spec.storageClassName') },
  'queue.drainDeadlineSeconds': { effect: script('drain.sh', 'deadline_seconds') },
  'queue.maximalQueueLifetime': { effect: mainCf('maximal_queue_lifetime') },

  'metrics.enabled': { effect: [field(DEPLOY, `${EXPORTER}`), field('Service/postfix-relay-metrics', ''), field(NP, 'spec.ingress[1]')] },
  'metrics.port': {
    effect: [field(DEPLOY, `${EXPORTER}.ports[name=metrics].containerPort`), field('Service/postfix-relay-metrics', 'spec.ports[name=metrics].port'), field(NP, 'spec.ingress[1].ports[0].port')],
  },
  'metrics.image.repository': { effect: field(DEPLOY, `${EXPORTER}.image`) },
  'metrics.image.tag': { effect: field(DEPLOY, `${EXPORTER}.image`) },
  'metrics.image.digest': { effect: field(DEPLOY, `${EXPORTER}.image`) },
  'metrics.image.pullPolicy': { effect: field(DEPLOY, `${EXPORTER}.imagePullPolicy`) },
  'metrics.image.pullSecrets': { effect: field(DEPLOY, `${POD}.imagePullSecrets`) },
  'metrics.resources.requests.cpu': { effect: field(DEPLOY, `${EXPORTER}.resources.requests.cpu`) },
  'metrics.resources.requests.memory': { effect: field(DEPLOY, `${EXPORTER}.resources.requests.memory`) },
  'metrics.resources.limits.cpu': { effect: field(DEPLOY, `${EXPORTER}.resources.limits.cpu`) },
  'metrics.resources.limits.memory': { effect: field(DEPLOY, `${EXPORTER}.resources.limits.memory`) },
  'metrics.logSizeLimit': { effect: field(DEPLOY, `${POD}.volumes[name=log].emptyDir.sizeLimit`) },
  'metrics.logRotateBytes': { effect: script('entrypoint.sh', 'rotate_bytes') },

  'serviceMonitor.enabled': { effect: field('ServiceMonitor/postfix-relay', '') },
  'serviceMonitor.interval': { effect: field('ServiceMonitor/postfix-relay', 'spec.endpoints[0].interval') },
  'serviceMonitor.scrapeTimeout': { effect: field('ServiceMonitor/postfix-relay', 'spec.endpoints[0].scrapeTimeout') },
  'serviceMonitor.labels': { effect: [field('ServiceMonitor/postfix-relay', 'metadata.labels'), field('PrometheusRule/postfix-relay', 'metadata.labels')] },

  'alerts.enabled': { effect: field('PrometheusRule/postfix-relay', '') },
  'alerts.queueSize': { effect: [alertRule('PostfixRelayHighQueue', 'expr'), dashboardPanel('Queue size', 'fieldConfig.defaults.thresholds')] },
  'alerts.bounceRatePerSecond': { effect: [alertRule('PostfixRelayHighBounceRate', 'expr'), dashboardPanel('Bounce rate', 'fieldConfig.defaults.thresholds')] },
  'alerts.oldestMessageAgeSeconds': { effect: alertRule('PostfixRelayQueueStale', 'for') },
  'alerts.memoryLimitRatio': { effect: [alertRule('PostfixRelayMemoryNearLimit', 'expr'), dashboardPanel('Memory used / limit', 'fieldConfig.defaults.thresholds')] },
  'alerts.cpuThrottleRatio': { effect: [alertRule('PostfixRelayCpuThrottled', 'expr'), dashboardPanel('CPU throttling', 'fieldConfig.defaults.thresholds')] },
  'alerts.for': { effect: [alertRule('PostfixRelayHighQueue', 'for'), alertRule('PostfixRelayHighBounceRate', 'for')] },
  'alerts.runbookBaseUrl': { effect: [alertRule('PostfixRelayDown', 'annotations.runbook_url'), field('ConfigMap/postfix-relay-dashboard', 'data[*].links[title=Runbook].url')] },
  'dashboard.enabled': { effect: field('ConfigMap/postfix-relay-dashboard', '') },

  // The client-side probe and the SLOs (issue 20; docs/SLO.md).
  'probe.enabled': {
    effect: [field(PROBE, ''), field(NP, 'spec.ingress[1].from[0].podSelector'), alertRule('PostfixRelayDown', 'expr'), field(PROM, `${SLO_GROUP}.rules[record=postfix_relay_slo:sli_good:sample].expr`)],
  },
  'probe.proberUrl': { with: PROBE_ON, value: 'https://blackbox.monitoring.svc:9443', effect: field(PROBE, 'spec.prober') },
  'probe.module': { with: PROBE_ON, value: 'smtp_relay', effect: [field(PROBE, 'spec.module'), field(PROBE, 'metadata.annotations')] },
  'probe.interval': { with: PROBE_ON, value: '1m', effect: [field(PROBE, 'spec.interval'), field(PROM, `${SLO_GROUP}.rules[record=postfix_relay_slo:sli_good:sample].expr`)] },
  'probe.timeout': { with: PROBE_ON, value: '5s', effect: [field(PROBE, 'spec.scrapeTimeout'), field(PROBE, 'metadata.annotations')] },
  'probe.clusterDomain': { with: PROBE_ON, value: 'k8s.local', effect: field(PROBE, 'spec.targets.staticConfig.static') },
  'probe.proberNamespaceLabels': { with: PROBE_ON, value: { team: 'sre' }, effect: field(NP, 'spec.ingress[1].from[0].namespaceSelector.matchLabels') },
  'probe.proberPodLabels': { with: PROBE_ON, value: { app: 'blackbox' }, effect: field(NP, 'spec.ingress[1].from[0].podSelector.matchLabels') },
  'slo.availability.enabled': { effect: [alertRule('PostfixRelayAvailabilityFastBurn', 'expr'), dashboardPanel('Availability SLI (30d)', '')] },
  'slo.availability.objective': {
    value: 99.5,
    effect: [alertRule('PostfixRelayAvailabilityFastBurn', 'expr'), dashboardPanel('Availability SLI (30d)', 'fieldConfig.defaults.thresholds')],
  },
  'slo.availability.window': { value: '7d', effect: [alertRule('PostfixRelayAvailabilityFastBurn', 'expr'), alertRule('PostfixRelayAvailabilityFastBurn', 'annotations.description')] },
  'slo.delivery.enabled': { effect: [alertRule('PostfixRelayDeliveryFastBurn', 'expr'), dashboardPanel('Delivery SLI (30d)', '')] },
  'slo.delivery.objective': {
    value: 99.5,
    effect: [alertRule('PostfixRelayDeliveryFastBurn', 'expr'), dashboardPanel('Delivery SLI (30d)', 'fieldConfig.defaults.thresholds')],
  },
  'slo.delivery.window': { value: '7d', effect: [alertRule('PostfixRelayDeliveryFastBurn', 'expr'), alertRule('PostfixRelayDeliveryFastBurn', 'annotations.description')] },
  // The sender-fault DSNs show in the delivery SLO's recording rules (one group: SLO rules share record names).
  'slo.delivery.senderFaultDsns': { value: ['5.1'], effect: field(PROM, SLO_GROUP) },
  'slo.latency.enabled': { effect: [alertRule('PostfixRelayLatencyFastBurn', 'expr'), dashboardPanel('Latency SLI (30d)', '')] },
  'slo.latency.objective': { with: LATENCY_ON, value: 99.5, effect: [alertRule('PostfixRelayLatencyFastBurn', 'expr'), dashboardPanel('Latency SLI (30d)', 'fieldConfig.defaults.thresholds')] },
  'slo.latency.window': { with: LATENCY_ON, value: '7d', effect: alertRule('PostfixRelayLatencyFastBurn', 'expr') },
  'slo.latency.thresholdSeconds': { with: LATENCY_ON, value: 100, effect: [field(PROM, SLO_GROUP), alertRule('PostfixRelayLatencyFastBurn', 'annotations.description')] },

  'autoscaling.enabled': { effect: [field(HPA, ''), field(DEPLOY, 'spec.replicas'), alertRule('PostfixRelayHpaAtMaximum', 'expr')] },
  'autoscaling.minReplicas': { with: HPA_ON, effect: field(HPA, 'spec.minReplicas') },
  'autoscaling.maxReplicas': { with: HPA_ON, effect: field(HPA, 'spec.maxReplicas') },
  'autoscaling.cpuTargetPercent': { with: HPA_ON, effect: field(HPA, 'spec.metrics[0].resource.target.averageUtilization') },
  'autoscaling.scaleDown.stabilizationWindowSeconds': { with: HPA_ON, effect: field(HPA, 'spec.behavior.scaleDown.stabilizationWindowSeconds') },
  // The schema allows only 1 (one pod at a time): forced past validation to prove the HPA reads it.
  'autoscaling.scaleDown.podsPerPeriod': { with: HPA_ON, forceValue: 2, effect: field(HPA, 'spec.behavior.scaleDown.policies[type=Pods].value') },
  'autoscaling.scaleDown.periodSeconds': { with: HPA_ON, effect: field(HPA, 'spec.behavior.scaleDown.policies[type=Pods].periodSeconds') },

  // Production refuses a missing PDB: switch it off where that is allowed.
  'podDisruptionBudget.enabled': { with: { tier: 'development' }, effect: field('PodDisruptionBudget/postfix-relay', '') },
  'podDisruptionBudget.minAvailable': { effect: field('PodDisruptionBudget/postfix-relay', 'spec.minAvailable') },

  'topologySpread.enabled': { effect: field(DEPLOY, `${POD}.topologySpreadConstraints`) },
  'topologySpread.maxSkew': { effect: field(DEPLOY, `${POD}.topologySpreadConstraints[0].maxSkew`) },
  'topologySpread.topologyKey': { effect: field(DEPLOY, `${POD}.topologySpreadConstraints[0].topologyKey`) },
  'topologySpread.whenUnsatisfiable': { effect: field(DEPLOY, `${POD}.topologySpreadConstraints[0].whenUnsatisfiable`) },
  'scheduling.nodeSelector': { effect: field(DEPLOY, `${POD}.nodeSelector`) },
  'scheduling.tolerations': { value: [{ key: 'dedicated', operator: 'Equal', value: 'smtp', effect: 'NoSchedule' }], effect: field(DEPLOY, `${POD}.tolerations`) },
  'scheduling.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms': {
    // The list is required once its parent is given: the baseline holds another term.
    with: { 'scheduling.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution': { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'Exists' }] }] } },
    value: [{ matchExpressions: [{ key: 'egress.example.com/nat', operator: 'In', values: ['registered'] }] }],
    effect: field(DEPLOY, `${POD}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`),
  },
  'scheduling.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution': {
    value: [{ weight: 50, preference: { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a'] }] } }],
    effect: field(DEPLOY, `${POD}.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution`),
  },
  'scheduling.priorityClassName': { effect: field(DEPLOY, `${POD}.priorityClassName`) },
  'pod.annotations': { effect: field(DEPLOY, 'spec.template.metadata.annotations["example.org/settings-check"]') },
  'pod.labels': { effect: field(DEPLOY, 'spec.template.metadata.labels["example.org/settings-check"]') },
  'service.type': {
    value: 'LoadBalancer',
    alongside: { 'service.loadBalancerSourceRanges': ['203.0.113.0/24'] },
    effect: [field('Service/postfix-relay', 'spec.type'), field('Service/postfix-relay', 'spec.externalTrafficPolicy'), field(NP, 'spec.ingress[1].from[0].ipBlock.cidr'), mainCf('mynetworks')],
  },
  'service.loadBalancerSourceRanges': {
    with: { 'service.type': 'LoadBalancer', 'service.loadBalancerSourceRanges': ['198.51.100.0/24'] },
    value: ['203.0.113.0/24', '192.0.2.0/24'],
    effect: [field('Service/postfix-relay', 'spec.loadBalancerSourceRanges'), field(NP, 'spec.ingress[1].from'), mainCf('mynetworks')],
  },
  'service.annotations': { effect: field('Service/postfix-relay', 'metadata.annotations') },

  'argocd.enabled': { effect: field(APP, '') },
  'argocd.namespace': { effect: field(APP, 'metadata.namespace') },
  'argocd.project': { effect: field(APP, 'spec.project') },
  'argocd.repoURL': { effect: field(APP, 'spec.source.repoURL') },
  'argocd.path': { value: 'clusters/eu/settings', effect: field(APP, 'spec.source.path') },
  'argocd.layout': { value: 'branches', effect: field(APP, 'spec.source.targetRevision') },
  'argocd.targetRevision': { effect: field(APP, 'spec.source.targetRevision') },
  'argocd.destinationServer': { effect: field(APP, 'spec.destination.server') },
  'argocd.automated.prune': { effect: field(APP, 'spec.syncPolicy.automated.prune') },
  'argocd.automated.selfHeal': { effect: field(APP, 'spec.syncPolicy.automated.selfHeal') },
};
