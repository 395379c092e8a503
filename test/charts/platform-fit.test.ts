import { describe, expect, it } from 'vitest';
import { allowsIngress, type Peer } from './network-policy-model';
import { find, one, render, workloadOf, type K8sObject } from './render';
import { variant } from './variant';

// Issue 13: the fields platform teams need (scheduling, pod and Service metadata, pull secrets,
// a LoadBalancer for clients outside the cluster), each asked of the synthesized objects.

const podSpec = (objects: K8sObject[]) => workloadOf(objects).spec.template.spec;
const mainCf = (objects: K8sObject[]) => one(objects, 'ConfigMap', 'postfix-config').data['main.cf'] as string;
const mynetworks = (objects: K8sObject[]) => /^mynetworks = (.*)$/m.exec(mainCf(objects))![1];

describe('defaults add nothing', () => {
  it.each(['dev', 'staging', 'prod'] as const)('%s: no scheduling, pull secrets, extra metadata or LoadBalancer', (name) => {
    const objects = render(name);
    const spec = podSpec(objects);
    for (const key of ['nodeSelector', 'tolerations', 'affinity', 'priorityClassName', 'imagePullSecrets']) expect(spec, key).not.toHaveProperty(key);
    expect(Object.keys(workloadOf(objects).spec.template.metadata.annotations)).toEqual(['checksum/config']);
    for (const svc of find(objects, 'Service')) {
      expect(svc.metadata.annotations, svc.metadata.name).toBeUndefined();
      expect(svc.spec.type ?? 'ClusterIP', svc.metadata.name).toBe('ClusterIP');
      expect(svc.spec.loadBalancerSourceRanges).toBeUndefined();
    }
  });
});

describe('scheduling', () => {
  const scheduling = {
    nodeSelector: { 'cloud.google.com/gke-nodepool': 'smtp-egress' },
    tolerations: [
      { key: 'dedicated', operator: 'Equal', value: 'smtp', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
    ],
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'egress.example.com/nat', operator: 'In', values: ['registered'] }] }],
        },
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['europe-west1-b'] }] } }],
      },
    },
    priorityClassName: 'mail-critical',
  };

  it.each(['dev', 'prod'] as const)('lands in the pod spec of the %s workload; the pod spreading stays', (name) => {
    const objects = render(variant(name, { scheduling }));
    const spec = podSpec(objects);
    expect(spec.nodeSelector).toEqual(scheduling.nodeSelector);
    expect(spec.tolerations).toEqual(scheduling.tolerations);
    expect(spec.affinity).toEqual(scheduling.affinity);
    expect(spec.priorityClassName).toBe('mail-critical');
    expect(spec.topologySpreadConstraints).toEqual(podSpec(render(name)).topologySpreadConstraints);
  });

  it('each field alone changes only its own key', () => {
    const base = podSpec(render('staging'));
    for (const [field, value] of Object.entries(scheduling)) {
      const spec = podSpec(render(variant('staging', { scheduling: { [field]: value } })));
      expect(spec[field], field).toEqual(value);
      const { [field]: _, ...rest } = spec;
      expect(rest, field).toEqual(base);
    }
  });
});

describe('pod and Service metadata', () => {
  it('pod.labels and pod.annotations reach the pod template only, beside the chart\'s own', () => {
    const base = render('prod');
    const objects = render(variant('prod', { pod: { labels: { 'sidecar.istio.io/inject': 'false', team: 'mail' }, annotations: { 'egress.example.com/gateway': 'smtp-egress' } } }));
    const w = workloadOf(objects);
    expect(w.spec.template.metadata.labels).toEqual({ ...workloadOf(base).spec.template.metadata.labels, 'sidecar.istio.io/inject': 'false', team: 'mail' });
    expect(w.spec.template.metadata.annotations).toEqual({
      'checksum/config': workloadOf(base).spec.template.metadata.annotations['checksum/config'],
      'egress.example.com/gateway': 'smtp-egress',
    });
    // The selector, the workload's own labels and every other object stay as they were.
    expect(w.spec.selector).toEqual(workloadOf(base).spec.selector);
    expect(w.metadata).toEqual(workloadOf(base).metadata);
    expect(objects.filter((o) => o !== w)).toEqual(base.filter((o) => o.kind !== w.kind));
  });

  it('service.annotations go on the postfix-relay Service only', () => {
    const objects = render(variant('staging', { service: { annotations: { 'networking.gke.io/load-balancer-type': 'Internal' } } }));
    expect(one(objects, 'Service', 'postfix-relay').metadata.annotations).toEqual({ 'networking.gke.io/load-balancer-type': 'Internal' });
    expect(one(objects, 'Service', 'postfix-relay-headless').metadata.annotations).toBeUndefined();
    expect(one(objects, 'Service', 'postfix-relay-metrics').metadata.annotations).toBeUndefined();
  });

  it('an AppArmor annotation that unconfines the pod is refused by the baseline policy', () => {
    const env = variant('prod', { pod: { annotations: { 'container.apparmor.security.beta.kubernetes.io/postfix': 'unconfined' } } });
    expect(() => render(env)).toThrow(
      '[pss.baseline] prod: StatefulSet/postfix-relay: spec.template.metadata.annotations.container.apparmor.security.beta.kubernetes.io/postfix: must be runtime/default or localhost/<profile> (got "unconfined")',
    );
  });
});

