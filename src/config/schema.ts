import { z } from 'zod';
import {
  cidr,
  cidrContains,
  clientRangesProblem,
  cpuMillis,
  cpuQuantity,
  dnsLabel,
  domainName,
  duration,
  durationMs,
  isCidr,
  labelKey,
  labels,
  labelValue,
  memoryBytes,
  memoryQuantity,
  port,
  PRIVATE_NETWORKS,
  queueLifetime,
  storageQuantity,
  webUrl,
} from './formats';
import { checkProbe, probeSection } from './sections/probe';
import { checkSlo, sloSection } from './sections/slo';
import { EXPORTER_IMAGE, EXPORTER_IMAGE_PROVENANCE, RELAY_IMAGE, RELAY_IMAGE_PROVENANCE } from './images';
import { checkRelayAuth, relayAuthSchema } from './sections/auth';
import { checkExtraMainCf, postfixSchema } from './sections/postfix';
import { checkRewrite, rewriteSchema, stripReceivedHeadersSchema } from './sections/rewrite';
import { dnsSubdomain } from './sections/kube';
import { checkPod, podSection } from './sections/pod';
import { checkScheduling, schedulingSection } from './sections/scheduling';
import { checkService, serviceSection } from './sections/service';
import { checkStrings } from './strings';

/**
 * The single source of truth for an environment file: validation, the TypeScript types
 * (`EnvironmentInput`, `EnvironmentConfig`), the JSON Schema for editors and the generated
 * configuration reference all come from here. Every field has a default, so an environment
 * file only states what differs.
 */

/**
 * Peak memory (MiB) the kubelet sees for a relay pod's Postfix container in a burst of clients
 * (its cgroup working set: processes, page cache of the queue and log, kernel memory), fitted to
 * the pod-limits benchmark on Postfix 3.10, the image's generation (docs/PERFORMANCE.md, "Process
 * limits"). 200 sessions against 200m CPU and 256 MiB peaked (highest of 4 rounds) at 160 MiB with
 * processLimit 30, 196 with 45, 210-225 with 60 and 252 with 80 (relayConcurrency 20), 197 with 60
 * and relayConcurrency 10; 100 was OOM-killed. Per step: about 2.1 MiB per process limit (an smtpd
 * of 1.4 MiB and its share of cleanup processes), 2.5 MiB per relay connection (smtp processes of
 * about 2.2 MiB, more of them than connections), 38 MiB of fixed daemons, the entrypoint and kernel
 * memory. It stays within 10 % below every measured peak (test/bench/performance-doc.test.ts), so
 * with the 80 % gate below a measured peak stays under 89 % of the limit.
 */
