import { Construct } from 'constructs';
import { IntOrString, KubeService } from 'cdk8s-plus-28/lib/imports/k8s';
import type { EnvironmentConfig } from '../config/schema';
import { HEADLESS_SERVICE_NAME, METRICS_SERVICE_NAME, SMTP_PORT } from '../postfix/layout';
import { commonLabels, RELAY_NAME } from './labels';
import { PORT_NAMES } from './relay-pod';

export interface RelayServicesProps {
  readonly config: EnvironmentConfig;
  readonly selector: Record<string, string>;
}

/**
 * `postfix-relay` (what applications use), `postfix-relay-headless` (per-pod DNS, the
 * StatefulSet's serviceName) and `postfix-relay-metrics` (what Prometheus scrapes).
 */
export class RelayServices extends Construct {
  public readonly smtp: KubeService;
  public readonly headless: KubeService;
  public readonly metrics?: KubeService;
  /** Labels of the metrics Service. */
  public readonly metricsLabels: Record<string, string>;
  /**
   * The subset of `metricsLabels` the ServiceMonitor selects on: never `managed-by` or
   * `part-of`, which Helm (and other tools) overwrite on every object they install.
   */
  public readonly metricsSelector: Record<string, string>;

  constructor(scope: Construct, id: string, props: RelayServicesProps) {
    super(scope, id);
    const env = props.config;
    const smtpPort = { name: PORT_NAMES.smtp, port: SMTP_PORT, targetPort: IntOrString.fromString(PORT_NAMES.smtp), protocol: 'TCP' };

    const svc = env.service;
    const annotations = Object.keys(svc.annotations).length ? svc.annotations : undefined;
    this.smtp = new KubeService(this, 'Smtp', {
      metadata: { name: RELAY_NAME, namespace: env.namespace, labels: commonLabels(env, 'relay'), annotations },
      spec:
        svc.type === 'LoadBalancer'
          ? {
              type: 'LoadBalancer',
              selector: props.selector,
              ports: [smtpPort],
              sessionAffinity: 'None',
              loadBalancerSourceRanges: [...svc.loadBalancerSourceRanges],
              // Local keeps the client's own address (no SNAT to a node's): Postfix' mynetworks
              // and the NetworkPolicy decide on it. Only nodes running a relay pod take traffic.
              externalTrafficPolicy: 'Local',
            }
          : { type: 'ClusterIP', selector: props.selector, ports: [smtpPort], sessionAffinity: 'None' },
    });

    this.headless = new KubeService(this, 'Headless', {
      metadata: { name: HEADLESS_SERVICE_NAME, namespace: env.namespace, labels: commonLabels(env, 'relay') },
      spec: { clusterIp: 'None', selector: props.selector, ports: [smtpPort], publishNotReadyAddresses: false },
    });

    this.metricsLabels = commonLabels(env, 'metrics');
    this.metricsSelector = { ...props.selector, 'app.kubernetes.io/component': 'metrics' };
    if (env.metrics.enabled) {
      this.metrics = new KubeService(this, 'Metrics', {
        metadata: { name: METRICS_SERVICE_NAME, namespace: env.namespace, labels: this.metricsLabels },
        spec: {
          type: 'ClusterIP',
          selector: props.selector,
          ports: [{ name: PORT_NAMES.metrics, port: env.metrics.port, targetPort: IntOrString.fromString(PORT_NAMES.metrics), protocol: 'TCP' }],
        },
      });
    }
  }
}
