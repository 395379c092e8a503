import { describe, expect, it } from 'vitest';
import { cidrContains } from '../../src/config/formats';
import { find as policyFind, messagesOf, synthesized } from '../policy/fixtures';
import { allowsEgress, allowsIngress, type Peer } from './network-policy-model';
import { ENVIRONMENTS, find, loadEnv, one, render, workloadOf, type K8sObject } from './render';

// The seed's "network policy enforcement" and "namespace access control" tests, asked of the
// synthesized policies through a model of Kubernetes' NetworkPolicy semantics.
describe.each(ENVIRONMENTS)('NetworkPolicy of %s', (name) => {
  const env = loadEnv(name);
  const objects = render(name);
  const policies = find(objects, 'NetworkPolicy');
  const pod = workloadOf(objects).spec.template.metadata.labels as Record<string, string>;
  const ns = (namespace: string, labels: Record<string, string> = {}): Peer => ({
    namespace,
    namespaceLabels: { 'kubernetes.io/metadata.name': namespace, ...labels },
    podLabels: { app: 'whatever' },
  });
  const granted = ns('shop', { 'email-server.kubernetes.io/smtp-access': 'true' });
  const external = (ip: string): Peer => ({ namespace: '', namespaceLabels: {}, ip });

  it('lets a labelled namespace send mail on 25, and nothing else', () => {
    expect(allowsIngress(policies, pod, granted, 'TCP', 25)).toBe(true);
    expect(allowsIngress(policies, pod, granted, 'TCP', 8080)).toBe(false);
    expect(allowsIngress(policies, pod, granted, 'UDP', 25)).toBe(false);
  });

  it('refuses namespaces without the label, or with the wrong value', () => {
    expect(allowsIngress(policies, pod, ns('shop'), 'TCP', 25)).toBe(false);
    expect(allowsIngress(policies, pod, ns('shop', { 'email-server.kubernetes.io/smtp-access': 'false' }), 'TCP', 25)).toBe(false);
    expect(allowsIngress(policies, pod, external('203.0.113.9'), 'TCP', 25)).toBe(false);
  });

  it('lets the relay namespace itself send (the deploy script\'s test pod)', () => {
    const self = one(objects, 'Namespace').metadata.labels as Record<string, string>;
    expect(allowsIngress(policies, pod, { namespace: env.namespace, namespaceLabels: self, podLabels: {} }, 'TCP', 25)).toBe(true);
  });

  it('lets only the monitoring namespace scrape metrics', () => {
    expect(allowsIngress(policies, pod, ns(env.network.monitoringNamespace), 'TCP', env.metrics.port)).toBe(true);
    expect(allowsIngress(policies, pod, ns(env.network.monitoringNamespace), 'TCP', 25)).toBe(false);
    expect(allowsIngress(policies, pod, granted, 'TCP', env.metrics.port)).toBe(false);
  });

  it('lets the relay reach DNS and the Gmail relay port outside the cluster only', () => {
    expect(allowsEgress(policies, pod, ns('kube-system'), 'UDP', 53)).toBe(true);
    expect(allowsEgress(policies, pod, ns('kube-system'), 'TCP', 53)).toBe(true);
    expect(allowsEgress(policies, pod, external('142.250.1.28'), 'TCP', 587)).toBe(true);
    expect(allowsEgress(policies, pod, external('142.250.1.28'), 'TCP', 25)).toBe(false);
    expect(allowsEgress(policies, pod, external('142.250.1.28'), 'TCP', 443)).toBe(false);
    expect(allowsEgress(policies, pod, external('10.1.2.3'), 'TCP', 587)).toBe(false);
    expect(allowsEgress(policies, pod, ns('shop'), 'TCP', 25)).toBe(false);
  });

  it('selects the relay pods only', () => {
    expect(allowsIngress(policies, { app: 'other' }, ns('shop'), 'TCP', 25)).toBe(true); // not ours to restrict
  });
});

// Egress confinement, asked of the model over many destinations: where port 53 goes, and that
// nothing but the relay port leaves the cluster.
const WORLD = ['8.8.8.8', '1.1.1.1', '142.250.1.28', '203.0.113.9', '169.254.20.10', '100.64.0.1'];
const PORTS = [22, 25, 53, 80, 443, 465, 587, 2525, 5353, 8080];

