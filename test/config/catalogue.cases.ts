/**
 * The bad-config catalogue: environment files a user could plausibly write, each with the exact
 * problems synth must answer with. `expected` lines are prefixed with the file path by the test.
 * A case gives either a mutation of a small valid file (`set`, `unset`) or the raw file `text`.
 */
export interface BadConfigCase {
  readonly title: string;
  /** File name (environment name) when it matters; default `bad.yaml`. */
  readonly file?: string;
  /** Paths to set, dotted, on the valid base file. */
  readonly set?: Readonly<Record<string, unknown>>;
  readonly unset?: readonly string[];
  /** The whole file, instead of a mutation. */
  readonly text?: string;
  /** Other files in the same environments folder. */
  readonly siblings?: Readonly<Record<string, string>>;
  /** `<field.path>: <what is allowed> (got <value>)`, prefixed with `<file>: `; or starting with `{dir}/<other file>: `. */
  readonly expected: readonly string[];
}

/** Ten levels of ten aliases each: the "billion laughs" of YAML. */
const ALIAS_BOMB = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefghij'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(', ')}]`)].join('\n');

/** A valid, nearly minimal production environment. */
export const BASE = {
  tier: 'production',
  namespace: 'email-server-cat',
  mail: { hostname: 'mail.example.com', domain: 'example.com', allowedSenderDomains: ['example.com'] },
};

