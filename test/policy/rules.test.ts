import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chartObjects, POLICY_RULES } from '../../src/policy';
import { buildApp } from '../../src/synth';
import type { EnvironmentConfig } from '../../src/config/schema';
import { allMessages, container, find, messagesOf, synthesized, workload, type Obj } from './fixtures';

/**
 * Each rule is tripped by breaking one thing in a real synthesized object list and asserting
 * the exact message: rule id, environment, object, field path, what is allowed, the bad value.
 */

/** The messages of one rule, which must fire. Every rule id appears in a trip() call below. */
function trip(ruleId: string, env: EnvironmentConfig, objects: Obj[]): string[] {
  const messages = messagesOf(ruleId, env, objects);
  expect(messages, `${ruleId} did not fire`).not.toEqual([]);
  return messages;
}

const POD = 'spec.template.spec';
const PF = `${POD}.containers[postfix]`;
const EX = `${POD}.containers[exporter]`;

describe('the shipped environments', () => {
  for (const name of ['dev', 'staging', 'prod'] as const) {
    it(`${name} passes every schema and policy check`, () => {
      const { env, objects } = synthesized(name);
      expect(allMessages(env, objects)).toEqual([]);
    });
  }
});

describe('resources and probes', () => {
  it('resources.requests-limits: a missing limit', () => {
    const { env, objects } = synthesized('prod');
    delete container(objects, 'postfix').resources.limits.cpu;
    expect(trip('resources.requests-limits', env, objects)).toEqual([
      `[resources.requests-limits] prod: StatefulSet/postfix-relay: ${PF}.resources.limits.cpu: must be set (every container declares requests and limits for cpu and memory) (got nothing)`,
    ]);
  });

  it('resources.requests-limits: no resources at all on the exporter', () => {
    const { env, objects } = synthesized('staging');
    delete container(objects, 'exporter').resources;
    expect(trip('resources.requests-limits', env, objects)).toHaveLength(4);
  });

  it('resources.requests-limits: an unreadable quantity', () => {
    const { env, objects } = synthesized('prod');
    container(objects, 'postfix').resources.requests.memory = 'lots';
    expect(trip('resources.requests-limits', env, objects)).toEqual([
      `[resources.requests-limits] prod: StatefulSet/postfix-relay: ${PF}.resources.requests.memory: must be a Kubernetes quantity such as 100m or 128Mi (got "lots")`,
    ]);
  });

  it('resources.limits-cover-requests: a limit below its request', () => {
    const { env, objects } = synthesized('prod');
    container(objects, 'exporter').resources.limits.memory = '16Mi';
    expect(trip('resources.limits-cover-requests', env, objects)).toEqual([
      `[resources.limits-cover-requests] prod: StatefulSet/postfix-relay: ${EX}.resources.limits.memory: must be at or above the request 32Mi (got "16Mi")`,
    ]);
  });

  it('resources.limits-cover-requests: compares across units (0.05 CPU < 100m)', () => {
    const { env, objects } = synthesized('prod');
    container(objects, 'postfix').resources.limits.cpu = '0.05';
    expect(trip('resources.limits-cover-requests', env, objects)).toEqual([
      `[resources.limits-cover-requests] prod: StatefulSet/postfix-relay: ${PF}.resources.limits.cpu: must be at or above the request 100m (got "0.05")`,
    ]);
  });

  it('probes.present: the exporter without a readiness probe', () => {
    const { env, objects } = synthesized('dev');
    delete container(objects, 'exporter').readinessProbe;
    expect(trip('probes.present', env, objects)).toEqual([
      `[probes.present] dev: Deployment/postfix-relay: ${EX}.readinessProbe: must be set (a probe with a tcpSocket, httpGet, grpc or exec handler) (got nothing)`,
    ]);
  });

  it('probes.present: postfix without its startup probe', () => {
    const { env, objects } = synthesized('prod');
    delete container(objects, 'postfix').startupProbe;
    expect(trip('probes.present', env, objects)).toEqual([
      `[probes.present] prod: StatefulSet/postfix-relay: ${PF}.startupProbe: must be set (a probe with a tcpSocket, httpGet, grpc or exec handler) (got nothing)`,
    ]);
  });
});

describe('images.pinned', () => {
  it('refuses latest in production', () => {
    const { env, objects } = synthesized('prod');
    container(objects, 'postfix').image = 'juanluisbaptiste/postfix:latest';
    expect(trip('images.pinned', env, objects)).toEqual([
      `[images.pinned] prod: StatefulSet/postfix-relay: ${PF}.image: must pin a released tag or a digest in the production tier, not latest (got "juanluisbaptiste/postfix:latest")`,
    ]);
  });

  it('refuses an untagged image (a registry port is not a tag)', () => {
    const { env, objects } = synthesized('staging');
    container(objects, 'exporter').image = 'registry.example.com:5000/postfix_exporter';
    expect(trip('images.pinned', env, objects)).toEqual([
      `[images.pinned] staging: Deployment/postfix-relay: ${EX}.image: must pin a tag or digest in the staging tier (an untagged image means latest) (got "registry.example.com:5000/postfix_exporter")`,
    ]);
  });

  it('refuses a malformed digest', () => {
    const { env, objects } = synthesized('prod');
    container(objects, 'postfix').image = 'juanluisbaptiste/postfix@sha256:abc';
    expect(trip('images.pinned', env, objects)).toEqual([
      `[images.pinned] prod: StatefulSet/postfix-relay: ${PF}.image: must end in a digest of the form @sha256:<64 hex digits> (got "juanluisbaptiste/postfix@sha256:abc")`,
    ]);
  });

  it('accepts latest pinned by a digest, and latest in the development tier', () => {
    const prod = synthesized('prod');
    container(prod.objects, 'postfix').image = `juanluisbaptiste/postfix:latest@sha256:${'a'.repeat(64)}`;
    expect(messagesOf('images.pinned', prod.env, prod.objects)).toEqual([]);
    const dev = synthesized('dev');
    container(dev.objects, 'postfix').image = 'juanluisbaptiste/postfix:latest';
    expect(messagesOf('images.pinned', dev.env, dev.objects)).toEqual([]);
  });
});