describe('image pull secrets', () => {
  it('lists the Secrets of both images on the pod, each once, Postfix\'s first', () => {
    const objects = render(variant('prod', { image: { pullSecrets: ['mirror', 'shared'] }, metrics: { image: { pullSecrets: ['shared', 'ghcr'] } } }));
    expect(podSpec(objects).imagePullSecrets).toEqual([{ name: 'mirror' }, { name: 'shared' }, { name: 'ghcr' }]);
  });

  it('each image\'s list alone is enough', () => {
    expect(podSpec(render(variant('dev', { image: { pullSecrets: ['mirror'] } }))).imagePullSecrets).toEqual([{ name: 'mirror' }]);
    expect(podSpec(render(variant('dev', { metrics: { image: { pullSecrets: ['ghcr'] } } }))).imagePullSecrets).toEqual([{ name: 'ghcr' }]);
  });

  it('leaves out the exporter\'s Secrets when the exporter does not run', () => {
    const env = variant('dev', { metrics: { enabled: false, image: { pullSecrets: ['ghcr'] } }, serviceMonitor: { enabled: false }, alerts: { enabled: false } });
    expect(podSpec(render(env)).imagePullSecrets).toBeUndefined();
  });
});

describe('a LoadBalancer for clients outside the cluster', () => {
  const ranges = ['192.168.50.0/24', '203.0.113.16/28', '2001:db8:10::/48'];
  const lb = { service: { type: 'LoadBalancer', loadBalancerSourceRanges: ranges } };
  const base = render('prod');
  const objects = render(variant('prod', lb));
  const policies = find(objects, 'NetworkPolicy');
  const pod = workloadOf(objects).spec.template.metadata.labels as Record<string, string>;
  const outside = (ip: string): Peer => ({ namespace: '', namespaceLabels: {}, ip });

  it('makes postfix-relay a LoadBalancer on port 25 for exactly those ranges, keeping client addresses', () => {
    const svc = one(objects, 'Service', 'postfix-relay');
    expect(svc.spec).toEqual({
      ...one(base, 'Service', 'postfix-relay').spec,
      type: 'LoadBalancer',
      loadBalancerSourceRanges: ranges,
      externalTrafficPolicy: 'Local',
    });
    expect(svc.spec.ports).toEqual([{ name: 'smtp', port: 25, targetPort: 'smtp', protocol: 'TCP' }]);
    expect(one(objects, 'Service', 'postfix-relay-headless')).toEqual(one(base, 'Service', 'postfix-relay-headless'));
    expect(one(objects, 'Service', 'postfix-relay-metrics')).toEqual(one(base, 'Service', 'postfix-relay-metrics'));
  });

  it('lets the same ranges in on port 25 through the NetworkPolicy, and nothing else', () => {
    expect(allowsIngress(policies, pod, outside('192.168.50.7'), 'TCP', 25)).toBe(true);
    expect(allowsIngress(policies, pod, outside('203.0.113.20'), 'TCP', 25)).toBe(true);
    expect(allowsIngress(policies, pod, outside('203.0.113.40'), 'TCP', 25)).toBe(false);
    expect(allowsIngress(policies, pod, outside('198.51.100.1'), 'TCP', 25)).toBe(false);
    expect(allowsIngress(policies, pod, outside('192.168.50.7'), 'TCP', 8080)).toBe(false);
    const [np] = policies;
    const [np0] = find(base, 'NetworkPolicy');
    expect(np.spec.ingress).toEqual([np0.spec.ingress[0], { from: ranges.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: 25 }] }, ...np0.spec.ingress.slice(1)]);
    expect(np.spec.egress).toEqual(np0.spec.egress);
  });

  it('trusts the same ranges in mynetworks, after the cluster networks', () => {
    expect(mynetworks(base)).toBe('10.0.0.0/8');
    expect(mynetworks(objects)).toBe('10.0.0.0/8, 192.168.50.0/24, 203.0.113.16/28, [2001:db8:10::]/48');
  });

  it('changes nothing else: every other object is as before (the pods roll for the new main.cf)', () => {
    const changed = new Set(['Service/postfix-relay', 'NetworkPolicy/postfix-relay', 'ConfigMap/postfix-config', `${workloadOf(base).kind}/postfix-relay`]);
    const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
    expect(objects.filter((o) => !changed.has(key(o)))).toEqual(base.filter((o) => !changed.has(key(o))));
    const strip = (o: K8sObject) => ({ ...o, spec: { ...o.spec, template: { ...o.spec.template, metadata: { ...o.spec.template.metadata, annotations: {} } } } });
    expect(strip(workloadOf(objects))).toEqual(strip(workloadOf(base)));
    const lines = (o: K8sObject[]) => mainCf(o).split('\n');
    const diff = lines(objects).filter((l, i) => l !== lines(base)[i]);
    expect(diff).toEqual([expect.stringMatching(/^# Clients allowed to relay: the cluster networks, then the clients outside/), expect.stringMatching(/^mynetworks = /)]);
  });

  it('keeps cluster networks inside a wide range closed to pods without the access label', () => {
    const env = variant('prod', { network: { clusterCidrs: ['10.244.0.0/16', '10.96.0.0/12'] }, service: { type: 'LoadBalancer', loadBalancerSourceRanges: ['10.0.0.0/8'] } });
    const np = one(render(env), 'NetworkPolicy');
    expect(np.spec.ingress[1].from).toEqual([{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.244.0.0/16', '10.96.0.0/12'] } }]);
    const policies = [np];
    expect(allowsIngress(policies, pod, outside('10.20.0.5'), 'TCP', 25)).toBe(true);
    expect(allowsIngress(policies, pod, outside('10.244.3.3'), 'TCP', 25)).toBe(false);
  });
});
