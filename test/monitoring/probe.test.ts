import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { EnvironmentConfig } from '../../src/config/schema';
import { MODULE_ANNOTATION } from '../../src/constructs/relay-probe';
import { renderBlackboxConfig } from '../../src/monitoring/blackbox';
import { validateObjectSchemas } from '../../src/policy/schema';
import { allowsIngress, type Peer } from '../charts/network-policy-model';
import { find, loadEnv, one, render, workloadOf, type K8sObject } from '../charts/render';

const prod = loadEnv('prod');
const probeOn = (env: EnvironmentConfig, probe: Partial<EnvironmentConfig['probe']> = {}): EnvironmentConfig => ({
  ...env,
  probe: { ...env.probe, enabled: true, ...probe },
});
const probeOf = (env: EnvironmentConfig) => one(render(env), 'Probe');

describe('the Probe (probe.enabled)', () => {
  it('exists only when enabled (no shipped environment turns it on yet)', () => {
    for (const name of ['dev', 'staging', 'prod']) expect(find(render(name), 'Probe')).toEqual([]);
    expect(find(render(probeOn(prod)), 'Probe')).toHaveLength(1);
  });

  it('asks the blackbox exporter at probe.proberUrl to run the module against the relay Service', () => {
    const probe = probeOf(probeOn(prod));
    expect(probe.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(probe.metadata).toMatchObject({ name: 'postfix-relay', namespace: 'email-server-prod' });
    expect(probe.spec).toEqual({
      jobName: 'postfix-relay-probe',
      prober: { url: 'prometheus-blackbox-exporter.monitoring.svc:9115', scheme: 'http', path: '/probe' },
      module: 'postfix-relay-prod',
      interval: '30s',
      scrapeTimeout: '11s',
      targets: { staticConfig: { static: ['postfix-relay.email-server-prod.svc.cluster.local:25'] } },
    });
  });

  it('follows each probe setting', () => {
    const probe = probeOf(
      probeOn(prod, { proberUrl: 'https://blackbox.observability.svc.cluster.local', module: 'smtp', interval: '1m', timeout: '20s', clusterDomain: 'k8s.local', proberNamespaceLabels: { team: 'sre' } }),
    );
    expect(probe.spec.prober).toEqual({ url: 'blackbox.observability.svc.cluster.local:443', scheme: 'https', path: '/probe' });
    expect(probe.spec.module).toBe('smtp');
    expect(probe.spec.interval).toBe('1m');
    expect(probe.spec.scrapeTimeout).toBe('21s');
    expect(probe.spec.targets.staticConfig.static).toEqual(['postfix-relay.email-server-prod.svc.k8s.local:25']);
    expect(probeOf(probeOn(prod, { proberUrl: 'http://10.0.0.9:19115' })).spec.prober.url).toBe('10.0.0.9:19115');
  });

  it('carries the labels Prometheus selects Probes by (serviceMonitor.labels)', () => {
    expect(probeOf(probeOn(prod)).metadata.labels).toMatchObject({ release: 'kube-prometheus-stack', 'app.kubernetes.io/component': 'monitoring' });
  });

  it('carries the module the exporter needs, in an annotation', () => {
    const env = probeOn(prod, { timeout: '7s' });
    const text = probeOf(env).metadata.annotations[MODULE_ANNOTATION] as string;
    expect(text).toBe(renderBlackboxConfig(env));
    expect(parse(text).modules['postfix-relay-prod'].timeout).toBe('7s');
  });

  it('keeps its SLO rules without the exporter: the PrometheusRule then holds availability from the probe', () => {
    const probeOnly = probeOn({ ...prod, metrics: { ...prod.metrics, enabled: false } });
    const rule = one(render(probeOnly), 'PrometheusRule');
    const groups = rule.spec.groups as K8sObject[];
    expect(groups.map((g) => g.name)).toEqual(['postfix-relay.prod.workload', 'postfix-relay.prod.slo']);
    const slo = groups.find((g) => g.name === 'postfix-relay.prod.slo')!.rules as K8sObject[];
    expect(new Set(slo.map((r) => r.labels?.slo))).toEqual(new Set(['availability']));
    expect(slo.find((r) => r.record === 'postfix_relay_slo:sli_good:sample')?.expr).toContain('probe_success{');
    // Without the probe as well, nothing would feed the rules' mail part: no PrometheusRule, as before.
    expect(find(render({ ...prod, metrics: { ...prod.metrics, enabled: false } }), 'PrometheusRule')).toEqual([]);
  });

  it('validates against the prometheus-operator Probe schema, and the check is real', () => {
    const probe = probeOf(probeOn(prod));
    expect(validateObjectSchemas('prod', [probe])).toEqual([]);
    const broken = { ...probe, spec: { ...probe.spec, prober: { scheme: 'tcp' } } };
    expect(validateObjectSchemas('prod', [broken]).join('\n')).toMatch(/spec\.prober/);
  });
});

describe('the NetworkPolicy admits the prober pod alone', () => {
  const objects = render(probeOn(prod));
  const policies = find(objects, 'NetworkPolicy');
  const pod = workloadOf(objects).spec.template.metadata.labels as Record<string, string>;
  const peer = (namespace: string, podLabels: Record<string, string>): Peer => ({
    namespace,
    namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
    podLabels,
  });
  const prober = { 'app.kubernetes.io/name': 'prometheus-blackbox-exporter' };

  it('lets the blackbox exporter pods in the monitoring namespace reach port 25, and only that port', () => {
    expect(allowsIngress(policies, pod, peer('monitoring', prober), 'TCP', 25)).toBe(true);
    expect(allowsIngress(policies, pod, peer('monitoring', prober), 'TCP', 587)).toBe(false);
  });

  it('refuses other pods of the monitoring namespace, and the same pod labels elsewhere', () => {
    expect(allowsIngress(policies, pod, peer('monitoring', { 'app.kubernetes.io/name': 'grafana' }), 'TCP', 25)).toBe(false);
    expect(allowsIngress(policies, pod, peer('shop', prober), 'TCP', 25)).toBe(false);
  });

  it('has no such rule without the probe', () => {
    const without = find(render(prod), 'NetworkPolicy');
    expect(allowsIngress(without, pod, peer('monitoring', prober), 'TCP', 25)).toBe(false);
  });

  it('takes both selectors from the environment, in one peer', () => {
    const env = probeOn(prod, {
      proberUrl: 'http://bb.observability.svc:9115',
      proberNamespaceLabels: { 'kubernetes.io/metadata.name': 'observability' },
      proberPodLabels: { app: 'bb' },
    });
    const np = one(render(env), 'NetworkPolicy');
    const rule = (np.spec.ingress as K8sObject[]).find((r) => r.from?.[0]?.podSelector);
    expect(rule).toEqual({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } }, podSelector: { matchLabels: { app: 'bb' } } }],
      ports: [{ protocol: 'TCP', port: 25 }],
    });
    expect(allowsIngress([np], pod, peer('observability', { app: 'bb' }), 'TCP', 25)).toBe(true);
    expect(allowsIngress([np], pod, peer('monitoring', prober), 'TCP', 25)).toBe(false);
  });
});