describe('Pod Security Standards', () => {
  const baselineCases: [string, (o: Obj[]) => void, string][] = [
    ['host network', (o) => (workload(o).spec.template.spec.hostNetwork = true), `${POD}.hostNetwork: must be false or unset (host namespaces are not allowed) (got true)`],
    ['a privileged container', (o) => (container(o, 'postfix').securityContext.privileged = true), `${PF}.securityContext.privileged: must be false or unset (privileged containers are not allowed) (got true)`],
    [
      'a capability outside baseline',
      (o) => container(o, 'postfix').securityContext.capabilities.add.push('SYS_ADMIN'),
      `${PF}.securityContext.capabilities.add: may only add AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT (got ["SYS_ADMIN"])`,
    ],
    ['a hostPath volume', (o) => workload(o).spec.template.spec.volumes.push({ name: 'host', hostPath: { path: '/var/run' } }), `${POD}.volumes[host].hostPath: must not be used (hostPath volumes are not allowed) (got {"path":"/var/run"})`],
    ['a host port', (o) => (container(o, 'postfix').ports[0].hostPort = 25), `${PF}.ports[0].hostPort: must be 0 or unset (host ports are not allowed) (got 25)`],
    ['seccomp Unconfined', (o) => (workload(o).spec.template.spec.securityContext.seccompProfile.type = 'Unconfined'), `${POD}.securityContext.seccompProfile.type: must not be Unconfined (RuntimeDefault or Localhost) (got "Unconfined")`],
    [
      'an unsafe sysctl',
      (o) => (workload(o).spec.template.spec.securityContext.sysctls = [{ name: 'net.core.somaxconn', value: '1024' }]),
      `${POD}.securityContext.sysctls[0].name: must be one of the safe sysctls (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes) (got "net.core.somaxconn")`,
    ],
    ['an SELinux user', (o) => (container(o, 'postfix').securityContext.seLinuxOptions = { user: 'system_u' }), `${PF}.securityContext.seLinuxOptions.user: must be unset (got "system_u")`],
    ['an unmasked /proc', (o) => (container(o, 'postfix').securityContext.procMount = 'Unmasked'), `${PF}.securityContext.procMount: must be Default or unset (got "Unmasked")`],
    [
      'an unconfined AppArmor annotation',
      (o) => (workload(o).spec.template.metadata.annotations['container.apparmor.security.beta.kubernetes.io/postfix'] = 'unconfined'),
      `spec.template.metadata.annotations.container.apparmor.security.beta.kubernetes.io/postfix: must be runtime/default or localhost/<profile> (got "unconfined")`,
    ],
  ];
  for (const [what, breakIt, message] of baselineCases) {
    it(`pss.baseline: ${what}`, () => {
      const { env, objects } = synthesized('prod');
      breakIt(objects);
      expect(trip('pss.baseline', env, objects)).toEqual([`[pss.baseline] prod: StatefulSet/postfix-relay: ${message}`]);
    });
  }

  const restrictedCases: [string, (c: Obj, pod: Obj) => void, string[]][] = [
    ['the exporter as root', (c) => Object.assign(c.securityContext, { runAsNonRoot: false, runAsUser: 0 }), [
      `${EX}.securityContext.runAsNonRoot: must be true (here or in the pod securityContext) (got false)`,
      `${EX}.securityContext.runAsUser: must not be 0 (root) (got 0)`,
    ]],
    ['privilege escalation left on', (c) => delete c.securityContext.allowPrivilegeEscalation, [`${EX}.securityContext.allowPrivilegeEscalation: must be false (got nothing)`]],
    ['capabilities not dropped', (c) => (c.securityContext.capabilities.drop = ['NET_RAW']), [`${EX}.securityContext.capabilities.drop: must include ALL (got ["NET_RAW"])`]],
    ['a capability added', (c) => (c.securityContext.capabilities.add = ['CHOWN']), [`${EX}.securityContext.capabilities.add: may only add NET_BIND_SERVICE (got ["CHOWN"])`]],
    ['no seccomp profile anywhere', (c, pod) => {
      delete c.securityContext.seccompProfile;
      delete pod.securityContext.seccompProfile;
    }, [`${EX}.securityContext.seccompProfile.type: must be RuntimeDefault or Localhost (here or in the pod securityContext) (got nothing)`]],
  ];
  for (const [what, breakIt, expected] of restrictedCases) {
    it(`pss.restricted: ${what}`, () => {
      const { env, objects } = synthesized('prod');
      breakIt(container(objects, 'exporter'), workload(objects).spec.template.spec);
      expect(trip('pss.restricted', env, objects)).toEqual(expected.map((m) => `[pss.restricted] prod: StatefulSet/postfix-relay: ${m}`));
    });
  }

  it('pss.restricted: the pod-level runAsNonRoot counts for containers that do not set it', () => {
    const { env, objects } = synthesized('prod');
    delete container(objects, 'exporter').securityContext.runAsNonRoot;
    workload(objects).spec.template.spec.securityContext.runAsNonRoot = true;
    expect(messagesOf('pss.restricted', env, objects)).toEqual([]);
  });

  it('pss.restricted: postfix is exempt (it must start as root)', () => {
    const { env, objects } = synthesized('prod');
    expect(container(objects, 'postfix').securityContext.runAsUser).toBe(0);
    expect(messagesOf('pss.restricted', env, objects)).toEqual([]);
  });

  it('pss.postfix-capabilities: an extra capability (SYS_CHROOT is not needed with chroot = n)', () => {
    const { env, objects } = synthesized('prod');
    container(objects, 'postfix').securityContext.capabilities.add.push('SYS_CHROOT');
    expect(trip('pss.postfix-capabilities', env, objects)).toEqual([
      `[pss.postfix-capabilities] prod: StatefulSet/postfix-relay: ${PF}.securityContext.capabilities.add: must be exactly CHOWN, DAC_OVERRIDE, FOWNER, NET_BIND_SERVICE, SETGID, SETUID (POSTFIX_CAPABILITIES, src/postfix/capabilities.ts) (got ["CHOWN","DAC_OVERRIDE","FOWNER","SETGID","SETUID","NET_BIND_SERVICE","SYS_CHROOT"])`,
    ]);
  });

  it('pss.postfix-capabilities: a missing capability, nothing dropped, escalation allowed', () => {
    const { env, objects } = synthesized('staging');
    const sc = container(objects, 'postfix').securityContext;
    sc.capabilities = { add: ['DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID', 'NET_BIND_SERVICE'] };
    sc.allowPrivilegeEscalation = true;
    expect(trip('pss.postfix-capabilities', env, objects)).toEqual([
      `[pss.postfix-capabilities] staging: Deployment/postfix-relay: ${PF}.securityContext.capabilities.drop: must include ALL (got [])`,
      `[pss.postfix-capabilities] staging: Deployment/postfix-relay: ${PF}.securityContext.capabilities.add: must be exactly CHOWN, DAC_OVERRIDE, FOWNER, NET_BIND_SERVICE, SETGID, SETUID (POSTFIX_CAPABILITIES, src/postfix/capabilities.ts) (got ["DAC_OVERRIDE","FOWNER","SETGID","SETUID","NET_BIND_SERVICE"])`,
      `[pss.postfix-capabilities] staging: Deployment/postfix-relay: ${PF}.securityContext.allowPrivilegeEscalation: must be false (got true)`,
    ]);
  });

  it('pss.postfix-capabilities: no postfix container at all', () => {
    const { env, objects } = synthesized('dev');
    container(objects, 'postfix').name = 'mta';
    expect(trip('pss.postfix-capabilities', env, objects)).toEqual([
      `[pss.postfix-capabilities] dev: Deployment/postfix-relay: ${POD}.containers: must include the postfix container (got ["mta","exporter"])`,
    ]);
  });

  it('pss.namespace-labels: enforce weakened to privileged', () => {
    const { env, objects } = synthesized('prod');
    find(objects, 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce'] = 'privileged';
    expect(trip('pss.namespace-labels', env, objects)).toEqual([
      '[pss.namespace-labels] prod: Namespace/email-server-prod: metadata.labels.pod-security.kubernetes.io/enforce: must be baseline (got "privileged")',
    ]);
  });

  it('pss.namespace-labels: the Namespace object missing', () => {
    const { env, objects } = synthesized('dev');
    const without = objects.filter((o) => o.kind !== 'Namespace');
    expect(trip('pss.namespace-labels', env, without)).toEqual([
      '[pss.namespace-labels] dev: Namespace/email-server-dev: (object): must be part of the chart, carrying the pod-security.kubernetes.io labels (got nothing)',
    ]);
  });
});

describe('availability', () => {
  it('availability.pdb-allows-disruption: minAvailable equal to the HPA minimum', () => {
    const { env, objects } = synthesized('staging');
    find(objects, 'PodDisruptionBudget').spec.minAvailable = 2;
    expect(trip('availability.pdb-allows-disruption', env, objects)).toEqual([
      '[availability.pdb-allows-disruption] staging: PodDisruptionBudget/postfix-relay: spec.minAvailable: must allow at least one voluntary disruption at the minimum scale of 2 pod(s) (HorizontalPodAutoscaler/postfix-relay spec.minReplicas): at most 1 (got 2)',
    ]);
  });

  it('availability.pdb-allows-disruption: maxUnavailable 0 and a 100% minAvailable', () => {
    const a = synthesized('prod');
    const pdbA = find(a.objects, 'PodDisruptionBudget');
    delete pdbA.spec.minAvailable;
    pdbA.spec.maxUnavailable = 0;
    expect(trip('availability.pdb-allows-disruption', a.env, a.objects)).toEqual([
      '[availability.pdb-allows-disruption] prod: PodDisruptionBudget/postfix-relay: spec.maxUnavailable: must allow at least one voluntary disruption at the minimum scale of 2 pod(s) (HorizontalPodAutoscaler/postfix-relay spec.minReplicas): at least 1 (got 0)',
    ]);
    const b = synthesized('prod');
    find(b.objects, 'PodDisruptionBudget').spec.minAvailable = '100%';
    expect(messagesOf('availability.pdb-allows-disruption', b.env, b.objects)).toHaveLength(1);
    find(b.objects, 'PodDisruptionBudget').spec.minAvailable = '50%';
    expect(messagesOf('availability.pdb-allows-disruption', b.env, b.objects)).toEqual([]);
  });

  it('availability.pdb-allows-disruption: without an HPA the workload replicas count', () => {
    const { env, objects } = synthesized('dev');
    objects.push({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'postfix-relay', namespace: 'email-server-dev' },
      spec: { minAvailable: 1, selector: workload(objects).spec.selector },
    });
    expect(trip('availability.pdb-allows-disruption', env, objects)).toEqual([
      '[availability.pdb-allows-disruption] dev: PodDisruptionBudget/postfix-relay: spec.minAvailable: must allow at least one voluntary disruption at the minimum scale of 1 pod(s) (Deployment/postfix-relay spec.replicas): at most 0 (got 1)',
    ]);
  });

  it('availability.hpa-min-above-pdb: HPA minimum of 1 under a PDB of 1', () => {
    const { env, objects } = synthesized('prod');
    find(objects, 'HorizontalPodAutoscaler').spec.minReplicas = 1;
    expect(trip('availability.hpa-min-above-pdb', env, objects)).toEqual([
      '[availability.hpa-min-above-pdb] prod: HorizontalPodAutoscaler/postfix-relay: spec.minReplicas: must be at least 2 (PodDisruptionBudget/postfix-relay minAvailable 1 + 1) (got 1)',
    ]);
  });

  it('availability.no-replicas-with-hpa: replicas next to an HPA', () => {
    const { env, objects } = synthesized('staging');
    workload(objects).spec.replicas = 2;
    expect(trip('availability.no-replicas-with-hpa', env, objects)).toEqual([
      '[availability.no-replicas-with-hpa] staging: Deployment/postfix-relay: spec.replicas: must be unset: HorizontalPodAutoscaler/postfix-relay owns the replica count (got 2)',
    ]);
  });
});