export function estimatedPeakMemoryMiB(processLimit: number, relayConcurrency: number): number {
  return 38 + processLimit * 2.1 + Math.min(processLimit, relayConcurrency) * 2.5;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const REPOSITORY = /^[a-z0-9]+([._\/-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

const image = (repository: string, tag: string) =>
  z
    .object({
      repository: z
        .string()
        .regex(REPOSITORY, { message: 'must be an image repository such as docker.io/library/postfix' })
        .default(repository)
        .describe('Image repository, without tag or digest.'),
      tag: z
        .string()
        .regex(TAG, { message: 'must be an image tag (letters, digits, "_", ".", "-")' })
        .default(tag)
        .describe('Image tag. Pin a released version: `latest` is refused outside the development tier.'),
      digest: z
        .string()
        .regex(DIGEST, { message: 'must be a digest of the form sha256:<64 hex digits>' })
        .optional()
        .describe('Image digest; when set it is used together with the tag (`repo:tag@sha256:...`) and pins the exact image.'),
      pullPolicy: z
        .enum(['IfNotPresent', 'Always', 'Never'])
        .default('IfNotPresent')
        .describe('Kubernetes imagePullPolicy.'),
      pullSecrets: z
        .array(dnsSubdomain)
        .refine((names) => new Set(names).size === names.length, { message: 'must not list a Secret twice' })
        .meta({ uniqueItems: true })
        .default([])
        .describe('Names of existing image pull Secrets (kubernetes.io/dockerconfigjson) in the namespace, for a private registry or mirror; the pod lists those of both images.'),
    })
    .strict();

const resourceQuantities = (cpu: string, memory: string) =>
  z
    .object({
      cpu: cpuQuantity.default(cpu).describe('CPU quantity (e.g. 100m).'),
      memory: memoryQuantity.default(memory).describe('Memory quantity (e.g. 128Mi).'),
    })
    .strict();

const resources = (req: [string, string], lim: [string, string]) =>
  z
    .object({
      requests: resourceQuantities(...req).prefault({}).describe('Resource requests.'),
      limits: resourceQuantities(...lim).prefault({}).describe('Resource limits; each must be at or above its request.'),
    })
    .strict();

const imageSchema = image(RELAY_IMAGE.repository, RELAY_IMAGE.tag);
const exporterImageSchema = image(EXPORTER_IMAGE.repository, EXPORTER_IMAGE.tag);

/** The environment's fields, before the rules across fields (the Helm values reuse its parts). */
export const environmentObject = z
  .object({
    tier: z
      .enum(['development', 'staging', 'production'])
      .default('production')
      .describe('What the environment is for. Production gets the strictest checks; `latest` images are accepted only in development.'),
    namespace: dnsLabel.describe('Namespace that every namespaced object is created in.'),
    image: imageSchema
      .prefault({})
      .describe(`The Postfix image. Its entrypoint is replaced: the rendered main.cf and master.cf are what runs. ${RELAY_IMAGE_PROVENANCE}`),
    replicas: z
      .number()
      .int()
      .min(1, { message: 'must be at least 1' })
      .max(100, { message: 'must be at most 100' })
      .default(2)
      .describe('Number of relay pods when autoscaling is off (the HPA owns the count when it is on).'),
    resources: resources(['100m', '128Mi'], ['200m', '256Mi']).prefault({}).describe('Resources of the postfix container.'),
    probes: z
      .object({
        initialDelaySeconds: z.number().int().min(0).max(600).default(30).describe('Delay before the first liveness and readiness probe.'),
        periodSeconds: z.number().int().min(1).max(300).default(5).describe('Probe period.'),
        timeoutSeconds: z.number().int().min(1).max(60).default(3).describe('Probe timeout.'),
        failureThreshold: z.number().int().min(1).max(30).default(3).describe('Failed probes before the pod is restarted (liveness) or removed from endpoints (readiness).'),
        startupFailureThreshold: z
          .number()
          .int()
          .min(1)
          .max(120)
          .default(24)
          .describe('Startup probe attempts (at periodSeconds) before the container is restarted.'),
      })
      .strict()
      .prefault({})
      .describe('Health checks: TCP on the SMTP port.'),
    terminationGracePeriodSeconds: z
      .number()
      .int()
      .min(10)
      .max(3600)
      .default(120)
      .describe('Time Kubernetes gives a stopping pod; the preStop drain ends well before it.'),
    network: z
      .object({
        clusterCidrs: z
          .array(cidr)
          .min(1)
          .default(['10.0.0.0/8'])
          .describe("The cluster's pod and service networks. mynetworks must lie inside them."),
        mynetworks: z
          .array(cidr)
          .min(1)
          .optional()
          .describe('Client networks Postfix relays for (mynetworks). Defaults to clusterCidrs; never wider.'),
        accessLabel: z
          .object({
            key: labelKey.default('email-server.kubernetes.io/smtp-access').describe('Label key.'),
            value: labelValue.default('true').describe('Label value.'),
          })
          .strict()
          .prefault({})
          .describe('Namespace label that grants access to the SMTP port through the NetworkPolicy.'),
        allowPublicClientNetworks: z
          .boolean()
          .default(false)
          .describe('Explicit override that lets clusterCidrs/mynetworks hold non-private ranges (for clusters whose pods use public addresses). Even then each list together may hold at most one IPv4 /8 and one IPv6 /32 of public addresses, and never a whole address family.'),
        dnsCidrs: z
          .array(cidr)
          .default([])
          .describe('Extra DNS servers outside the pod network the relay may query on port 53 (e.g. NodeLocal DNSCache 169.254.20.10/32).'),
        monitoringNamespace: dnsLabel.default('monitoring').describe('Namespace whose pods (Prometheus) may scrape the metrics port.'),
        relayCidrs: z
          .array(cidr)
          .min(1)
          .default(['0.0.0.0/0'])
          .describe("Addresses the relay may reach on relay.port (Google's relay has no fixed range)."),
      })
      .strict()
      .prefault({})
      .describe('Who may reach the relay, and where the relay may go.'),
    relay: z
      .object({
        host: domainName.default('smtp-relay.gmail.com').describe('The upstream relay (Google Workspace SMTP relay).'),
        port: port.default(587).describe('Upstream port: 587 (or 25) with STARTTLS; 465 is TLS from the first byte (smtp_tls_wrappermode), still verified at relay.tlsSecurityLevel.'),
        tlsSecurityLevel: z
          .enum(['none', 'may', 'encrypt', 'verify', 'secure'])
          .default('secure')
          .describe('smtp_tls_security_level to the relay. `secure` verifies the certificate against the CA bundle; `encrypt` encrypts without authenticating the relay and needs allowUnverifiedTls.'),
        allowUnverifiedTls: z
          .boolean()
          .default(false)
          .describe('Explicit override that permits `encrypt` (TLS without certificate verification). Documented in docs/POLICIES.md.'),
        caFile: z
          .string()
          .regex(/^\/[^\s]*$/, { message: 'must be an absolute path' })
          .default('/etc/ssl/certs/ca-certificates.crt')
          .describe('CA bundle inside the image used to verify the relay.'),
        ipVersion: z
          .enum(['ipv4', 'ipv6', 'all'])
          .default('ipv4')
          .describe('inet_protocols. Google matches the registered egress IPv4 addresses; IPv6 egress is usually not registered.'),
        connectionReuse: z
          .boolean()
          .default(true)
          .describe('Reuse TLS connections to the relay (tlsproxy): about 3x the throughput.'),
        auth: relayAuthSchema.optional().describe('SMTP AUTH to the relay with credentials from an existing Secret (Workspace "Require SMTP Authentication"); unset: IP-based authentication.'),
      })
      .strict()
      .prefault({})
      .describe('The upstream relay and TLS to it.'),
    mail: z
      .object({
        hostname: domainName.describe('FQDN used as myhostname and in HELO/EHLO to the relay; Google refuses localhost or IP literals.'),
        domain: domainName.describe('The Workspace mail domain (mydomain, myorigin).'),
        allowedSenderDomains: z
          .array(domainName)
          .min(1)
          .describe('Envelope sender domains accepted from clients; subdomains are not included.'),
        messageSizeLimitBytes: z
          .number()
          .int()
          .min(1024)
          .max(25 * 1024 * 1024, { message: 'must be at most 26214400 (25 MiB, the Gmail relay limit)' })
          .default(25 * 1000 * 1000)
          .describe('message_size_limit; the Gmail relay refuses about 25 MB and above.'),
        maxRecipientsPerMessage: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(100)
          .describe('Recipients accepted per message from a client (smtpd_recipient_limit).'),
        relayRecipientsPerTransaction: z
          .number()
          .int()
          .min(1)
          .max(100, { message: 'must be at most 100 (the Gmail relay limit per transaction)' })
          .default(100)
          .describe('Recipients per SMTP transaction to the relay; Postfix splits larger messages.'),
        holdRelayRefusals: z
          .boolean()
          .default(true)
          .describe(
            "Turn the Gmail relay's refusals that mean a problem on our side (550 5.7.0 Mail relay denied: an unregistered egress IP; 5.4.5: a sender's daily limit) into 4xx, so that mail waits in the queue (and alerts fire) instead of bouncing.",
          ),
        softBounce: z
          .boolean()
          .default(false)
          .describe('soft_bounce: keep mail that would bounce in the queue (useful outside production).'),
        rateLimits: z
          .object({
            connectionsPerMinute: z.number().int().min(0).default(0).describe('Connections per client per minute (0 = unlimited).'),
            messagesPerMinute: z.number().int().min(0).default(0).describe('Messages per client per minute (0 = unlimited).'),
            recipientsPerMinute: z.number().int().min(0).default(0).describe('Recipients per client per minute (0 = unlimited).'),
          })
          .strict()
          .prefault({})
          .describe('Per-client rate limits enforced by anvil.'),
        rewrite: rewriteSchema.prefault({}).describe('Sender rewriting for Workspace\'s "Only registered Apps users" setting (after the allowlist).'),
        stripReceivedHeaders: stripReceivedHeadersSchema,
      })
      .strict()
      .describe('Mail identity and limits.'),
    tuning: z
      .object({
        processLimit: z
          .number()
          .int()
          .min(5)
          .max(200)
          .default(30)
          .describe(
            'default_process_limit: at most this many smtpd (and cleanup, smtp, tlsproxy) processes, about 2.1 MiB of pod memory per step in a burst. Postfix also uses it as the listen backlog: about twice this many concurrent sessions fit a pod, later connections wait for TCP retransmissions (docs/PERFORMANCE.md).',
          ),
        relayConcurrency: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(20)
          .describe('Parallel (reused, TLS) connections to the relay: default_destination_concurrency_limit.'),
      })
      .strict()
      .prefault({})
      .describe('Postfix process limits: they bound the memory of a pod under a burst of clients (docs/PERFORMANCE.md).'),
    postfix: postfixSchema.prefault({}).describe('Postfix parameters the schema does not model (checked against Postfix\'s own parameter list).'),
    queue: z
      .object({
        persistence: z
          .object({
            enabled: z.boolean().default(false).describe('Keep the queue on a PersistentVolumeClaim per pod (StatefulSet).'),
            size: storageQuantity.default('1Gi').describe('Size of each queue volume.'),
            storageClassName: z.string().min(1).optional().describe('StorageClass of the queue volumes; the cluster default when unset.'),
          })
          .strict()
          .prefault({})
          .describe('Durable queue.'),
        drainDeadlineSeconds: z
          .number()
          .int()
          .min(5)
          .max(3000)
          .default(90)
          .describe('How long the preStop drain flushes before it gives up; must be below terminationGracePeriodSeconds.'),
        maximalQueueLifetime: queueLifetime.default('5d').describe('maximal_queue_lifetime: how long deferred mail is retried; above 0 and at most 100d (the most Postfix accepts).'),
      })
      .strict()
      .prefault({})
      .describe('The Postfix queue.'),
    metrics: z
      .object({
        enabled: z.boolean().default(true).describe('Run the postfix_exporter sidecar and its Service.'),
        port: port.default(8080).describe('Port of the exporter and of the postfix-relay-metrics Service.'),
        image: exporterImageSchema.prefault({}).describe(`The postfix_exporter image (Hsn723 fork). ${EXPORTER_IMAGE_PROVENANCE}`),
        resources: resources(['10m', '32Mi'], ['100m', '64Mi']).prefault({}).describe('Resources of the exporter sidecar.'),
        logSizeLimit: memoryQuantity.default('64Mi').describe('Size limit of the shared log volume (Postfix log file read by the exporter).'),
        logRotateBytes: z
          .number()
          .int()
          .min(1024 * 1024)
          .default(8 * 1024 * 1024)
          .describe('The log file is rotated at this size; one old file is kept.'),
      })
      .strict()
      .prefault({})
      .describe('Prometheus metrics.'),
    serviceMonitor: z
      .object({
        enabled: z.boolean().default(true).describe('Create a ServiceMonitor (needs the prometheus-operator CRDs).'),
        interval: duration.default('30s').describe('Scrape interval.'),
        scrapeTimeout: duration.default('10s').describe('Scrape timeout; at most serviceMonitor.interval (Prometheus refuses a longer one).'),
        labels: labels.default({}).describe('Extra labels on the ServiceMonitor, the Probe and the PrometheusRule (e.g. release: kube-prometheus-stack).'),
      })
      .strict()
      .prefault({})
      .describe('Prometheus Operator scrape configuration.'),
    alerts: z
      .object({
        enabled: z.boolean().default(true).describe('Create the PrometheusRule.'),
        queueSize: z.number().int().min(1).default(100).describe('PostfixRelayHighQueue fires above this many queued messages.'),
        bounceRatePerSecond: z.number().positive().default(0.1).describe('PostfixRelayHighBounceRate fires above this many bounces per second.'),
        oldestMessageAgeSeconds: z.number().int().min(60).default(1800).describe('PostfixRelayQueueStale fires when a queued message is older than this.'),
        memoryLimitRatio: z.number().gt(0).max(1).default(0.9).describe('Memory use / limit that raises PostfixRelayMemoryNearLimit.'),
        cpuThrottleRatio: z.number().gt(0).max(1).default(0.25).describe('Share of throttled CFS periods that raises PostfixRelayCpuThrottled.'),
        for: duration.default('5m').describe('How long a condition must hold before most alerts fire.'),
        runbookBaseUrl: webUrl({ schemes: ['https', 'http'], example: 'https://example.com/docs/RUNBOOK.md' })
          .default('https://github.com/bionicaisolutions/email-server/blob/main/docs/RUNBOOK.md')
          .describe('Runbook document: an https:// (or http://) URL without #fragment; each alert links to its own anchor.'),
      })
      .strict()
      .prefault({})
      .describe('Alert thresholds.'),
    dashboard: z
      .object({
        enabled: z.boolean().default(true).describe('Create the Grafana dashboard ConfigMap (label grafana_dashboard: "1").'),
      })
      .strict()
      .prefault({})
      .describe('Grafana dashboard.'),
    probe: probeSection.prefault({}).describe('Client-side SMTP probe through a blackbox exporter (prometheus-operator Probe).'),
    slo: sloSection.prefault({}).describe('Service level objectives, their recording rules and burn-rate alerts (docs/SLO.md).'),
    autoscaling: z
      .object({
        enabled: z.boolean().default(false).describe('Create a HorizontalPodAutoscaler (the workload then has no replicas field).'),
        minReplicas: z.number().int().min(1).default(2).describe('HPA minimum.'),
        maxReplicas: z.number().int().min(1).max(100).default(10).describe('HPA maximum.'),
        cpuTargetPercent: z.number().int().min(10).max(100).default(70).describe('Target average CPU utilisation.'),
        scaleDown: z
          .object({
            stabilizationWindowSeconds: z
              .number()
              .int()
              .min(600, { message: 'must be at least 600 (10 minutes): scale-down drains queues' })
              .max(3600)
              .default(600)
              .describe('Scale-down stabilization window.'),
            podsPerPeriod: z.number().int().min(1).max(1, { message: 'must be 1: pods are removed one at a time' }).default(1).describe('Pods removed per period.'),
            periodSeconds: z.number().int().min(60).max(1800).default(300).describe('Scale-down period.'),
          })
          .strict()
          .prefault({})
          .describe('Conservative scale-down.'),
      })
      .strict()
      .prefault({})
      .describe('Horizontal Pod Autoscaler.'),
    podDisruptionBudget: z
      .object({
        enabled: z.boolean().default(true).describe('Create a PodDisruptionBudget.'),
        minAvailable: z.number().int().min(0).default(1).describe('Pods that must stay available during voluntary disruptions.'),
      })
      .strict()
      .prefault({})
      .describe('PodDisruptionBudget (policy/v1).'),
    topologySpread: z
      .object({
        enabled: z.boolean().default(true).describe('Spread relay pods across nodes.'),
        maxSkew: z.number().int().min(1).default(1).describe('Maximum skew.'),
        topologyKey: labelKey.default('kubernetes.io/hostname').describe('Topology key.'),
        whenUnsatisfiable: z.enum(['ScheduleAnyway', 'DoNotSchedule']).default('ScheduleAnyway').describe('What the scheduler does when the spread cannot be met.'),
      })
      .strict()
      .prefault({})
      .describe('Topology spread constraint.'),
    scheduling: schedulingSection,
    pod: podSection,
    service: serviceSection,
    argocd: z
      .object({
        enabled: z.boolean().default(true).describe('Write an Argo CD Application for this environment to dist/argocd/.'),
        namespace: dnsLabel.default('argocd').describe('Namespace Argo CD runs in.'),
        project: z.string().min(1).default('default').describe('Argo CD project.'),
        repoURL: z.string().min(1).default('https://github.com/bionicaisolutions/email-server-gitops.git').describe('GitOps repository that `npm run gitops-publish` writes to (its `--repo`).'),
        path: z
          .string()
          .min(1)
          .optional()
          .describe('Folder of this environment in the GitOps repository. Leave it out: it is the environment name, the folder `npm run gitops-publish` writes; any other value is refused.'),
        layout: z
          .enum(['folders', 'branches'])
          .default('folders')
          .describe('GitOps repository layout (`npm run gitops-publish --layout`): `folders` puts every environment in its own folder of one branch; `branches` gives each environment its own branch `env/<name>`.'),
        targetRevision: z
          .string()
          .min(1)
          .optional()
          .describe('Branch Argo CD follows. Unset: `main` with the folders layout (set it to the `--branch` you publish to), `env/<name>` with the branches layout.'),
        destinationServer: webUrl({ schemes: ['https'], example: 'https://kubernetes.default.svc' })
          .default('https://kubernetes.default.svc').describe('Cluster API server: an https:// URL.'),
        automated: z
          .object({
            prune: z.boolean().default(true).describe('Delete objects removed from Git.'),
            selfHeal: z.boolean().default(true).describe('Revert drift in the cluster.'),
          })
          .strict()
          .optional()
          .describe('Automated sync; manual sync when unset.'),
      })
      .strict()
      .prefault({})
      .describe('Argo CD Application.'),
  })
  .strict();

export const environmentSchema = environmentObject
  .superRefine((env, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    checkStrings(env, issue);
    checkProbe(env, issue);
    checkSlo(env, issue);
    // zod runs this refinement even when a field failed its own format check (the object's shape
    // is intact): compare only values that passed, so a bad field gets its own message, not a crash.
    const isCpu = (q: string) => cpuQuantity.safeParse(q).success;
    const isMemory = (q: string) => memoryQuantity.safeParse(q).success;

    for (const [path, img] of [
      [['image'], env.image],
      [['metrics', 'image'], env.metrics.image],
    ] as const) {
      if (img.tag === 'latest' && !img.digest && env.tier !== 'development') {
        issue([...path, 'tag'], `"latest" is not allowed in the ${env.tier} tier: pin a released tag or a digest`);
      }
    }

    for (const [path, res] of [
      [['resources'], env.resources],
      [['metrics', 'resources'], env.metrics.resources],
    ] as const) {
      if (isCpu(res.limits.cpu) && isCpu(res.requests.cpu) && cpuMillis(res.limits.cpu) < cpuMillis(res.requests.cpu)) {
        issue([...path, 'limits', 'cpu'], `limit ${res.limits.cpu} is below the request ${res.requests.cpu}`);
      }
      if (isMemory(res.limits.memory) && isMemory(res.requests.memory) && memoryBytes(res.limits.memory) < memoryBytes(res.requests.memory)) {
        issue([...path, 'limits', 'memory'], `limit ${res.limits.memory} is below the request ${res.requests.memory}`);
      }
    }

    const hpa = env.autoscaling;
    if (hpa.enabled && hpa.maxReplicas < hpa.minReplicas) {
      issue(['autoscaling', 'maxReplicas'], `${hpa.maxReplicas} is below autoscaling.minReplicas (${hpa.minReplicas})`);
    }

    if (env.tier !== 'development') {
      const min = hpa.enabled ? hpa.minReplicas : env.replicas;
      if (min === 1) {
        issue(
          hpa.enabled ? ['autoscaling', 'minReplicas'] : ['replicas'],
          `${min} pod leaves the ${env.tier} relay down during every rollout and node drain: use at least 2 (or tier: development)`,
        );
      }
      if (!env.podDisruptionBudget.enabled) {
        issue(['podDisruptionBudget', 'enabled'], `false lets a node drain take every ${env.tier} relay pod at once: keep the PodDisruptionBudget on`);
      }
    }

    const memLimit = env.resources.limits.memory;
    if (isMemory(memLimit)) {
      const estimate = estimatedPeakMemoryMiB(env.tuning.processLimit, env.tuning.relayConcurrency);
      const limitMiB = memoryBytes(memLimit) / 1024 ** 2;
      if (estimate > 0.8 * limitMiB) {
        issue(
          ['tuning', 'processLimit'],
          `${env.tuning.processLimit} processes need about ${Math.round(estimate)} MiB at full load, over 80% of resources.limits.memory (${memLimit}): lower tuning.processLimit/relayConcurrency or raise the limit`,
        );
      }
    }

    if (env.tuning.relayConcurrency > env.tuning.processLimit) {
      issue(['tuning', 'relayConcurrency'], `${env.tuning.relayConcurrency} is above tuning.processLimit (${env.tuning.processLimit}), which caps the smtp processes too`);
    }

    checkRelayAuth(env, issue);
    checkRewrite(env, issue);
    checkExtraMainCf(env, issue);

    const pdb = env.podDisruptionBudget;
    const minScale = hpa.enabled ? hpa.minReplicas : env.replicas;
    if (pdb.enabled && pdb.minAvailable >= minScale) {
      issue(
        ['podDisruptionBudget', 'minAvailable'],
        `${pdb.minAvailable} must be below the minimum number of pods (${minScale}${hpa.enabled ? ', autoscaling.minReplicas' : ', replicas'}): otherwise no node can ever be drained`,
      );
    }

    if (env.metrics.enabled && env.metrics.port === 25) {
      issue(['metrics', 'port'], '25 is the SMTP port: choose another metrics port');
    }

    if (!env.network.allowPublicClientNetworks) {
      for (const [field, list] of [
        ['clusterCidrs', env.network.clusterCidrs],
        ['mynetworks', env.network.mynetworks ?? []],
      ] as const) {
        list.forEach((net, i) => {
          if (isCidr(net) && !net.endsWith('/0') && !PRIVATE_NETWORKS.some((p) => cidrContains(p, net))) {
            issue(
              ['network', field, i],
              `${net} is not a private network (${PRIVATE_NETWORKS.join(', ')}): relaying for public addresses makes an open relay; set network.allowPublicClientNetworks: true if your pods really use public addresses`,
            );
          }
        });
      }
    }

    // Client ranges are judged as a whole: 0.0.0.0/1 + 128.0.0.0/1 is 0.0.0.0/0.
    for (const [field, list] of [
      ['clusterCidrs', env.network.clusterCidrs],
      ['mynetworks', env.network.mynetworks],
    ] as const) {
      // A literal /0 in mynetworks has its own message below.
      const problem = list && !(field === 'mynetworks' && list.some((net) => net.endsWith('/0'))) ? clientRangesProblem(list) : undefined;
      if (problem) issue(['network', field], problem);
    }

    const mynetworks = env.network.mynetworks ?? env.network.clusterCidrs;
    const clusterCidrsValid = env.network.clusterCidrs.every(isCidr);
    mynetworks.forEach((net, i) => {
      if (!isCidr(net)) {
        return; // its own "must be a CIDR" issue is already reported
      } else if (net.endsWith('/0')) {
        issue(['network', 'mynetworks', i], `${net} would make an open relay: list the cluster's pod networks`);
      } else if (clusterCidrsValid && !env.network.clusterCidrs.some((c) => cidrContains(c, net))) {
        issue(['network', 'mynetworks', i], `${net} is not inside network.clusterCidrs (${env.network.clusterCidrs.join(', ')})`);
      }
    });

    const interval = durationMs(env.serviceMonitor.interval);
    const scrapeTimeout = durationMs(env.serviceMonitor.scrapeTimeout);
    if (interval !== undefined && scrapeTimeout !== undefined && scrapeTimeout > interval) {
      issue(['serviceMonitor', 'scrapeTimeout'], `${env.serviceMonitor.scrapeTimeout} is longer than serviceMonitor.interval (${env.serviceMonitor.interval}): Prometheus refuses the scrape configuration`);
    }

    const weak = ['none', 'may'];
    if (weak.includes(env.relay.tlsSecurityLevel)) {
      issue(['relay', 'tlsSecurityLevel'], `"${env.relay.tlsSecurityLevel}" could send mail in clear text: use "secure" (or "verify")`);
    } else if (env.relay.tlsSecurityLevel === 'encrypt' && !env.relay.allowUnverifiedTls) {
      issue(['relay', 'tlsSecurityLevel'], '"encrypt" does not authenticate the relay: use "secure", or set relay.allowUnverifiedTls: true to accept the risk');
    }

    checkScheduling(env, issue);
    checkPod(env, issue);
    checkService(env, issue);

    if (env.queue.drainDeadlineSeconds + 10 > env.terminationGracePeriodSeconds) {
      issue(
        ['queue', 'drainDeadlineSeconds'],
        `${env.queue.drainDeadlineSeconds} must be at least 10 s below terminationGracePeriodSeconds (${env.terminationGracePeriodSeconds})`,
      );
    }
  })
  .transform((env) => ({
    ...env,
    network: { ...env.network, mynetworks: env.network.mynetworks ?? env.network.clusterCidrs },
  }));

/** What an environment file may contain (defaults optional). */
export type EnvironmentInput = z.input<typeof environmentSchema>;

/** A validated environment with every default resolved, plus its name (the file's base name). */
export type EnvironmentConfig = z.output<typeof environmentSchema> & { readonly name: string };
