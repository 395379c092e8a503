import { Construct } from 'constructs';
import { IntOrString, KubeNetworkPolicy, type NetworkPolicyEgressRule, type NetworkPolicyIngressRule } from 'cdk8s-plus-28/lib/imports/k8s';
import type { EnvironmentConfig } from '../config/schema';
import { cidrContains } from '../config/formats';
import { loadBalancerRanges } from '../config/sections/service';
import { SMTP_PORT } from '../postfix/layout';
import { commonLabels, RELAY_NAME } from './labels';

export interface RelayNetworkPolicyProps {
  readonly config: EnvironmentConfig;
  readonly selector: Record<string, string>;
}

/**
 * Default deny in both directions for the relay pods, then: SMTP in from namespaces carrying
 * the access label, and from the blackbox exporter pods when the probe is on; metrics in from
 * the monitoring namespace; out only to DNS and to the relay port outside the cluster.
 */
export class RelayNetworkPolicy extends Construct {
  public readonly resource: KubeNetworkPolicy;

  constructor(scope: Construct, id: string, props: RelayNetworkPolicyProps) {
    super(scope, id);
    const env = props.config;
    const tcp = (port: number) => ({ protocol: 'TCP', port: IntOrString.fromNumber(port) });

    const ingress: NetworkPolicyIngressRule[] = [
      {
        from: [{ namespaceSelector: { matchLabels: { [env.network.accessLabel.key]: env.network.accessLabel.value } } }],
        ports: [tcp(SMTP_PORT)],
      },
    ];
    if (env.probe.enabled) {
      // The client-side probe: the blackbox exporter pods alone (namespace AND pod labels in one peer).
      ingress.push({
        from: [{ namespaceSelector: { matchLabels: env.probe.proberNamespaceLabels }, podSelector: { matchLabels: env.probe.proberPodLabels } }],
        ports: [tcp(SMTP_PORT)],
      });
    }
    const lbRanges = loadBalancerRanges(env);
    if (lbRanges.length) {
      // Clients outside the cluster through the LoadBalancer: their networks, on the SMTP port
      // only. A cluster network inside a range stays closed (the access label decides for pods).
      ingress.push({
        from: lbRanges.map((cidr) => {
          const except = env.network.clusterCidrs.filter((c) => c !== cidr && cidrContains(cidr, c));
          return { ipBlock: except.length ? { cidr, except } : { cidr } };
        }),
        ports: [tcp(SMTP_PORT)],
      });
    }
    if (env.metrics.enabled) {
      ingress.push({
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': env.network.monitoringNamespace } } }],
        ports: [tcp(env.metrics.port)],
      });
    }

    const egress: NetworkPolicyEgressRule[] = [
      {
        to: [{ namespaceSelector: {} }],
        ports: [
          { protocol: 'UDP', port: IntOrString.fromNumber(53) },
          { protocol: 'TCP', port: IntOrString.fromNumber(53) },
        ],
      },
      ...(env.network.dnsCidrs.length
        ? [
            {
              to: env.network.dnsCidrs.map((cidr) => ({ ipBlock: { cidr } })),
              ports: [
                { protocol: 'UDP', port: IntOrString.fromNumber(53) },
                { protocol: 'TCP', port: IntOrString.fromNumber(53) },
              ],
            },
          ]
        : []),
      {
        // The relay lives outside the cluster: its port is never opened towards cluster networks.
        to: env.network.relayCidrs.map((cidr) => {
          const except = env.network.clusterCidrs.filter((c) => c !== cidr && cidrContains(cidr, c));
          return { ipBlock: except.length ? { cidr, except } : { cidr } };
        }),
        ports: [tcp(env.relay.port)],
      },
    ];

    this.resource = new KubeNetworkPolicy(this, 'Resource', {
      metadata: { name: RELAY_NAME, namespace: env.namespace, labels: commonLabels(env, 'relay') },
      spec: { podSelector: { matchLabels: props.selector }, policyTypes: ['Ingress', 'Egress'], ingress, egress },
    });
  }
}
