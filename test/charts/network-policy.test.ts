import { describe, expect, it } from 'vitest';
import { allowsEgress, allowsIngress, type Peer } from './network-policy-model';
import { ENVIRONMENTS, find, loadEnv, one, render, workloadOf } from './render';

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
