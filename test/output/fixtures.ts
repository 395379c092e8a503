import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import type { EnvironmentManifests } from '../../src/output';

/** A real environment file, loaded and defaulted. */
export const env = (name: 'dev' | 'staging' | 'prod'): EnvironmentConfig => loadEnvironmentFile(`environments/${name}.yaml`);

/**
 * A small stand-in for a chart's `toJson()`: the kinds and names the relay app produces, with the
 * awkward content that matters to the writer (Go-template text in alerts and the dashboard,
 * strings a YAML 1.1 reader would misread, multi-line config).
 */
export function sampleObjects(namespace: string, workloadKind: 'Deployment' | 'StatefulSet' = 'Deployment'): Record<string, unknown>[] {
  const labels = { 'app.kubernetes.io/name': 'postfix-relay', 'app.kubernetes.io/instance': 'email-server' };
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'postfix-config', namespace, labels },
      data: { 'main.cf': 'relayhost = [smtp-relay.gmail.com]:587\nsmtp_tls_security_level = secure\n', flag: 'on', time: '12:30' },
    },
    {
      apiVersion: workloadKind === 'Deployment' ? 'apps/v1' : 'apps/v1',
      kind: workloadKind,
      metadata: { name: 'postfix-relay', namespace, labels },
      spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'postfix', image: 'juanluisbaptiste/postfix:1.8.2' }] } } },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'postfix-relay', namespace, labels }, spec: { selector: labels, ports: [{ name: 'smtp', port: 25, targetPort: 25 }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'postfix-relay-metrics', namespace, labels }, spec: { selector: labels, ports: [{ name: 'metrics', port: 8080, targetPort: 8080 }] } },
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'postfix-relay', namespace, labels },
      spec: {
        groups: [
          {
            name: 'postfix-relay',
            rules: [
              {
                alert: 'PostfixRelayHighQueue',
                expr: 'sum(postfix_showq_message_size_bytes_count) > 100',
                annotations: { summary: 'Queue on {{ $labels.instance }} is {{ $value | humanize }}', weird: '{}} and {{{ and {{- x -}}' },
              },
            ],
          },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'postfix-relay-dashboard', namespace, labels: { ...labels, grafana_dashboard: '1' } },
      data: { 'postfix-relay.json': JSON.stringify({ title: 'Postfix relay', panels: [{ legendFormat: '{{pod}}' }] }) },
    },
  ];
}

export function sampleManifests(): EnvironmentManifests[] {
  return (['dev', 'staging', 'prod'] as const).map((name) => {
    const e = env(name);
    return { env: e, objects: sampleObjects(e.namespace, e.queue.persistence.enabled ? 'StatefulSet' : 'Deployment') };
  });
}