describe('references', () => {
  it('refs.workload-selector: selector no longer matches the template', () => {
    const { env, objects } = synthesized('prod');
    const w = workload(objects);
    w.spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'other' } };
    const labels = JSON.stringify(w.spec.template.metadata.labels);
    expect(trip('refs.workload-selector', env, objects)).toEqual([
      `[refs.workload-selector] prod: StatefulSet/postfix-relay: spec.selector: must select the pod template labels ${labels} (got {"matchLabels":{"app.kubernetes.io/name":"other"}})`,
    ]);
  });

  it('refs.service-selector: a Service selecting no pod', () => {
    const { env, objects } = synthesized('prod');
    find(objects, 'Service', 'postfix-relay-headless').spec.selector = { app: 'postfix' };
    const [message] = trip('refs.service-selector', env, objects);
    expect(message).toMatch(/^\[refs\.service-selector\] prod: Service\/postfix-relay-headless: spec\.selector: must select the pods of a workload in the chart \(pod labels: StatefulSet\/postfix-relay \{.*\}\) \(got \{"app":"postfix"\}\)$/);
  });

  it('refs.service-target-port: a misspelt port name and an undeclared number', () => {
    const { env, objects } = synthesized('prod');
    const svc = find(objects, 'Service', 'postfix-relay');
    svc.spec.ports[0].targetPort = 'smpt';
    const metrics = find(objects, 'Service', 'postfix-relay-metrics');
    metrics.spec.ports[0].targetPort = 9154;
    expect(trip('refs.service-target-port', env, objects)).toEqual([
      `[refs.service-target-port] prod: Service/postfix-relay: spec.ports[${svc.spec.ports[0].name}].targetPort: must be a container port of StatefulSet/postfix-relay: smtp (25), metrics (8080) (got "smpt")`,
      `[refs.service-target-port] prod: Service/postfix-relay-metrics: spec.ports[${metrics.spec.ports[0].name}].targetPort: must be a container port of StatefulSet/postfix-relay: smtp (25), metrics (8080) (got 9154)`,
    ]);
  });

  it('refs.networkpolicy-selector: a NetworkPolicy selecting no pod', () => {
    const { env, objects } = synthesized('dev');
    find(objects, 'NetworkPolicy').spec.podSelector = { matchLabels: { app: 'postfix' } };
    const [message] = trip('refs.networkpolicy-selector', env, objects);
    expect(message).toMatch(/^\[refs\.networkpolicy-selector\] dev: NetworkPolicy\/postfix-relay: spec\.podSelector: must select the pods of a workload in the chart .* \(got \{"matchLabels":\{"app":"postfix"\}\}\)$/);
  });

  it('refs.pdb-selector: a PDB selecting no pod (matchExpressions)', () => {
    const { env, objects } = synthesized('staging');
    find(objects, 'PodDisruptionBudget').spec.selector = { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['postfix'] }] };
    const [message] = trip('refs.pdb-selector', env, objects);
    expect(message).toMatch(/^\[refs\.pdb-selector\] staging: PodDisruptionBudget\/postfix-relay: spec\.selector: must select the pods of a workload in the chart .*\(got \{"matchExpressions":/);
  });

  it('refs.hpa-target: an HPA aimed at a Deployment when prod runs a StatefulSet', () => {
    const { env, objects } = synthesized('prod');
    find(objects, 'HorizontalPodAutoscaler').spec.scaleTargetRef.kind = 'Deployment';
    expect(trip('refs.hpa-target', env, objects)).toEqual([
      '[refs.hpa-target] prod: HorizontalPodAutoscaler/postfix-relay: spec.scaleTargetRef: must name a workload of the chart (apps/v1 StatefulSet/postfix-relay) (got {"apiVersion":"apps/v1","kind":"Deployment","name":"postfix-relay"})',
    ]);
  });

  it('refs.servicemonitor-selector: no Service matches', () => {
    const { env, objects } = synthesized('prod');
    find(objects, 'ServiceMonitor').spec.selector = { matchLabels: { 'app.kubernetes.io/component': 'metric' } };
    const [message] = trip('refs.servicemonitor-selector', env, objects);
    expect(message).toMatch(/^\[refs\.servicemonitor-selector\] prod: ServiceMonitor\/postfix-relay: spec\.selector: must select a Service of the chart \(Service\/postfix-relay \{.*\) \(got \{"matchLabels":\{"app.kubernetes.io\/component":"metric"\}\}\)$/);
  });

  it('refs.servicemonitor-selector: an endpoint port the Service does not name', () => {
    const { env, objects } = synthesized('staging');
    find(objects, 'ServiceMonitor').spec.endpoints[0].port = 'http-metrics';
    expect(trip('refs.servicemonitor-selector', env, objects)).toEqual([
      '[refs.servicemonitor-selector] staging: ServiceMonitor/postfix-relay: spec.endpoints[0].port: must be a named port of Service/postfix-relay-metrics (metrics) (got "http-metrics")',
    ]);
  });
});