export const CASES: readonly BadConfigCase[] = [
  // --- structure and unknown keys -------------------------------------------------------------
  {
    title: 'a misspelt top-level field', set: { replica: 2 },
    expected: [
      'replica: unknown field "replica"; did you mean replicas? (allowed: tier, namespace, image, replicas, resources, probes, terminationGracePeriodSeconds, network, relay, mail, tuning, postfix, queue, metrics, serviceMonitor, alerts, dashboard, probe, slo, autoscaling, podDisruptionBudget, topologySpread, scheduling, pod, service, argocd) (got 2)',
    ],
  },
  {
    title: 'a misspelt nested field', set: { 'mail.hostName': 'mail.example.com' },
    expected: [
      'mail.hostName: unknown field "hostName"; did you mean hostname? (allowed: hostname, domain, allowedSenderDomains, messageSizeLimitBytes, maxRecipientsPerMessage, relayRecipientsPerTransaction, holdRelayRefusals, softBounce, rateLimits, rewrite, stripReceivedHeaders) (got "mail.example.com")',
    ],
  },
  {
    title: 'namespace missing', unset: ['namespace'],
    expected: [
      'namespace: is required (string)',
    ],
  },
  {
    title: 'mail.hostname missing', unset: ['mail.hostname'],
    expected: [
      'mail.hostname: is required (string)',
    ],
  },
  {
    title: 'mail given as a string', set: { mail: 'mail.example.com' },
    expected: [
      'mail: must be an object (got "mail.example.com")',
    ],
  },
  {
    title: 'an empty file', text: '',
    expected: [
      'namespace: is required (string)',
      'mail: is required (object)',
    ],
  },
  {
    title: 'not YAML', text: 'namespace: [unclosed\n',
    expected: [
      'line 2, column 1: is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  },
  {
    title: 'a list instead of a mapping', text: '- namespace: x\n',
    expected: [
      '(top level): must be a YAML mapping of fields (see docs/CONFIG-REFERENCE.md) (got [{"namespace":"x"}])',
    ],
  },
  {
    title: 'a duplicate key', text: 'namespace: a\nnamespace: b\n',
    expected: [
      'line 2, column 1: duplicate key "namespace" (first at line 1, column 1): keep one of the two',
    ],
  },
  {
    title: 'a file name that is not an environment name', file: 'Prod_EU.yaml',
    expected: [
      '(file name): the file name is the environment name: lower-case letters, digits and "-", at most 40 characters (got "Prod_EU")',
    ],
  },
  {
    title: 'two environments in one namespace', siblings: { 'other.yaml': 'namespace: email-server-cat\nmail: { hostname: mail.example.com, domain: example.com, allowedSenderDomains: [example.com] }\n' },
    expected: [
      '{dir}/other.yaml: namespace: is already used by {dir}/bad.yaml (environment "bad"): each environment needs a namespace of its own (got "email-server-cat")',
    ],
  },
  {
    title: 'a copied environment whose Argo CD path is still the original\'s folder', file: 'qa.yaml', set: { namespace: 'email-server-qa', 'argocd.path': 'staging' },
    siblings: { 'staging.yaml': 'namespace: email-server-staging\nmail: { hostname: mail.example.com, domain: example.com, allowedSenderDomains: [example.com] }\n' },
    expected: [
      'argocd.path: is the folder of {dir}/staging.yaml: the qa Application would sync staging\'s manifests into email-server-qa. Leave argocd.path out: it defaults to the environment name ("qa") (got "staging")',
    ],
  },
  {
    title: 'an Argo CD path that is not the environment\'s own folder', set: { 'argocd.path': 'clusters/eu/bad' },
    expected: [
      'argocd.path: must be "bad", the folder npm run gitops-publish writes this environment to (leave it out: that is the default) (got "clusters/eu/bad")',
    ],
  },
  {
    title: 'a branch per environment with a revision that is not the environment\'s branch', set: { 'argocd.layout': 'branches', 'argocd.targetRevision': 'main' },
    expected: [
      'argocd.targetRevision: must be "env/bad" with argocd.layout: branches, the branch npm run gitops-publish --layout branches writes this environment to (leave it out: that is the default) (got "main")',
    ],
  },
  {
    title: 'two environments of one GitOps repository on different branches (folders layout)', set: { 'argocd.targetRevision': 'release' },
    siblings: { 'other.yaml': 'namespace: email-server-other\nmail: { hostname: mail.example.com, domain: example.com, allowedSenderDomains: [example.com] }\nargocd: { repoURL: "git@github.com:bionicaisolutions/email-server-gitops" }\n' },
    expected: [
      '{dir}/other.yaml: argocd.targetRevision: differs from "release" in {dir}/bad.yaml, which publishes to the same repository: with the folders layout npm run gitops-publish writes every environment to one branch (argocd.layout: branches gives each environment its own) (got "main")',
    ],
  },
  {
    title: 'two environments of one GitOps repository with different layouts', set: { 'argocd.layout': 'branches' },
    siblings: { 'other.yaml': 'namespace: email-server-other\nmail: { hostname: mail.example.com, domain: example.com, allowedSenderDomains: [example.com] }\n' },
    expected: [
      '{dir}/other.yaml: argocd.layout: differs from "branches" in {dir}/bad.yaml, which publishes to the same repository: npm run gitops-publish writes every environment of a repository with one layout (got "folders")',
    ],
  },
  {
    title: 'an alias without its anchor', text: 'namespace: *ns\n',
    expected: [
      '(top level): is not valid YAML: Unresolved alias (the anchor must be set before the alias): ns',
    ],
  },
  {
    title: 'an alias bomb', text: ALIAS_BOMB,
    expected: [
      '(top level): is not valid YAML: Excessive alias count indicates a resource exhaustion attack',
    ],
  },
  {
    title: 'a value that contains itself', text: 'namespace: &x [*x]\nmail: { hostname: mail.example.com, domain: example.com, allowedSenderDomains: [example.com] }\n',
    expected: [
      'namespace: must be a string (got a self-referencing value)',
    ],
  },
  // --- identity --------------------------------------------------------------------------------
  {
    title: 'tier misspelt', set: { tier: 'prod' },
    expected: [
      'tier: must be one of "development", "staging", "production" (got "prod")',
    ],
  },
  {
    title: 'namespace with capitals', set: { namespace: 'Email-Server' },
    expected: [
      'namespace: must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit (got "Email-Server")',
    ],
  },
  {
    title: 'namespace longer than 63 characters', set: { namespace: 'e'.repeat(64) },
    expected: [
      'namespace: must be at most 63 characters (got "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")',
    ],
  },
  // --- images ---------------------------------------------------------------------------------
  {
    title: 'latest in production', set: { 'image.tag': 'latest' },
    expected: [
      'image.tag: "latest" is not allowed in the production tier: pin a released tag or a digest (got "latest")',
    ],
  },
  {
    title: 'latest exporter in staging', set: { tier: 'staging', 'metrics.image.tag': 'latest' },
    expected: [
      'metrics.image.tag: "latest" is not allowed in the staging tier: pin a released tag or a digest (got "latest")',
    ],
  },
  {
    title: 'a truncated digest', set: { 'image.digest': 'sha256:abc' },
    expected: [
      'image.digest: must be a digest of the form sha256:<64 hex digits> (got "sha256:abc")',
    ],
  },
  {
    title: 'a repository with capitals', set: { 'image.repository': 'Docker.io/Postfix' },
    expected: [
      'image.repository: must be an image repository such as docker.io/library/postfix (got "Docker.io/Postfix")',
    ],
  },
  {
    title: 'a pull policy in the wrong case', set: { 'image.pullPolicy': 'always' },
    expected: [
      'image.pullPolicy: must be one of "IfNotPresent", "Always", "Never" (got "always")',
    ],
  },
  // --- scale and resources ----------------------------------------------------------------------
  {
    title: 'zero replicas', set: { replicas: 0 },
    expected: [
      'replicas: must be at least 1 (got 0)',
      'podDisruptionBudget.minAvailable: 1 must be below the minimum number of pods (0, replicas): otherwise no node can ever be drained',
    ],
  },
  {
    title: 'replicas as a string', set: { replicas: '2' },
    expected: [
      'replicas: must be a number (got "2")',
    ],
  },
  {
    title: 'fractional replicas', set: { replicas: 2.5 },
    expected: [
      'replicas: must be an int (got 2.5)',
    ],
  },
  {
    title: 'a cpu limit below its request', set: { 'resources.limits.cpu': '50m' },
    expected: [
      'resources.limits.cpu: limit 50m is below the request 100m (got "50m")',
    ],
  },
  {
    title: 'an exporter memory limit below its request', set: { 'metrics.resources.limits.memory': '16Mi' },
    expected: [
      'metrics.resources.limits.memory: limit 16Mi is below the request 32Mi (got "16Mi")',
    ],
  },
  {
    title: 'a cpu quantity in megabytes', set: { 'resources.requests.cpu': '100M' },
    expected: [
      'resources.requests.cpu: must be a CPU quantity such as 100m or 0.5 (got "100M")',
    ],
  },
  {
    title: 'a memory quantity in MB', set: { 'resources.requests.memory': '128MB' },
    expected: [
      'resources.requests.memory: must be a memory quantity such as 128Mi or 1Gi (got "128MB")',
    ],
  },
  {
    title: 'a probe period of zero', set: { 'probes.periodSeconds': 0 },
    expected: [
      'probes.periodSeconds: must be at least 1 (got 0)',
    ],
  },
  {
    title: 'a grace period too short', set: { terminationGracePeriodSeconds: 5 },
    expected: [
      'terminationGracePeriodSeconds: must be at least 10 (got 5)',
      'queue.drainDeadlineSeconds: 90 must be at least 10 s below terminationGracePeriodSeconds (5)',
    ],
  },
  {
    title: 'a drain deadline beyond the grace period', set: { 'queue.drainDeadlineSeconds': 200 },
    expected: [
      'queue.drainDeadlineSeconds: 200 must be at least 10 s below terminationGracePeriodSeconds (120) (got 200)',
    ],
  },
  {
    title: 'a memory limit that is not a quantity', set: { 'resources.limits.memory': 'lots' },
    expected: [
      'resources.limits.memory: must be a memory quantity such as 128Mi or 1Gi (got "lots")',
    ],
  },
  // --- network ----------------------------------------------------------------------------------
  {
    title: 'a cluster network without a prefix', set: { 'network.clusterCidrs': ['10.0.0.0'] },
    expected: [
      'network.clusterCidrs.0: must be a CIDR such as 10.0.0.0/8 or fd00::/8 (got "10.0.0.0")',
    ],
  },
  {
    title: 'no cluster networks', set: { 'network.clusterCidrs': [] },
    expected: [
      'network.clusterCidrs: must list at least 1 item(s) (got [])',
    ],
  },
  {
    title: 'mynetworks open to the world', set: { 'network.mynetworks': ['0.0.0.0/0'] },
    expected: [
      'network.mynetworks.0: 0.0.0.0/0 would make an open relay: list the cluster\'s pod networks (got "0.0.0.0/0")',
    ],
  },
  {
    title: 'mynetworks outside the cluster', set: { 'network.mynetworks': ['10.0.0.0/16', '192.168.0.0/16'] },
    expected: [
      'network.mynetworks.1: 192.168.0.0/16 is not inside network.clusterCidrs (10.0.0.0/8) (got "192.168.0.0/16")',
    ],
  },
  {
    title: 'an IPv6 mynetworks in an IPv4 cluster', set: { 'network.mynetworks': ['fd00::/8'] },
    expected: [
      'network.mynetworks.0: fd00::/8 is not inside network.clusterCidrs (10.0.0.0/8) (got "fd00::/8")',
    ],
  },
  {
    title: 'an access label key with a space', set: { 'network.accessLabel.key': 'smtp access' },
    expected: [
      'network.accessLabel.key: must be a Kubernetes label key such as example.com/name (got "smtp access")',
    ],
  },
  {
    title: 'a monitoring namespace with capitals', set: { 'network.monitoringNamespace': 'Monitoring' },
    expected: [
      'network.monitoringNamespace: must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit (got "Monitoring")',
    ],
  },
  {
    title: 'a mynetworks entry that is not a CIDR', set: { 'network.mynetworks': ['10.0.0.0/8', 'pods'] },
    expected: [
      'network.mynetworks.1: must be a CIDR such as 10.0.0.0/8 or fd00::/8 (got "pods")',
    ],
  },
  {
    title: 'a cluster network that is not a CIDR', set: { 'network.clusterCidrs': ['10.0.0.0/8', 'cluster'] },
    expected: [
      'network.clusterCidrs.1: must be a CIDR such as 10.0.0.0/8 or fd00::/8 (got "cluster")',
    ],
  },
  // --- relay ------------------------------------------------------------------------------------
  {
    title: 'a relay port above 65535', set: { 'relay.port': 70000 },
    expected: [
      'relay.port: must be a port from 1 to 65535 (got 70000)',
    ],
  },
  {
    title: 'relay port zero', set: { 'relay.port': 0 },
    expected: [
      'relay.port: must be a port from 1 to 65535 (got 0)',
    ],
  },
  {
    title: 'a relay host with a space', set: { 'relay.host': 'smtp relay.gmail.com' },
    expected: [
      'relay.host: must be a fully qualified domain name such as example.com (got "smtp relay.gmail.com")',
    ],
  },
  {
    title: 'opportunistic TLS to the relay', set: { 'relay.tlsSecurityLevel': 'may' },
    expected: [
      'relay.tlsSecurityLevel: "may" could send mail in clear text: use "secure" (or "verify") (got "may")',
    ],
  },
  {
    title: 'no TLS even with the override', set: { 'relay.tlsSecurityLevel': 'none', 'relay.allowUnverifiedTls': true },
    expected: [
      'relay.tlsSecurityLevel: "none" could send mail in clear text: use "secure" (or "verify") (got "none")',
    ],
  },
  {
    title: 'unverified TLS without the override', set: { 'relay.tlsSecurityLevel': 'encrypt' },
    expected: [
      'relay.tlsSecurityLevel: "encrypt" does not authenticate the relay: use "secure", or set relay.allowUnverifiedTls: true to accept the risk (got "encrypt")',
    ],
  },
  {
    title: 'a TLS level Postfix does not know', set: { 'relay.tlsSecurityLevel': 'tls' },
    expected: [
      'relay.tlsSecurityLevel: must be one of "none", "may", "encrypt", "verify", "secure" (got "tls")',
    ],
  },
  {
    title: 'the override as a string', set: { 'relay.tlsSecurityLevel': 'encrypt', 'relay.allowUnverifiedTls': 'yes' },
    expected: [
      'relay.allowUnverifiedTls: must be a boolean (got "yes")',
    ],
  },
  {
    title: 'a relative CA file', set: { 'relay.caFile': 'certs/ca.crt' },
    expected: [
      'relay.caFile: must be an absolute path (got "certs/ca.crt")',
    ],
  },
  // --- mail -------------------------------------------------------------------------------------
  {
    title: 'localhost as HELO name', set: { 'mail.hostname': 'localhost' },
    expected: [
      'mail.hostname: must be a fully qualified domain name such as example.com (got "localhost")',
    ],
  },
  {
    title: 'a mail domain without a dot', set: { 'mail.domain': 'example' },
    expected: [
      'mail.domain: must be a fully qualified domain name such as example.com (got "example")',
    ],
  },
  {
    title: 'no allowed sender domains', set: { 'mail.allowedSenderDomains': [] },
    expected: [
      'mail.allowedSenderDomains: must list at least 1 item(s) (got [])',
    ],
  },
  {
    title: 'a wildcard sender domain', set: { 'mail.allowedSenderDomains': ['*.example.com'] },
    expected: [
      'mail.allowedSenderDomains.0: must be a fully qualified domain name such as example.com (got "*.example.com")',
    ],
  },
  {
    title: 'a message size above the Gmail limit', set: { 'mail.messageSizeLimitBytes': 50_000_000 },
    expected: [
      'mail.messageSizeLimitBytes: must be at most 26214400 (25 MiB, the Gmail relay limit) (got 50000000)',
    ],
  },
  {
    title: 'more recipients per transaction than Gmail takes', set: { 'mail.relayRecipientsPerTransaction': 500 },
    expected: [
      'mail.relayRecipientsPerTransaction: must be at most 100 (the Gmail relay limit per transaction) (got 500)',
    ],
  },
  {
    title: 'a negative rate limit', set: { 'mail.rateLimits.messagesPerMinute': -1 },
    expected: [
      'mail.rateLimits.messagesPerMinute: must be at least 0 (got -1)',
    ],
  },
  {
    title: 'soft_bounce as yes', set: { 'mail.softBounce': 'yes' },
    expected: [
      'mail.softBounce: must be a boolean (got "yes")',
    ],
  },
  // --- queue, metrics, alerts ---------------------------------------------------------------------
  {
    title: 'a queue size in GB', set: { 'queue.persistence.size': '2GB' },
    expected: [
      'queue.persistence.size: must be a memory quantity such as 128Mi or 1Gi (got "2GB")',
    ],
  },
  {
    title: 'a queue lifetime in words', set: { 'queue.maximalQueueLifetime': '5 days' },
    expected: [
      'queue.maximalQueueLifetime: must be a duration such as 30s, 5m or 1h30m (units d, h, m, s, ms, largest first, each once) (got "5 days")',
    ],
  },
  {
    title: 'metrics on the SMTP port', set: { 'metrics.port': 25 },
    expected: [
      'metrics.port: 25 is the SMTP port: choose another metrics port (got 25)',
    ],
  },
  {
    title: 'a metrics port given by name', set: { 'metrics.port': 'metrics' },
    expected: [
      'metrics.port: must be a number (got "metrics")',
    ],
  },
  {
    title: 'a scrape interval without a unit', set: { 'serviceMonitor.interval': '30' },
    expected: [
      'serviceMonitor.interval: must be a duration such as 30s, 5m or 1h30m (units d, h, m, s, ms, largest first, each once) (got "30")',
    ],
  },
  {
    title: 'a ServiceMonitor label value with a space', set: { 'serviceMonitor.labels': { release: 'kube prometheus' } },
    expected: [
      'serviceMonitor.labels.release: must be a Kubernetes label value (63 characters of letters, digits, "-", "_", ".") (got "kube prometheus")',
    ],
  },
  {
    title: 'a bounce-rate threshold of zero', set: { 'alerts.bounceRatePerSecond': 0 },
    expected: [
      'alerts.bounceRatePerSecond: must be above 0 (got 0)',
    ],
  },
  {
    title: 'a memory ratio above 1', set: { 'alerts.memoryLimitRatio': 1.5 },
    expected: [
      'alerts.memoryLimitRatio: must be at most 1 (got 1.5)',
    ],
  },
  {
    title: 'a runbook that is not a URL', set: { 'alerts.runbookBaseUrl': 'docs/RUNBOOK.md' },
    expected: [
      'alerts.runbookBaseUrl: must be an https:// or http:// URL such as https://example.com/docs/RUNBOOK.md, with no credentials, #fragment, spaces, quotes, braces or template syntax (got "docs/RUNBOOK.md")',
    ],
  },
  // --- autoscaling and disruption ---------------------------------------------------------------
  {
    title: 'HPA maximum below its minimum', set: { 'autoscaling.enabled': true, 'autoscaling.minReplicas': 3, 'autoscaling.maxReplicas': 2 },
    expected: [
      'autoscaling.maxReplicas: 2 is below autoscaling.minReplicas (3) (got 2)',
    ],
  },
  {
    title: 'a short scale-down window', set: { 'autoscaling.enabled': true, 'autoscaling.scaleDown.stabilizationWindowSeconds': 60 },
    expected: [
      'autoscaling.scaleDown.stabilizationWindowSeconds: must be at least 600 (10 minutes): scale-down drains queues (got 60)',
    ],
  },
  {
    title: 'a CPU target above 100%', set: { 'autoscaling.cpuTargetPercent': 150 },
    expected: [
      'autoscaling.cpuTargetPercent: must be at most 100 (got 150)',
    ],
  },
  {
    title: 'a PDB that blocks every drain', set: { replicas: 2, 'podDisruptionBudget.minAvailable': 2 },
    expected: [
      'podDisruptionBudget.minAvailable: 2 must be below the minimum number of pods (2, replicas): otherwise no node can ever be drained (got 2)',
    ],
  },
  {
    title: 'a PDB that blocks drains at the HPA minimum', set: { 'autoscaling.enabled': true, 'autoscaling.minReplicas': 2, 'podDisruptionBudget.minAvailable': 2 },
    expected: [
      'podDisruptionBudget.minAvailable: 2 must be below the minimum number of pods (2, autoscaling.minReplicas): otherwise no node can ever be drained (got 2)',
    ],
  },
  {
    title: 'one replica with the default PDB', set: { replicas: 1 },
    expected: [
      'replicas: 1 pod leaves the production relay down during every rollout and node drain: use at least 2 (or tier: development) (got 1)',
      'podDisruptionBudget.minAvailable: 1 must be below the minimum number of pods (1, replicas): otherwise no node can ever be drained',
    ],
  },
  {
    title: 'a single production pod without a disruption budget', set: { replicas: 1, 'podDisruptionBudget.enabled': false },
    expected: [
      'replicas: 1 pod leaves the production relay down during every rollout and node drain: use at least 2 (or tier: development) (got 1)',
      'podDisruptionBudget.enabled: false lets a node drain take every production relay pod at once: keep the PodDisruptionBudget on (got false)',
    ],
  },
  {
    title: 'a public client network', set: { 'network.clusterCidrs': ['0.0.0.0/1', '128.0.0.0/1'] },
    expected: [
      'network.clusterCidrs.0: 0.0.0.0/1 is not a private network (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7): relaying for public addresses makes an open relay; set network.allowPublicClientNetworks: true if your pods really use public addresses (got "0.0.0.0/1")',
      'network.clusterCidrs.1: 128.0.0.0/1 is not a private network (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7): relaying for public addresses makes an open relay; set network.allowPublicClientNetworks: true if your pods really use public addresses (got "128.0.0.0/1")',
      'network.clusterCidrs: these networks together cover every IPv4 address (0.0.0.0/0): anyone could use the relay; list only the networks your clients are in (got ["0.0.0.0/1","128.0.0.0/1"])',
    ],
  },
  {
    title: 'more Postfix processes than the memory limit holds', set: { 'tuning.processLimit': 150, 'tuning.relayConcurrency': 50 },
    expected: [
      'tuning.processLimit: 150 processes need about 478 MiB at full load, over 80% of resources.limits.memory (256Mi): lower tuning.processLimit/relayConcurrency or raise the limit (got 150)',
    ],
  },
  {
    title: 'more relay connections than processes', set: { 'tuning.processLimit': 10, 'tuning.relayConcurrency': 20 },
    expected: ['tuning.relayConcurrency: 20 is above tuning.processLimit (10), which caps the smtp processes too (got 20)'],
  },
  {
    title: 'SMTP AUTH to a relay whose certificate is not verified',
    set: { 'relay.tlsSecurityLevel': 'encrypt', 'relay.allowUnverifiedTls': true, 'relay.auth': { secretName: 'gmail-relay' } },
    expected: [
      'relay.auth: needs relay.tlsSecurityLevel "secure" or "verify" (it is "encrypt"): the password would go to a relay whose certificate is not verified (got {"secretName":"gmail-relay"})',
    ],
  },
  {
    title: 'a topology rule Kubernetes does not know', set: { 'topologySpread.whenUnsatisfiable': 'Never' },
    expected: [
      'topologySpread.whenUnsatisfiable: must be one of "ScheduleAnyway", "DoNotSchedule" (got "Never")',
    ],
  },
  {
    title: 'an Argo CD server that is not a URL', set: { 'argocd.destinationServer': 'in-cluster' },
    expected: [
      'argocd.destinationServer: must be an https:// URL such as https://kubernetes.default.svc, with no credentials, #fragment, spaces, quotes, braces or template syntax (got "in-cluster")',
    ],
  },
  // --- issue 13: scheduling, pod metadata, pull secrets, the LoadBalancer ----------------------
  {
    title: 'a LoadBalancer without client ranges', set: { 'service.type': 'LoadBalancer' },
    expected: [
      'service.loadBalancerSourceRanges: is required when service.type is LoadBalancer: list the client networks outside the cluster that may relay (a load balancer open to every address is an open relay on the internet)',
    ],
  },
  {
    title: 'a LoadBalancer open to the whole internet', set: { 'service.type': 'LoadBalancer', 'service.loadBalancerSourceRanges': ['0.0.0.0/0', '::/0'] },
    expected: [
      'service.loadBalancerSourceRanges: these networks together cover every IPv4 address (0.0.0.0/0) and every IPv6 address (::/0): anyone could use the relay; list only the networks your clients are in (got ["0.0.0.0/0","::/0"])',
    ],
  },
  {
    title: 'LoadBalancer ranges that together cover every IPv4 address',
    set: { 'service.type': 'LoadBalancer', 'service.loadBalancerSourceRanges': ['0.0.0.0/1', '128.0.0.0/2', '192.0.0.0/2'] },
    expected: [
      'service.loadBalancerSourceRanges: these networks together cover every IPv4 address (0.0.0.0/0): anyone could use the relay; list only the networks your clients are in (got ["0.0.0.0/1","128.0.0.0/2","192.0.0.0/2"])',
    ],
  },
  {
    title: 'LoadBalancer ranges with host bits, twice, and inside the cluster networks',
    set: { 'service.type': 'LoadBalancer', 'service.loadBalancerSourceRanges': ['192.168.7.9/24', '203.0.113.0/24', '203.0.113.0/24', '10.20.0.0/16', 'fd00:1::5/64', 'corp-vpn'] },
    expected: [
      'service.loadBalancerSourceRanges.0: has host bits set: write the network 192.168.7.0/24, or 192.168.7.9/32 for one address (got "192.168.7.9/24")',
      'service.loadBalancerSourceRanges.4: has host bits set: write the network fd00:1::/64, or fd00:1::5/128 for one address (got "fd00:1::5/64")',
      'service.loadBalancerSourceRanges.5: must be a CIDR such as 10.0.0.0/8 or fd00::/8 (got "corp-vpn")',
      'service.loadBalancerSourceRanges.2: 203.0.113.0/24 is listed twice (got "203.0.113.0/24")',
      "service.loadBalancerSourceRanges.3: 10.20.0.0/16 lies inside network.clusterCidrs (10.0.0.0/8): pods there would reach the relay without the namespace access label. List the external clients' networks, and narrow network.clusterCidrs to the pod and service networks if they share an address block (got \"10.20.0.0/16\")",
    ],
  },
  {
    title: 'LoadBalancer ranges holding more public addresses than one /8',
    set: { 'service.type': 'LoadBalancer', 'service.loadBalancerSourceRanges': ['11.0.0.0/8', '12.0.0.0/9'] },
    expected: [
      'service.loadBalancerSourceRanges: these networks together hold 25165824 public IPv4 addresses, more than one /8 (16777216): list only the networks your clients are in (got ["11.0.0.0/8","12.0.0.0/9"])',
    ],
  },
  {
    title: 'LoadBalancer ranges that are small alone but too wide with the cluster\'s public networks',
    set: { 'network.allowPublicClientNetworks': true, 'network.clusterCidrs': ['11.0.0.0/8'], 'service.type': 'LoadBalancer', 'service.loadBalancerSourceRanges': ['12.0.0.0/16'] },
    expected: [
      'service.loadBalancerSourceRanges: with network.mynetworks (11.0.0.0/8), these networks together hold 16842752 public IPv4 addresses, more than one /8 (16777216): list only the networks your clients are in (got ["12.0.0.0/16"])',
    ],
  },
  {
    title: 'client ranges on a ClusterIP Service', set: { 'service.loadBalancerSourceRanges': ['203.0.113.0/24'] },
    expected: [
      'service.loadBalancerSourceRanges: applies only to service.type LoadBalancer (type is ClusterIP): remove it, or set type: LoadBalancer (got ["203.0.113.0/24"])',
    ],
  },
  {
    title: 'a Service type Kubernetes offers but the relay does not', set: { 'service.type': 'NodePort' },
    expected: [
      'service.type: must be one of "ClusterIP", "LoadBalancer" (got "NodePort")',
    ],
  },
  {
    title: 'pod labels that would take over the selector', set: { 'pod.labels': { 'app.kubernetes.io/name': 'other', 'app.kubernetes.io/version': '2', team: 'mail' } },
    expected: [
      'pod.labels.app.kubernetes.io/name: is reserved: the app.kubernetes.io/* labels identify the relay and its selector (app.kubernetes.io/name, app.kubernetes.io/instance), which Services, the NetworkPolicy and the immutable workload selector rely on: use a label outside app.kubernetes.io/ (got "other")',
      'pod.labels.app.kubernetes.io/version: is reserved: the app.kubernetes.io/* labels identify the relay and its selector (app.kubernetes.io/name, app.kubernetes.io/instance), which Services, the NetworkPolicy and the immutable workload selector rely on: use a label outside app.kubernetes.io/ (got "2")',
    ],
  },
  {
    title: 'a pod annotation the chart owns, and one with a newline', set: { 'pod.annotations': { 'checksum/config': 'x', 'example.com/note': 'a\nb' } },
    expected: [
      'pod.annotations.example.com/note: must not contain control or invisible characters: U+000A (LF) at character 2 (got "a\\nb")',
      'pod.annotations.checksum/config: is reserved: the chart sets it to a hash of the Postfix configuration so that a change rolls the pods (got "x")',
    ],
  },
  {
    title: 'pull secrets that are not Secret names', set: { 'image.pullSecrets': ['Registry Creds', 'ok', 'ok'], 'metrics.image.pullSecrets': 'ghcr' },
    expected: [
      'image.pullSecrets.0: must be a Kubernetes object name: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit (got "Registry Creds")',
      'image.pullSecrets: must not list a Secret twice (got ["Registry Creds","ok","ok"])',
      'metrics.image.pullSecrets: must be an array (got "ghcr")',
    ],
  },
  {
    title: 'tolerations Kubernetes would refuse',
    set: {
      'scheduling.tolerations': [
        { operator: 'Exists', value: 'x' },
        { value: 'egress' },
        { key: 'dedicated', value: 'mail', effect: 'NoSchedule', tolerationSeconds: 60 },
      ],
    },
    expected: [
      'scheduling.tolerations.0.value: must be unset when operator is Exists (Exists matches the key alone) (got "x")',
      'scheduling.tolerations.1.key: is required unless operator is Exists (an empty key with Exists tolerates every taint)',
      'scheduling.tolerations.2.tolerationSeconds: applies only to effect NoExecute (effect is NoSchedule) (got 60)',
    ],
  },
  {
    title: 'a toleration operator Kubernetes does not know', set: { 'scheduling.tolerations': [{ key: 'dedicated', operator: 'Matches' }] },
    expected: ['scheduling.tolerations.0.operator: must be one of "Equal", "Exists" (got "Matches")'],
  },
  {
    title: 'node affinity terms Kubernetes would refuse, and pod anti-affinity',
    set: {
      'scheduling.affinity': {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{}, { matchExpressions: [{ key: 'pool', operator: 'In' }, { key: 'gen', operator: 'Gt', values: ['x'] }, { key: 'spot', operator: 'DoesNotExist', values: ['true'] }] }],
          },
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }],
        },
        podAntiAffinity: {},
      },
    },
    expected: [
      'scheduling.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution.0.weight: must be at least 1 (got 0)',
      'scheduling.affinity.podAntiAffinity: unknown field "podAntiAffinity" (allowed: nodeAffinity) (got {})',
      'scheduling.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0: must list matchExpressions or matchFields (an empty term matches no node) (got {})',
      'scheduling.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.1.matchExpressions.0.values: must list at least one value for operator In',
      'scheduling.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.1.matchExpressions.1.values: must be exactly one integer for operator Gt (got ["x"])',
      'scheduling.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.1.matchExpressions.2.values: must be empty for operator DoesNotExist (got ["true"])',
    ],
  },
  {
    title: 'a node selector and priority class with bad names', set: { 'scheduling.nodeSelector': { 'pool name': 'mail' }, 'scheduling.priorityClassName': 'High_Priority' },
    expected: [
      'scheduling.nodeSelector.pool name: the key must be a Kubernetes label key such as example.com/name (got "pool name")',
      'scheduling.priorityClassName: must be a Kubernetes object name: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit (got "High_Priority")',
    ],
  },
  // --- probe and SLOs (issue 20) -------------------------------------------------------------
  {
    title: 'an SLO objective of 100%', set: { 'slo.availability.objective': 100 },
    expected: ['slo.availability.objective: must be a percentage above 0 and below 100, such as 99.9 (100% leaves no error budget) (got 100)'],
  },
  {
    title: 'an SLO objective of 0', set: { 'slo.delivery.objective': 0 },
    expected: ['slo.delivery.objective: must be a percentage above 0 and below 100, such as 99.9 (got 0)'],
  },
  {
    title: 'an SLO objective written as a ratio', set: { 'slo.availability.objective': 0.999 },
    expected: ['slo.availability.objective: 0.999 looks like a ratio: objectives are percentages (write 99.9 for 99.9%) (got 0.999)'],
  },
  {
    title: 'an SLO objective too low for the fast-burn page', set: { 'slo.availability.objective': 90 },
    expected: [
      'slo.availability.objective: 90 leaves an error budget of 10%: the 1h page fires at 14.4x that (an error ratio of 144%), which can never happen; choose an objective above 93.06 or a shorter slo.availability.window (got 90)',
    ],
  },
  {
    title: 'an SLO window that is not a duration', set: { 'slo.delivery.window': 'month' },
    expected: ['slo.delivery.window: must be a duration such as 30s, 5m or 1h30m (units d, h, m, s, ms, largest first, each once) (got "month")'],
  },
  {
    title: 'an SLO window shorter than the longest alert window', set: { 'slo.availability.window': '1d' },
    expected: ['slo.availability.window: 1d is shorter than the longest alert window (3d, the budget-at-risk ticket): use 3d or more (30d is usual) (got "1d")'],
  },
  {
    title: 'a latency threshold between histogram buckets', set: { 'slo.latency.thresholdSeconds': 600 },
    expected: ['slo.latency.thresholdSeconds: must be a bucket of postfix_showq_message_age_seconds: one of 10, 100, 1000, 10000, 100000 (got 600)'],
  },
  {
    title: 'a sender-fault DSN that is not a permanent code', set: { 'slo.delivery.senderFaultDsns': ['4.2.1'] },
    expected: ['slo.delivery.senderFaultDsns.0: must be a permanent DSN class or code such as 5.1 or 5.3.4 (got "4.2.1")'],
  },
  {
    title: 'a prober URL without a scheme', set: { 'probe.enabled': true, 'probe.proberUrl': 'prometheus-blackbox-exporter.monitoring.svc:9115' },
    expected: [
      'probe.proberUrl: must be an http(s) URL of a blackbox exporter (scheme and host:port), such as http://prometheus-blackbox-exporter.monitoring.svc:9115 (got "prometheus-blackbox-exporter.monitoring.svc:9115")',
    ],
  },
  {
    title: 'a prober URL that is not http(s)', set: { 'probe.enabled': true, 'probe.proberUrl': 'tcp://prometheus-blackbox-exporter.monitoring.svc:9115' },
    expected: [
      'probe.proberUrl: must be an http or https URL (Prometheus scrapes the blackbox exporter over HTTP), not tcp (got "tcp://prometheus-blackbox-exporter.monitoring.svc:9115")',
    ],
  },
  {
    title: 'a prober URL with the probe path', set: { 'probe.proberUrl': 'http://blackbox.monitoring.svc:9115/probe' },
    expected: [
      'probe.proberUrl: must be the scheme and host:port only, such as http://prometheus-blackbox-exporter.monitoring.svc:9115 (the Probe adds the /probe path) (got "http://blackbox.monitoring.svc:9115/probe")',
    ],
  },
  {
    title: 'prober pod labels that select every pod', set: { 'probe.enabled': true, 'probe.proberPodLabels': {} },
    expected: ['probe.proberPodLabels: must name at least one label: an empty selector admits every pod of the prober namespaces, not the prober alone (got {})'],
  },
  {
    title: 'prober namespace labels that select every namespace', set: { 'probe.enabled': true, 'probe.proberNamespaceLabels': {} },
    expected: ['probe.proberNamespaceLabels: must name at least one label: an empty selector admits matching pods of every namespace (got {})'],
  },
  {
    title: 'prober labels that select a namespace the prober is not in',
    set: { 'probe.enabled': true, 'probe.proberUrl': 'http://blackbox.observability.svc:9115', 'probe.proberNamespaceLabels': { 'kubernetes.io/metadata.name': 'monitoring' } },
    expected: [
      'probe.proberNamespaceLabels: select namespace "monitoring", but probe.proberUrl points at a Service in namespace "observability": the NetworkPolicy would admit no prober pod and every probe would fail (got {"kubernetes.io/metadata.name":"monitoring"})',
    ],
  },
  {
    title: 'a probe timeout as long as its interval', set: { 'probe.enabled': true, 'probe.interval': '10s', 'probe.timeout': '10s' },
    expected: ['probe.timeout: 10s plus the one-second scrape margin must fit in probe.interval (10s) (got "10s")'],
  },
  {
    title: 'a probe module name with spaces', set: { 'probe.module': 'postfix relay' },
    expected: ['probe.module: must be a blackbox exporter module name: letters, digits, "_", "." and "-", at most 63 characters (got "postfix relay")'],
  },
  {
    title: 'several problems at once', set: { replicas: 0, 'relay.port': 0, 'mail.domain': 'example' },
    expected: [
      'replicas: must be at least 1 (got 0)',
      'relay.port: must be a port from 1 to 65535 (got 0)',
      'mail.domain: must be a fully qualified domain name such as example.com (got "example")',
      'podDisruptionBudget.minAvailable: 1 must be below the minimum number of pods (0, replicas): otherwise no node can ever be drained',
    ],
  },
  // --- issue 16: messages that help, and values that mean exactly what they say ----------------
  {
    title: 'a sender-domain list without its s', set: { 'mail.allowedSenderDomain': ['example.com'] },
    expected: [
      'mail.allowedSenderDomain: unknown field "allowedSenderDomain"; did you mean allowedSenderDomains? (allowed: hostname, domain, allowedSenderDomains, messageSizeLimitBytes, maxRecipientsPerMessage, relayRecipientsPerTransaction, holdRelayRefusals, softBounce, rateLimits, rewrite, stripReceivedHeaders) (got ["example.com"])',
    ],
  },
  {
    title: 'a mail field at the top level', set: { hostname: 'mail.example.com' },
    expected: [
      'hostname: unknown field "hostname"; did you mean mail.hostname? (allowed: tier, namespace, image, replicas, resources, probes, terminationGracePeriodSeconds, network, relay, mail, tuning, postfix, queue, metrics, serviceMonitor, alerts, dashboard, probe, slo, autoscaling, podDisruptionBudget, topologySpread, scheduling, pod, service, argocd) (got "mail.example.com")',
    ],
  },
  {
    title: 'a duplicate key inside a flow mapping', text: 'namespace: email-server-cat\nmail: { hostname: a.example.com, domain: example.com, hostname: b.example.com, allowedSenderDomains: [example.com] }\n',
    expected: [
      'line 2, column 55: duplicate key "hostname" in mail (first at line 2, column 9): keep one of the two',
    ],
  },
  {
    title: 'a nested mapping on one line', text: 'namespace: email-server-cat\nmail: hostname: a.example.com\n',
    expected: [
      'line 2, column 7: is not valid YAML: Nested mappings are not allowed in compact mappings',
    ],
  },
  {
    title: 'an unterminated quote', text: 'namespace: "email-server-cat\n',
    expected: [
      'line 2, column 1: is not valid YAML: Missing closing "quote',
    ],
  },
  {
    title: 'public client networks that together are everything', set: { 'network.allowPublicClientNetworks': true, 'network.clusterCidrs': ['0.0.0.0/1', '128.0.0.0/1'] },
    expected: [
      'network.clusterCidrs: these networks together cover every IPv4 address (0.0.0.0/0): anyone could use the relay; list only the networks your clients are in (got ["0.0.0.0/1","128.0.0.0/1"])',
    ],
  },
  {
    title: 'mynetworks halves that together are everything', set: { 'network.allowPublicClientNetworks': true, 'network.clusterCidrs': ['0.0.0.0/1', '128.0.0.0/1', '10.0.0.0/8'], 'network.mynetworks': ['0.0.0.0/1', '128.0.0.0/1'] },
    expected: [
      'network.clusterCidrs: these networks together cover every IPv4 address (0.0.0.0/0): anyone could use the relay; list only the networks your clients are in (got ["0.0.0.0/1","128.0.0.0/1","10.0.0.0/8"])',
      'network.mynetworks: these networks together cover every IPv4 address (0.0.0.0/0): anyone could use the relay; list only the networks your clients are in (got ["0.0.0.0/1","128.0.0.0/1"])',
    ],
  },
  {
    title: 'IPv6 client networks that together are everything', set: { 'network.allowPublicClientNetworks': true, 'network.clusterCidrs': ['::/1', '8000::/1'] },
    expected: [
      'network.clusterCidrs: these networks together cover every IPv6 address (::/0): anyone could use the relay; list only the networks your clients are in (got ["::/1","8000::/1"])',
    ],
  },
  {
    title: 'more public client addresses than one /8', set: { 'network.allowPublicClientNetworks': true, 'network.clusterCidrs': ['11.0.0.0/8', '12.0.0.0/8'] },
    expected: [
      'network.clusterCidrs: these networks together hold 33554432 public IPv4 addresses, more than one /8 (16777216): list only the networks your clients are in (got ["11.0.0.0/8","12.0.0.0/8"])',
    ],
  },
  {
    title: 'more public IPv6 client addresses than one /32', set: { 'network.allowPublicClientNetworks': true, 'network.clusterCidrs': ['2001:db8::/31'] },
    expected: [
      'network.clusterCidrs: these networks together hold about 2^97 public IPv6 addresses, more than one /32 (2^96): list only the networks your clients are in (got ["2001:db8::/31"])',
    ],
  },
  {
    title: 'a runbook URL that is a template', set: { 'alerts.runbookBaseUrl': '{{ query "up" | first | value }}' },
    expected: [
      'alerts.runbookBaseUrl: must be an https:// or http:// URL such as https://example.com/docs/RUNBOOK.md, with no credentials, #fragment, spaces, quotes, braces or template syntax (got "{{ query \\"up\\" | first | value }}")',
    ],
  },
  {
    title: 'a javascript: runbook URL', set: { 'alerts.runbookBaseUrl': 'javascript:alert(document.cookie)' },
    expected: [
      'alerts.runbookBaseUrl: must be an https:// or http:// URL such as https://example.com/docs/RUNBOOK.md, with no credentials, #fragment, spaces, quotes, braces or template syntax (got "javascript:alert(document.cookie)")',
    ],
  },
  {
    title: 'a runbook URL with template braces in its path', set: { 'alerts.runbookBaseUrl': 'https://wiki.example.com/{{ $labels.pod }}' },
    expected: [
      'alerts.runbookBaseUrl: must be an https:// or http:// URL such as https://example.com/docs/RUNBOOK.md, with no credentials, #fragment, spaces, quotes, braces or template syntax (got "https://wiki.example.com/{{ $labels.pod }}")',
      'alerts.runbookBaseUrl: must not contain "$": Postfix (main.cf) and Prometheus (alert templates) expand $name, so the value would not mean what it says (got "https://wiki.example.com/{{ $labels.pod }}")',
    ],
  },
  {
    title: 'a runbook URL with its own anchor', set: { 'alerts.runbookBaseUrl': 'https://wiki.example.com/runbook#top' },
    expected: [
      'alerts.runbookBaseUrl: must be an https:// or http:// URL such as https://example.com/docs/RUNBOOK.md, with no credentials, #fragment, spaces, quotes, braces or template syntax (got "https://wiki.example.com/runbook#top")',
    ],
  },
  {
    title: 'an Argo CD server over plain HTTP', set: { 'argocd.destinationServer': 'http://kubernetes.default.svc' },
    expected: [
      'argocd.destinationServer: must be an https:// URL such as https://kubernetes.default.svc, with no credentials, #fragment, spaces, quotes, braces or template syntax (got "http://kubernetes.default.svc")',
    ],
  },
  {
    title: 'an Argo CD server URL with credentials', set: { 'argocd.destinationServer': 'https://admin:secret@k8s.example.com' },
    expected: [
      'argocd.destinationServer: must be an https:// URL such as https://kubernetes.default.svc, with no credentials, #fragment, spaces, quotes, braces or template syntax (got "https://admin:secret@k8s.example.com")',
    ],
  },
  {
    title: 'a CA file path with a NEL that hides a second line', set: { 'relay.caFile': '/x\u0085mynetworks=0.0.0.0/0' },
    expected: [
      'relay.caFile: must not contain control or invisible characters: U+0085 (NEL) at character 3 (got "/x\\u0085mynetworks=0.0.0.0/0")',
    ],
  },
  {
    title: 'a NUL in a StorageClass name', set: { 'queue.persistence.storageClassName': 'fast\u0000' },
    expected: [
      'queue.persistence.storageClassName: must not contain control or invisible characters: U+0000 (NUL) at character 5 (got "fast\\u0000")',
    ],
  },
  {
    title: 'a line separator in the Argo CD project', set: { 'argocd.project': 'default\u2028evil' },
    expected: [
      'argocd.project: must not contain control or invisible characters: U+2028 (LINE SEPARATOR) at character 8 (got "default\\u2028evil")',
    ],
  },
  {
    title: 'a paragraph separator in the Argo CD path', set: { 'argocd.path': 'prod\u2029' },
    expected: [
      'argocd.path: must not contain control or invisible characters: U+2029 (PARAGRAPH SEPARATOR) at character 5 (got "prod\\u2029")',
    ],
  },
  {
    title: 'a Postfix parameter reference in the CA file', set: { 'relay.caFile': '/etc/ssl/$mydomain.pem' },
    expected: [
      'relay.caFile: must not contain "$": Postfix (main.cf) and Prometheus (alert templates) expand $name, so the value would not mean what it says (got "/etc/ssl/$mydomain.pem")',
    ],
  },
  {
    title: 'mynetworks with host bits set', set: { 'network.mynetworks': ['10.1.2.3/8'] },
    expected: [
      'network.mynetworks.0: has host bits set: write the network 10.0.0.0/8, or 10.1.2.3/32 for one address (got "10.1.2.3/8")',
    ],
  },
  {
    title: 'a cluster network with host bits set', set: { 'network.clusterCidrs': ['10.0.0.0/8', 'fd00::1/8'] },
    expected: [
      'network.clusterCidrs.1: has host bits set: write the network fd00::/8, or fd00::1/128 for one address (got "fd00::1/8")',
    ],
  },
  {
    title: 'a DNS server range with host bits set', set: { 'network.dnsCidrs': ['169.254.20.10/16'] },
    expected: [
      'network.dnsCidrs.0: has host bits set: write the network 169.254.0.0/16, or 169.254.20.10/32 for one address (got "169.254.20.10/16")',
    ],
  },
  {
    title: 'a relay range with host bits set', set: { 'network.relayCidrs': ['142.250.1.1/16'] },
    expected: [
      'network.relayCidrs.0: has host bits set: write the network 142.250.0.0/16, or 142.250.1.1/32 for one address (got "142.250.1.1/16")',
    ],
  },
  {
    title: 'a queue lifetime Postfix cannot hold', set: { 'queue.maximalQueueLifetime': '99999999999999d' },
    expected: [
      'queue.maximalQueueLifetime: must be at most 100d (the longest maximal_queue_lifetime Postfix accepts) (got "99999999999999d")',
    ],
  },
  {
    title: 'a queue lifetime beyond 100 days', set: { 'queue.maximalQueueLifetime': '100d1s' },
    expected: [
      'queue.maximalQueueLifetime: must be at most 100d (the longest maximal_queue_lifetime Postfix accepts) (got "100d1s")',
    ],
  },
  {
    title: 'a zero queue lifetime', set: { 'queue.maximalQueueLifetime': '0s' },
    expected: [
      'queue.maximalQueueLifetime: must be longer than 0 (got "0s")',
    ],
  },
  {
    title: 'duration units in the wrong order', set: { 'alerts.for': '5m1h' },
    expected: [
      'alerts.for: must be a duration such as 30s, 5m or 1h30m (units d, h, m, s, ms, largest first, each once) (got "5m1h")',
    ],
  },
  {
    title: 'a duration unit twice', set: { 'serviceMonitor.interval': '30s30s' },
    expected: [
      'serviceMonitor.interval: must be a duration such as 30s, 5m or 1h30m (units d, h, m, s, ms, largest first, each once) (got "30s30s")',
    ],
  },
  {
    title: 'an alert delay Prometheus cannot hold', set: { 'alerts.for': '106751d23h47m16s855ms' },
    expected: [
      'alerts.for: must be at most 106751d23h47m16s854ms (the longest duration Prometheus accepts) (got "106751d23h47m16s855ms")',
    ],
  },
  {
    title: 'a scrape timeout longer than the interval', set: { 'serviceMonitor.interval': '15s', 'serviceMonitor.scrapeTimeout': '20s' },
    expected: [
      'serviceMonitor.scrapeTimeout: 20s is longer than serviceMonitor.interval (15s): Prometheus refuses the scrape configuration (got "20s")',
    ],
  },
];
