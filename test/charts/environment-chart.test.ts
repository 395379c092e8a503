import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, find, loadEnv, matches, one, render, workloadOf, type K8sObject } from './render';

const NAMESPACED = ['Deployment', 'StatefulSet', 'Service', 'ConfigMap', 'NetworkPolicy', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'ServiceMonitor', 'PrometheusRule'];

describe.each(ENVIRONMENTS)('environment %s', (name) => {
  const env = loadEnv(name);
  const objects = render(name);
  const workload = workloadOf(objects);
  const podLabels = workload.spec.template.metadata.labels as Record<string, string>;
  const containers = workload.spec.template.spec.containers as K8sObject[];

  it('has every resource of the relay', () => {
    expect(one(objects, 'Namespace').metadata.name).toBe(env.namespace);
    expect(one(objects, 'Service', 'postfix-relay').spec.type).toBe('ClusterIP');
    expect(one(objects, 'Service', 'postfix-relay-headless').spec.clusterIP).toBe('None');
    expect(one(objects, 'Service', 'postfix-relay-metrics').spec.ports[0].port).toBe(8080);
    expect(one(objects, 'ConfigMap', 'postfix-config').data).toHaveProperty(['main.cf']);
    expect(one(objects, 'ConfigMap', 'postfix-config').data).toHaveProperty(['master.cf']);
    expect(one(objects, 'NetworkPolicy', 'postfix-relay')).toBeDefined();
    expect(one(objects, 'ServiceMonitor', 'postfix-relay')).toBeDefined();
    expect(one(objects, 'PrometheusRule', 'postfix-relay')).toBeDefined();
    expect(one(objects, 'ConfigMap', 'postfix-relay-dashboard').metadata.labels.grafana_dashboard).toBe('1');
    expect(find(objects, 'PodDisruptionBudget')).toHaveLength(env.podDisruptionBudget.enabled ? 1 : 0);
    expect(find(objects, 'HorizontalPodAutoscaler')).toHaveLength(env.autoscaling.enabled ? 1 : 0);
    expect(workload.kind).toBe(env.queue.persistence.enabled ? 'StatefulSet' : 'Deployment');
  });

  it('puts every namespaced object in the namespace, with stable app.kubernetes.io names', () => {
    for (const o of objects.filter((o) => NAMESPACED.includes(o.kind))) {
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(env.namespace);
      expect(o.metadata.name, `${o.kind}`).toMatch(/^(postfix-relay|postfix-config|postfix-relay-[a-z]+)$/);
      expect(o.metadata.labels['app.kubernetes.io/name']).toBe('postfix-relay');
      expect(o.metadata.labels['app.kubernetes.io/instance']).toBe(`email-server-${name}`);
    }
  });

  it('keeps the cluster-scoped Namespace free of a namespace field', () => {
    expect(one(objects, 'Namespace').metadata.namespace).toBeUndefined();
  });

  it('uses the Argo CD Application name as its instance label, so label tracking changes nothing', () => {
    expect(workload.spec.selector.matchLabels['app.kubernetes.io/instance']).toBe(`email-server-${name}`);
  });

  it('has no construct-address labels anywhere', () => {
    expect(JSON.stringify(objects)).not.toContain('cdk8s.io/metadata.addr');
  });

  it('selects its own pods with the workload selector', () => {
    expect(matches(workload.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(Object.keys(workload.spec.selector.matchLabels).sort()).toEqual(['app.kubernetes.io/instance', 'app.kubernetes.io/name']);
  });

  it('has Services whose selectors match the pods and whose targetPorts are container ports', () => {
    const portNames = containers.flatMap((c) => (c.ports ?? []).map((p: K8sObject) => p.name));
    const portNumbers = containers.flatMap((c) => (c.ports ?? []).map((p: K8sObject) => p.containerPort));
    for (const svc of find(objects, 'Service')) {
      expect(matches(svc.spec.selector, podLabels), svc.metadata.name).toBe(true);
      for (const p of svc.spec.ports) {
        expect([...portNames, ...portNumbers], `${svc.metadata.name}:${p.name}`).toContain(p.targetPort);
      }
    }
    expect(one(objects, 'Service', 'postfix-relay').spec.ports[0]).toMatchObject({ port: 25, targetPort: 'smtp' });
  });

  it('has a NetworkPolicy that selects the relay pods, denies by default and opens only what is needed', () => {
    const np = one(objects, 'NetworkPolicy');
    expect(matches(np.spec.podSelector.matchLabels, podLabels)).toBe(true);
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const [smtp, metrics] = np.spec.ingress;
    expect(smtp.from).toEqual([{ namespaceSelector: { matchLabels: { 'email-server.kubernetes.io/smtp-access': 'true' } } }]);
    expect(smtp.ports).toEqual([{ protocol: 'TCP', port: 25 }]);
    expect(metrics.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
    expect(metrics.ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
    const egressPorts = np.spec.egress.flatMap((r: K8sObject) => r.ports.map((p: K8sObject) => `${p.protocol}/${p.port}`));
    expect(egressPorts.sort()).toEqual(['TCP/53', 'TCP/587', 'UDP/53']);
    const relayRule = np.spec.egress.find((r: K8sObject) => r.ports[0].port === 587);
    expect(relayRule.to[0].ipBlock).toEqual({ cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] });
  });

  it('has a PDB and an HPA that target the workload', () => {
    for (const pdb of find(objects, 'PodDisruptionBudget')) {
      expect(matches(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
      expect(pdb.spec.minAvailable).toBe(env.podDisruptionBudget.minAvailable);
    }
    for (const hpa of find(objects, 'HorizontalPodAutoscaler')) {
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: workload.kind, name: workload.metadata.name });
      expect(hpa.spec.maxReplicas).toBe(env.autoscaling.maxReplicas);
      expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(600);
      expect(workload.spec.replicas).toBeUndefined();
    }
    if (!env.autoscaling.enabled) expect(workload.spec.replicas).toBe(env.replicas);
  });

  it('has a ServiceMonitor that selects the metrics Service by label and port name', () => {
    const sm = one(objects, 'ServiceMonitor');
    const svc = one(objects, 'Service', 'postfix-relay-metrics');
    expect(matches(sm.spec.selector.matchLabels, svc.metadata.labels)).toBe(true);
    expect(find(objects, 'Service').filter((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels))).toHaveLength(1);
    expect(svc.spec.ports.map((p: K8sObject) => p.name)).toContain(sm.spec.endpoints[0].port);
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: [env.namespace] });
  });

  it('keeps every selector working when a tool rewrites managed-by and part-of (Helm does)', () => {
    const relabelled: K8sObject[] = objects.map((o) => ({
      ...o,
      metadata: { ...o.metadata, labels: { ...o.metadata.labels, 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/part-of': 'x' } },
    }));
    const sm = one(relabelled, 'ServiceMonitor');
    expect(find(relabelled, 'Service').filter((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels)).map((s) => s.metadata.name)).toEqual([
      'postfix-relay-metrics',
    ]);
    for (const o of relabelled) {
      const selector = o.spec?.selector?.matchLabels ?? o.spec?.podSelector?.matchLabels ?? o.spec?.selector;
      if (selector && typeof selector === 'object') {
        expect(Object.keys(selector), `${o.kind}/${o.metadata.name}`).not.toContain('app.kubernetes.io/managed-by');
        expect(Object.keys(selector), `${o.kind}/${o.metadata.name}`).not.toContain('app.kubernetes.io/part-of');
      }
    }
  });

  it('gives every container resources, probes and a locked-down security context', () => {
    for (const c of containers) {
      expect(c.resources.requests.cpu, c.name).toBeDefined();
      expect(c.resources.limits.memory, c.name).toBeDefined();
      expect(c.livenessProbe, c.name).toBeDefined();
      expect(c.readinessProbe, c.name).toBeDefined();
      expect(c.imagePullPolicy).toBe('IfNotPresent');
      expect(c.image).not.toMatch(/:latest$/);
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false });
      expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
    }
    const [postfix, exporter] = containers;
    expect(postfix.resources).toEqual({
      requests: { cpu: env.resources.requests.cpu, memory: env.resources.requests.memory },
      limits: { cpu: env.resources.limits.cpu, memory: env.resources.limits.memory },
    });
    expect(postfix.livenessProbe).toMatchObject({ tcpSocket: { port: 'smtp' }, initialDelaySeconds: env.probes.initialDelaySeconds, periodSeconds: 5 });
    expect(postfix.readinessProbe).toMatchObject({ tcpSocket: { port: 'smtp' }, periodSeconds: 5 });
    expect(postfix.startupProbe).toMatchObject({ tcpSocket: { port: 'smtp' } });
    expect(postfix.command).toEqual(['/bin/sh', '/etc/postfix-relay/entrypoint.sh']);
    expect(postfix.securityContext.capabilities.add).not.toContain('SYS_CHROOT');
    expect(exporter.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    expect(exporter.ports).toEqual([{ name: 'metrics', containerPort: 8080, protocol: 'TCP' }]);
  });

  it('runs pods without a service-account token or service links, spread across nodes', () => {
    const spec = workload.spec.template.spec;
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.enableServiceLinks).toBe(false);
    expect(spec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: workload.spec.selector.matchLabels } });
  });

  it('rolls the pods when the rendered config changes', () => {
    const checksum = workload.spec.template.metadata.annotations['checksum/config'];
    expect(checksum).toMatch(/^[a-f0-9]{64}$/);
    const changed = render({ ...env, mail: { ...env.mail, softBounce: !env.mail.softBounce } });
    expect(workloadOf(changed).spec.template.metadata.annotations['checksum/config']).not.toBe(checksum);
  });

  it('never takes a ready pod away during a rolling update', () => {
    if (workload.kind === 'Deployment') {
      expect(workload.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    } else {
      expect(workload.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
      expect(workload.spec.serviceName).toBe('postfix-relay-headless');
    }
  });

  it('matches its snapshot', () => {
    expect(objects).toMatchSnapshot();
  });
});

describe('the user\'s production system', () => {
  const objects = render('prod');
  const workload = workloadOf(objects);
  it('runs two relay pods with the user\'s resources, up to ten with the HPA', () => {
    const hpa = one(objects, 'HorizontalPodAutoscaler');
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(10);
    expect(workload.spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '200m', memory: '256Mi' } });
    expect(workload.metadata.namespace).toBe('email-server-prod');
  });
  it('relays through Google with the user\'s identity', () => {
    const mainCf = one(objects, 'ConfigMap', 'postfix-config').data['main.cf'] as string;
    expect(mainCf).toMatch(/^relayhost = \[smtp-relay\.gmail\.com\]:587$/m);
    expect(mainCf).toMatch(/^myhostname = mail\.bionicaisolutions\.com$/m);
    expect(mainCf).toContain('bionicaisolutions.com');
    expect(mainCf).toContain('gmail.com');
  });
});

describe('development', () => {
  it('has one pod, no HPA and no PDB', () => {
    const objects = render('dev');
    expect(workloadOf(objects).spec.replicas).toBe(1);
    expect(find(objects, 'HorizontalPodAutoscaler')).toHaveLength(0);
    expect(find(objects, 'PodDisruptionBudget')).toHaveLength(0);
  });
});