describe('metadata', () => {
  it('meta.namespace: an object in another namespace, and one with none', () => {
    const { env, objects } = synthesized('prod');
    find(objects, 'Service', 'postfix-relay-metrics').metadata.namespace = 'monitoring';
    delete find(objects, 'ConfigMap', 'postfix-config').metadata.namespace;
    expect(trip('meta.namespace', env, objects)).toEqual([
      '[meta.namespace] prod: ConfigMap/postfix-config: metadata.namespace: must be email-server-prod (the environment\'s namespace) (got nothing)',
      '[meta.namespace] prod: Service/postfix-relay-metrics: metadata.namespace: must be email-server-prod (the environment\'s namespace) (got "monitoring")',
    ]);
  });

  it('meta.stable-selectors: a cdk8s.io label in a workload selector and in the Service', () => {
    const { env, objects } = synthesized('staging');
    const w = workload(objects);
    w.spec.selector.matchLabels['cdk8s.io/metadata.addr'] = 'staging-Relay-Workload-c8a1b2';
    w.spec.template.metadata.labels['cdk8s.io/metadata.addr'] = 'staging-Relay-Workload-c8a1b2';
    find(objects, 'Service', 'postfix-relay').spec.selector['cdk8s.io/metadata.addr'] = 'staging-Relay-Workload-c8a1b2';
    expect(trip('meta.stable-selectors', env, objects)).toEqual([
      '[meta.stable-selectors] staging: Service/postfix-relay: spec.selector.cdk8s.io/metadata.addr: must not be selected on (it changes when the construct tree changes); select on app.kubernetes.io/* labels (got "staging-Relay-Workload-c8a1b2")',
      '[meta.stable-selectors] staging: Deployment/postfix-relay: spec.selector.cdk8s.io/metadata.addr: must not be selected on (it changes when the construct tree changes); select on app.kubernetes.io/* labels (got "staging-Relay-Workload-c8a1b2")',
    ]);
  });
});

