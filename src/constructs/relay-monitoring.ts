import { Construct } from 'constructs';
import { KubeConfigMap } from 'cdk8s-plus-28/lib/imports/k8s';
import {
  PrometheusRule,
  PrometheusRuleSpecGroupsRulesExpr,
  ServiceMonitor,
  ServiceMonitorSpecEndpointsScheme,
} from '../../imports/monitoring.coreos.com';
import type { EnvironmentConfig } from '../config/schema';
import { isAlertRule, renderDashboard, renderRuleGroups } from '../monitoring';
import { commonLabels, RELAY_NAME } from './labels';
import { PORT_NAMES } from './relay-pod';
import { RelayProbe } from './relay-probe';

export interface RelayMonitoringProps {
  readonly config: EnvironmentConfig;
  /** Labels the ServiceMonitor selects the metrics Service by (stable ones only). */
  readonly metricsServiceSelector: Record<string, string>;
}

/** ServiceMonitor, Probe, PrometheusRule and the Grafana dashboard, each only when enabled. */
export class RelayMonitoring extends Construct {
  public readonly serviceMonitor?: ServiceMonitor;
  /** The client-side SMTP probe (probe.enabled); it does not need the exporter. */
  public readonly probe?: RelayProbe;
  public readonly prometheusRule?: PrometheusRule;
  public readonly dashboard?: KubeConfigMap;

  constructor(scope: Construct, id: string, props: RelayMonitoringProps) {
    super(scope, id);
    const env = props.config;
    const labels = { ...commonLabels(env, 'monitoring'), ...env.serviceMonitor.labels };
    if (env.probe.enabled) this.probe = new RelayProbe(this, 'Probe', { config: env, labels });

    if (env.metrics.enabled && env.serviceMonitor.enabled) {
      this.serviceMonitor = new ServiceMonitor(this, 'ServiceMonitor', {
        metadata: { name: RELAY_NAME, namespace: env.namespace, labels },
        spec: {
          selector: { matchLabels: props.metricsServiceSelector },
          namespaceSelector: { matchNames: [env.namespace] },
          endpoints: [
            {
              port: PORT_NAMES.metrics,
              path: '/metrics',
              scheme: ServiceMonitorSpecEndpointsScheme.HTTP,
              interval: env.serviceMonitor.interval,
              scrapeTimeout: env.serviceMonitor.scrapeTimeout,
            },
          ],
        },
      });
    }

    // Without the exporter, the rules still matter when the probe measures availability.
    if (env.alerts.enabled && (env.metrics.enabled || env.probe.enabled)) {
      this.prometheusRule = new PrometheusRule(this, 'Rules', {
        metadata: { name: RELAY_NAME, namespace: env.namespace, labels },
        spec: {
          groups: renderRuleGroups(env).map((g) => ({
            name: g.name,
            rules: g.rules.map((r) =>
              isAlertRule(r)
                ? {
                    alert: r.alert,
                    expr: PrometheusRuleSpecGroupsRulesExpr.fromString(r.expr),
                    for: r.for,
                    labels: r.labels,
                    annotations: r.annotations,
                  }
                : { record: r.record, expr: PrometheusRuleSpecGroupsRulesExpr.fromString(r.expr), labels: r.labels },
            ),
          })),
        },
      });
    }

    if (env.metrics.enabled && env.dashboard.enabled) {
      this.dashboard = new KubeConfigMap(this, 'Dashboard', {
        metadata: {
          name: `${RELAY_NAME}-dashboard`,
          namespace: env.namespace,
          labels: { ...commonLabels(env, 'monitoring'), grafana_dashboard: '1' },
        },
        data: { [`email-server-${env.name}.json`]: `${JSON.stringify(renderDashboard(env), null, 2)}\n` },
      });
    }
  }
}