describe.each([
  ...ENVIRONMENTS.map((name) => [name, loadEnv(name)] as const),
  // NodeLocal DNSCache outside the pod network, and a relay range next to a catch-all.
  [
    'prod with dnsCidrs and two relay ranges',
    (() => {
      const env = loadEnv('prod');
      return {
        ...env,
        network: { ...env.network, clusterCidrs: ['10.0.0.0/8', '192.168.0.0/16'], mynetworks: ['10.0.0.0/8'], dnsCidrs: ['169.254.20.10/32'], relayCidrs: ['142.250.0.0/15', '0.0.0.0/0'] },
      };
    })(),
  ] as const,
])('egress of %s', (_name, env) => {
  const objects = render(env);
  const policies = find(objects, 'NetworkPolicy');
  const pod = workloadOf(objects).spec.template.metadata.labels as Record<string, string>;
  const external = (ip: string): Peer => ({ namespace: '', namespaceLabels: {}, ip });
  const clusterPod: Peer = { namespace: 'kube-system', namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' }, podLabels: { 'k8s-app': 'kube-dns' } };
  const inDnsCidrs = (ip: string) => env.network.dnsCidrs.some((c) => cidrContains(c, `${ip}/32`));
  const inCluster = (ip: string) => env.network.clusterCidrs.some((c) => cidrContains(c, `${ip}/32`));

  it('reaches port 53 in the cluster and at network.dnsCidrs only, never elsewhere outside', () => {
    for (const protocol of ['UDP', 'TCP']) {
      expect(allowsEgress(policies, pod, clusterPod, protocol, 53), `${protocol}/53 to cluster DNS`).toBe(true);
      for (const ip of WORLD) {
        expect(allowsEgress(policies, pod, external(ip), protocol, 53), `${protocol}/53 to ${ip}`).toBe(inDnsCidrs(ip));
      }
    }
    expect(WORLD.some(inDnsCidrs)).toBe(env.network.dnsCidrs.length > 0);
  });

  it('reaches nothing outside the cluster but the relay port (TCP), and the relay port nowhere inside it', () => {
    for (const ip of WORLD) {
      for (const port of PORTS) {
        for (const protocol of ['TCP', 'UDP']) {
          const expected = (protocol === 'TCP' && port === env.relay.port && !inCluster(ip)) || (port === 53 && inDnsCidrs(ip));
          expect(allowsEgress(policies, pod, external(ip), protocol, port), `${protocol}/${port} to ${ip}`).toBe(expected);
        }
      }
    }
    for (const ip of ['10.1.2.3', '10.255.0.1', ...(inCluster('192.168.1.1') ? ['192.168.1.1'] : [])]) {
      expect(allowsEgress(policies, pod, external(ip), 'TCP', env.relay.port), `relay port to cluster address ${ip}`).toBe(false);
    }
    for (const port of PORTS.filter((p) => p !== 53)) expect(allowsEgress(policies, pod, clusterPod, 'TCP', port), `TCP/${port} to a cluster pod`).toBe(false);
  });

  it('every egress rule names its peers and ports; a rule open beyond the cluster allows only the relay port or DNS to dnsCidrs', () => {
    for (const np of policies) {
      for (const rule of np.spec.egress as K8sObject[]) {
        expect(rule.to?.length, JSON.stringify(rule)).toBeGreaterThan(0);
        expect(rule.ports?.length, JSON.stringify(rule)).toBeGreaterThan(0);
        const blocks = (rule.to as K8sObject[]).filter((p) => p.ipBlock).map((p) => p.ipBlock as { cidr: string; except?: string[] });
        const ports = (rule.ports as K8sObject[]).map((p) => `${p.protocol}/${p.port}`).sort();
        if (blocks.some((b) => b.cidr.endsWith('/0') || !inCluster(b.cidr.split('/')[0]!))) {
          const dnsOnly = blocks.every((b) => env.network.dnsCidrs.includes(b.cidr)) && ports.every((p) => p.endsWith('/53'));
          if (!dnsOnly) expect(ports).toEqual([`TCP/${env.relay.port}`]);
        }
        // An except entry must lie strictly inside its block (the API server refuses others).
        for (const b of blocks) for (const e of b.except ?? []) expect(e !== b.cidr && cidrContains(b.cidr, e), `${e} in ${b.cidr}`).toBe(true);
      }
    }
  });

  it('cuts every cluster network out of each relay range that contains it, and only those', () => {
    const relayRule = (policies[0].spec.egress as K8sObject[]).find((r) => r.ports.some((p: K8sObject) => p.port === env.relay.port))!;
    const blocks = (relayRule.to as K8sObject[]).map((p) => p.ipBlock);
    expect(blocks.map((b) => b.cidr)).toEqual(env.network.relayCidrs);
    for (const b of blocks) {
      const expected = env.network.clusterCidrs.filter((c) => c !== b.cidr && cidrContains(b.cidr, c));
      expect(b.except ?? [], b.cidr).toEqual(expected);
    }
  });
});

// The policy check behind "every relay pod is selected by a NetworkPolicy" must look at what the
// policies select: a NetworkPolicy that exists but selects other pods, or sits in another
// namespace, covers nothing.
describe('network.default-deny sees pods that no NetworkPolicy selects', () => {
  it.each([
    ['a policy for other pods', (np: K8sObject) => (np.spec.podSelector = { matchLabels: { app: 'something-else' } })],
    ['a policy in another namespace', (np: K8sObject) => (np.metadata.namespace = 'elsewhere')],
    ['a policy selecting one more label than the pods have', (np: K8sObject) => (np.spec.podSelector.matchLabels = { ...np.spec.podSelector.matchLabels, extra: 'x' })],
  ])('%s', (_title, breakIt) => {
    const { env, objects } = synthesized('prod');
    breakIt(policyFind(objects, 'NetworkPolicy'));
    expect(messagesOf('network.default-deny', env, objects)).toEqual([
      expect.stringMatching(/^\[network\.default-deny\] prod: StatefulSet\/postfix-relay: spec\.template\.metadata\.labels: must be selected by a NetworkPolicy of the chart \(got \{/),
    ]);
  });

  it('and is satisfied by the chart as synthesized', () => {
    const { env, objects } = synthesized('prod');
    expect(messagesOf('network.default-deny', env, objects)).toEqual([]);
  });
});

describe('NetworkPolicy edge cases', () => {
  const prod = loadEnv('prod');
  const policiesOf = (env: typeof prod) => {
    const objects = render(env);
    return { policies: find(objects, 'NetworkPolicy'), pod: workloadOf(objects).spec.template.metadata.labels as Record<string, string> };
  };
  const monitoring: Peer = { namespace: 'monitoring', namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' }, podLabels: { app: 'prometheus' } };

  it('opens the metrics port only while metrics are on', () => {
    const on = policiesOf(prod);
    expect(allowsIngress(on.policies, on.pod, monitoring, 'TCP', prod.metrics.port)).toBe(true);
    const off = policiesOf({ ...prod, metrics: { ...prod.metrics, enabled: false } });
    expect(allowsIngress(off.policies, off.pod, monitoring, 'TCP', prod.metrics.port)).toBe(false);
    expect(off.policies[0].spec.ingress).toHaveLength(1);
  });

  it('a relay range equal to a cluster network gets no except list (it would cut out the whole range)', () => {
    const env = { ...prod, network: { ...prod.network, clusterCidrs: ['10.0.0.0/8', '192.168.0.0/16'], mynetworks: ['10.0.0.0/8'], relayCidrs: ['192.168.0.0/16', '0.0.0.0/0'] } };
    const { policies } = policiesOf(env);
    const relayRule = (policies[0].spec.egress as K8sObject[]).find((r) => r.ports.some((p: K8sObject) => p.port === env.relay.port))!;
    expect(relayRule.to.map((p: K8sObject) => p.ipBlock)).toEqual([{ cidr: '192.168.0.0/16' }, { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '192.168.0.0/16'] }]);
  });
});