describe('network', () => {
  it('network.default-deny: Egress left out of policyTypes', () => {
    const { env, objects } = synthesized('prod');
    find(objects, 'NetworkPolicy').spec.policyTypes = ['Ingress'];
    expect(trip('network.default-deny', env, objects)).toEqual([
      '[network.default-deny] prod: NetworkPolicy/postfix-relay: spec.policyTypes: must list Ingress and Egress (missing Egress) (got ["Ingress"])',
    ]);
  });

  it('network.default-deny: no NetworkPolicy for the pods', () => {
    const { env, objects } = synthesized('dev');
    const without = objects.filter((o) => o.kind !== 'NetworkPolicy');
    const [message] = trip('network.default-deny', env, without);
    expect(message).toMatch(/^\[network\.default-deny\] dev: Deployment\/postfix-relay: spec\.template\.metadata\.labels: must be selected by a NetworkPolicy of the chart \(got \{.*\)$/);
  });

  it('network.ingress-sources: an ingress rule open to everyone, and ipBlocks outside the cluster', () => {
    const { env, objects } = synthesized('prod');
    const np = find(objects, 'NetworkPolicy');
    np.spec.ingress.push({ ports: [{ port: 25 }] });
    np.spec.ingress.push({ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '192.168.0.0/16' } }, { ipBlock: { cidr: '10.1.0.0/16' } }] });
    const n = np.spec.ingress.length;
    expect(trip('network.ingress-sources', env, objects)).toEqual([
      `[network.ingress-sources] prod: NetworkPolicy/postfix-relay: spec.ingress[${n - 2}].from: must list the allowed sources (an empty list admits every client) (got nothing)`,
      `[network.ingress-sources] prod: NetworkPolicy/postfix-relay: spec.ingress[${n - 1}].from[0].ipBlock.cidr: must never be a /0 network (an open relay) (got "0.0.0.0/0")`,
      `[network.ingress-sources] prod: NetworkPolicy/postfix-relay: spec.ingress[${n - 1}].from[1].ipBlock.cidr: must lie inside network.clusterCidrs (10.0.0.0/8) (got "192.168.0.0/16")`,
    ]);
  });

  const setMainCf = (objects: Obj[], param: string, value: string | undefined) => {
    const cm = find(objects, 'ConfigMap', 'postfix-config');
    const lines = (cm.data['main.cf'] as string).split('\n').filter((l) => !l.startsWith(`${param} =`));
    if (value !== undefined) lines.push(`${param} = ${value}`);
    cm.data['main.cf'] = lines.join('\n');
  };

  it('network.mynetworks-within-cluster: the rendered main.cf opens the relay to the world', () => {
    const { env, objects } = synthesized('prod');
    setMainCf(objects, 'mynetworks', '127.0.0.0/8 [::1]/128, 10.0.0.0/8 0.0.0.0/0');
    expect(trip('network.mynetworks-within-cluster', env, objects)).toEqual([
      '[network.mynetworks-within-cluster] prod: ConfigMap/postfix-config: data.main.cf: mynetworks: must never be a /0 network (an open relay) (got "0.0.0.0/0")',
    ]);
  });

  it('network.mynetworks-within-cluster: a network outside clusterCidrs, a lookup table, a missing line', () => {
    const { env, objects } = synthesized('staging');
    setMainCf(objects, 'mynetworks', '10.0.0.0/8,\n    192.168.1.0/24 cidr:/etc/postfix/clients');
    expect(trip('network.mynetworks-within-cluster', env, objects)).toEqual([
      '[network.mynetworks-within-cluster] staging: ConfigMap/postfix-config: data.main.cf: mynetworks: must lie inside network.clusterCidrs (10.0.0.0/8) (got "192.168.1.0/24")',
      '[network.mynetworks-within-cluster] staging: ConfigMap/postfix-config: data.main.cf: mynetworks: must list literal networks (lookup tables and files cannot be checked) (got "cidr:/etc/postfix/clients")',
    ]);
    setMainCf(objects, 'mynetworks', undefined);
    expect(messagesOf('network.mynetworks-within-cluster', env, objects)).toEqual([
      '[network.mynetworks-within-cluster] staging: ConfigMap/postfix-config: data.main.cf: mynetworks: must be set explicitly (the client networks allowed to relay) (got nothing)',
    ]);
  });

  it('network.mynetworks-within-cluster: an environment built around the schema (construct misuse)', () => {
    const { env, objects } = synthesized('prod');
    const bad = { ...env, network: { ...env.network, mynetworks: ['0.0.0.0/0', '172.16.0.0/12'] } };
    expect(trip('network.mynetworks-within-cluster', bad, objects)).toEqual([
      '[network.mynetworks-within-cluster] prod: environment/prod: network.mynetworks[0]: must never be a /0 network (an open relay) (got "0.0.0.0/0")',
      '[network.mynetworks-within-cluster] prod: environment/prod: network.mynetworks[1]: must lie inside network.clusterCidrs (10.0.0.0/8) (got "172.16.0.0/12")',
    ]);
  });

  it('tls.relay-level: "may" (opportunistic) is refused even with the override', () => {
    const { env, objects } = synthesized('prod');
    setMainCf(objects, 'smtp_tls_security_level', 'may');
    const overridden = { ...env, relay: { ...env.relay, allowUnverifiedTls: true } };
    expect(trip('tls.relay-level', overridden, objects)).toEqual([
      '[tls.relay-level] prod: ConfigMap/postfix-config: data.main.cf: smtp_tls_security_level: must be at least "encrypt" (mail could leave in clear text); use "secure" (got "may")',
    ]);
  });

  it('tls.relay-level: "encrypt" needs relay.allowUnverifiedTls', () => {
    const { env, objects } = synthesized('prod');
    setMainCf(objects, 'smtp_tls_security_level', 'encrypt');
    expect(trip('tls.relay-level', env, objects)).toEqual([
      '[tls.relay-level] prod: ConfigMap/postfix-config: data.main.cf: smtp_tls_security_level: must authenticate the relay ("secure" or "verify"); "encrypt" needs relay.allowUnverifiedTls: true (docs/POLICIES.md) (got "encrypt")',
    ]);
    const overridden = { ...env, relay: { ...env.relay, allowUnverifiedTls: true } };
    expect(messagesOf('tls.relay-level', overridden, objects)).toEqual([]);
  });

  it('tls.relay-level: a master.cf -o override and a missing main.cf line', () => {
    const { env, objects } = synthesized('staging');
    const cm = find(objects, 'ConfigMap', 'postfix-config');
    cm.data['master.cf'] = (cm.data['master.cf'] as string).replace(/^(relay .*)$/m, '$1\n  -o smtp_tls_security_level=none');
    setMainCf(objects, 'smtp_tls_security_level', undefined);
    expect(trip('tls.relay-level', env, objects)).toEqual([
      '[tls.relay-level] staging: ConfigMap/postfix-config: data.main.cf: smtp_tls_security_level: must be set (Postfix defaults to no TLS) (got nothing)',
      '[tls.relay-level] staging: ConfigMap/postfix-config: data.master.cf: -o smtp_tls_security_level: must be at least "encrypt" (mail could leave in clear text); use "secure" (got "none")',
    ]);
  });

  it('tls.relay-level: a per-destination policy table that lowers the level', () => {
    const { env, objects } = synthesized('prod');
    setMainCf(objects, 'smtp_tls_policy_maps', 'inline:{{[smtp-relay.gmail.com]:587 = may}}, texthash:/etc/postfix/tls_policy');
    expect(trip('tls.relay-level', env, objects)).toEqual([
      '[tls.relay-level] prod: ConfigMap/postfix-config: data.main.cf: smtp_tls_policy_maps: must be at least "encrypt" (mail could leave in clear text); use "secure" (got "may")',
      '[tls.relay-level] prod: ConfigMap/postfix-config: data.main.cf: smtp_tls_policy_maps: must use inline: or static: tables (a file table cannot be checked here) (got "texthash:/etc/postfix/tls_policy")',
    ]);
    setMainCf(objects, 'smtp_tls_policy_maps', 'inline:{{[smtp-relay.gmail.com]:587 = secure match=smtp-relay.gmail.com}}');
    expect(messagesOf('tls.relay-level', env, objects)).toEqual([]);
  });

  it('tls.relay-level: "verify" only with a bracketed relayhost (no MX lookup to forge)', () => {
    const { env, objects } = synthesized('prod');
    setMainCf(objects, 'smtp_tls_security_level', 'verify');
    expect(messagesOf('tls.relay-level', env, objects)).toEqual([]);
    setMainCf(objects, 'relayhost', 'smtp-relay.gmail.com:587');
    expect(trip('tls.relay-level', env, objects)).toEqual([
      '[tls.relay-level] prod: ConfigMap/postfix-config: data.main.cf: smtp_tls_security_level: must be "secure": "verify" trusts the MX lookup of an unbracketed relayhost (or set relay.allowUnverifiedTls: true) (got "verify")',
    ]);
  });

  it('tls.relay-level: the ConfigMap lost its main.cf', () => {
    const { env, objects } = synthesized('dev');
    delete find(objects, 'ConfigMap', 'postfix-config').data['main.cf'];
    expect(trip('tls.relay-level', env, objects)).toEqual([
      '[tls.relay-level] dev: ConfigMap/postfix-config: data.main.cf: must hold the rendered main.cf (got nothing)',
    ]);
  });
});

describe('network: the LoadBalancer (issue 13)', () => {
  // A prod chart whose postfix-relay Service is a LoadBalancer for two client networks.
  const lbEnv = (): { env: EnvironmentConfig; objects: Obj[] } => {
    const { env } = synthesized('prod');
    const lb = { ...env, service: { ...env.service, type: 'LoadBalancer' as const, loadBalancerSourceRanges: ['192.168.50.0/24', '203.0.113.0/28'] } };
    const { charts } = buildApp([lb]);
    return { env: lb, objects: structuredClone(chartObjects(charts.get(lb)!)) as Obj[] };
  };

  it('the LoadBalancer chart passes every check', () => {
    const { env, objects } = lbEnv();
    expect(allMessages(env, objects)).toEqual([]);
  });

  it('network.load-balancer: a NodePort, a second LoadBalancer, and a LoadBalancer the environment did not ask for', () => {
    const { env, objects } = synthesized('prod');
    find(objects, 'Service', 'postfix-relay-metrics').spec.type = 'NodePort';
    find(objects, 'Service', 'postfix-relay').spec.type = 'LoadBalancer';
    expect(trip('network.load-balancer', env, objects)).toEqual([
      '[network.load-balancer] prod: Service/postfix-relay: spec.type: must be ClusterIP: only the postfix-relay Service may be a LoadBalancer, and only with service.type LoadBalancer (got "LoadBalancer")',
      '[network.load-balancer] prod: Service/postfix-relay-metrics: spec.type: must not be NodePort (it opens the port on every node to every address) (got "NodePort")',
    ]);
  });

  it('network.load-balancer: open to everyone, client addresses lost, another port exposed', () => {
    const { env, objects } = lbEnv();
    const svc = find(objects, 'Service', 'postfix-relay');
    svc.spec.loadBalancerSourceRanges = ['0.0.0.0/1', '128.0.0.0/1'];
    svc.spec.externalTrafficPolicy = 'Cluster';
    svc.spec.ports.push({ name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP' });
    expect(trip('network.load-balancer', env, objects)).toEqual([
      '[network.load-balancer] prod: Service/postfix-relay: spec.ports: must expose only the SMTP port 25 (got [25,8080])',
      "[network.load-balancer] prod: Service/postfix-relay: spec.externalTrafficPolicy: must be Local: with Cluster the relay sees a node address instead of the client's, and mynetworks and the NetworkPolicy decide on the wrong address (got \"Cluster\")",
      '[network.load-balancer] prod: Service/postfix-relay: spec.loadBalancerSourceRanges: must not together cover every IPv4 address (an open relay) (got ["0.0.0.0/1","128.0.0.0/1"])',
      '[network.load-balancer] prod: Service/postfix-relay: spec.loadBalancerSourceRanges: must be exactly service.loadBalancerSourceRanges (192.168.50.0/24, 203.0.113.0/28) (got ["0.0.0.0/1","128.0.0.0/1"])',
      '[network.load-balancer] prod: Service/postfix-relay: spec.loadBalancerSourceRanges: 0.0.0.0/1 must be let in on port 25 by the NetworkPolicy of the relay pods (an ipBlock of an ingress rule) (got "0.0.0.0/1")',
      '[network.load-balancer] prod: Service/postfix-relay: spec.loadBalancerSourceRanges: 0.0.0.0/1 must be trusted by mynetworks in postfix-config (or its clients are refused) (got "0.0.0.0/1")',
      '[network.load-balancer] prod: Service/postfix-relay: spec.loadBalancerSourceRanges: 128.0.0.0/1 must be let in on port 25 by the NetworkPolicy of the relay pods (an ipBlock of an ingress rule) (got "128.0.0.0/1")',
      '[network.load-balancer] prod: Service/postfix-relay: spec.loadBalancerSourceRanges: 128.0.0.0/1 must be trusted by mynetworks in postfix-config (or its clients are refused) (got "128.0.0.0/1")',
    ]);
    svc.spec.loadBalancerSourceRanges = [];
    expect(messagesOf('network.load-balancer', env, objects)).toContain(
      '[network.load-balancer] prod: Service/postfix-relay: spec.loadBalancerSourceRanges: must list the client networks (a LoadBalancer without source ranges admits every address: an open relay) (got [])',
    );
  });

  it('network.load-balancer: a range the NetworkPolicy or mynetworks leaves out', () => {
    const { env, objects } = lbEnv();
    find(objects, 'NetworkPolicy').spec.ingress[1].from.pop();
    const cm = find(objects, 'ConfigMap', 'postfix-config');
    cm.data['main.cf'] = (cm.data['main.cf'] as string).replace(/^mynetworks = .*$/m, 'mynetworks = 10.0.0.0/8, 203.0.113.0/28');
    expect(trip('network.load-balancer', env, objects)).toEqual([
      '[network.load-balancer] prod: Service/postfix-relay: spec.loadBalancerSourceRanges: 192.168.50.0/24 must be trusted by mynetworks in postfix-config (or its clients are refused) (got "192.168.50.0/24")',
      '[network.load-balancer] prod: Service/postfix-relay: spec.loadBalancerSourceRanges: 203.0.113.0/28 must be let in on port 25 by the NetworkPolicy of the relay pods (an ipBlock of an ingress rule) (got "203.0.113.0/28")',
    ]);
  });

  it('network.ingress-sources and network.mynetworks-within-cluster: the LoadBalancer ranges are allowed, nothing wider', () => {
    const { env, objects } = lbEnv();
    find(objects, 'NetworkPolicy').spec.ingress[1].from.push({ ipBlock: { cidr: '192.168.0.0/16' } });
    const cm = find(objects, 'ConfigMap', 'postfix-config');
    cm.data['main.cf'] = (cm.data['main.cf'] as string).replace(/^mynetworks = .*$/m, 'mynetworks = 10.0.0.0/8, 192.168.50.0/24, 203.0.113.0/24');
    expect(trip('network.ingress-sources', env, objects)).toEqual([
      '[network.ingress-sources] prod: NetworkPolicy/postfix-relay: spec.ingress[1].from[2].ipBlock.cidr: must lie inside network.clusterCidrs (10.0.0.0/8) or service.loadBalancerSourceRanges (192.168.50.0/24, 203.0.113.0/28) (got "192.168.0.0/16")',
    ]);
    expect(trip('network.mynetworks-within-cluster', env, objects)).toEqual([
      '[network.mynetworks-within-cluster] prod: ConfigMap/postfix-config: data.main.cf: mynetworks: must lie inside network.clusterCidrs (10.0.0.0/8) or service.loadBalancerSourceRanges (192.168.50.0/24, 203.0.113.0/28) (got "203.0.113.0/24")',
    ]);
  });

  it('network.ingress-sources and network.mynetworks-within-cluster: halves that together make 0.0.0.0/0', () => {
    const { env, objects } = synthesized('prod');
    const wide = { ...env, network: { ...env.network, clusterCidrs: ['0.0.0.0/1', '128.0.0.0/1'], mynetworks: ['0.0.0.0/1', '128.0.0.0/1'] } };
    find(objects, 'NetworkPolicy').spec.ingress.push({ from: [{ ipBlock: { cidr: '0.0.0.0/1' } }, { ipBlock: { cidr: '128.0.0.0/1' } }] });
    const cm = find(objects, 'ConfigMap', 'postfix-config');
    cm.data['main.cf'] = (cm.data['main.cf'] as string).replace(/^mynetworks = .*$/m, 'mynetworks = 0.0.0.0/1, 128.0.0.0/1');
    expect(trip('network.ingress-sources', wide, objects)).toEqual([
      '[network.ingress-sources] prod: NetworkPolicy/postfix-relay: spec.ingress[*].from[*].ipBlock.cidr: must not together cover every IPv4 address (an open relay) (got ["0.0.0.0/1","128.0.0.0/1"])',
    ]);
    expect(trip('network.mynetworks-within-cluster', wide, objects)).toEqual([
      '[network.mynetworks-within-cluster] prod: ConfigMap/postfix-config: data.main.cf: mynetworks: must not together cover every IPv4 address (an open relay) (got "0.0.0.0/1, 128.0.0.0/1")',
    ]);
  });
});

describe('the rule register', () => {
  const doc = readFileSync('docs/POLICIES.md', 'utf8');
  it('ids are unique, and docs/POLICIES.md has a section for exactly these ids', () => {
    const ids = POLICY_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const documented = [...doc.matchAll(/^### `([a-z.-]+)`$/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...ids, 'schema'].sort());
    expect(doc).toContain('relay.allowUnverifiedTls: true');
  });

  it('every rule has a one-line doc, shown in the table of docs/POLICIES.md', () => {
    for (const rule of POLICY_RULES) {
      expect(rule.doc, rule.id).toMatch(/^[A-Z`][^\n]{10,250}\.$/);
      expect(doc).toContain(`| [\`${rule.id}\`](#${rule.id.replace(/\./g, '')}) | ${rule.doc} |`);
    }
  });

  it('every rule is tripped by a test of this file (a rule nobody trips is a rule nobody proved)', () => {
    const source = readFileSync(__filename, 'utf8');
    const untripped = POLICY_RULES.map((r) => r.id).filter((id) => !source.includes(`trip('${id}'`));
    expect(untripped).toEqual([]);
  });
});
