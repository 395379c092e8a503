import { Chart } from 'cdk8s';
import { KubeNamespace } from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/schema';
import { PostfixRelay } from '../constructs/postfix-relay';
import { commonLabels } from '../constructs/labels';
import { ARGOCD_KEEP_ANNOTATION } from '../constructs/retention';
import { addPolicyValidations } from '../policy';

export interface EnvironmentChartProps {
  readonly config: EnvironmentConfig;
}

/** Kubernetes version whose Pod Security Standards the namespace enforces (cdk8s-plus-28). */
export const POD_SECURITY_VERSION = 'v1.28';

/** Everything one environment needs: its namespace and the relay, checked by the policies. */
export class EnvironmentChart extends Chart {
  public readonly namespaceObject: KubeNamespace;
  public readonly relay: PostfixRelay;

  constructor(scope: Construct, id: string, props: EnvironmentChartProps) {
    // Names are contracts: every object sets its own name and namespace (the chart sets no
    // namespace, which would also land on the cluster-scoped Namespace object).
    super(scope, id, { disableResourceNameHashes: true });
    const env = props.config;
    // The Postfix master runs as root with a few capabilities, so the pod is enforced at
    // baseline; audit and warn report against restricted, which the exporter meets.
    const pss = {
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/enforce-version': POD_SECURITY_VERSION,
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': POD_SECURITY_VERSION,
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': POD_SECURITY_VERSION,
    };
    this.namespaceObject = new KubeNamespace(this, 'Namespace', {
      metadata: {
        name: env.namespace,
        // Deleting the Namespace deletes the queue volumes in it: Argo CD must never do that.
        annotations: { ...ARGOCD_KEEP_ANNOTATION },
        labels: {
          ...commonLabels(env, 'namespace'),
          ...pss,
          // The relay's own namespace may send mail (the deploy script's test pod runs here).
          [env.network.accessLabel.key]: env.network.accessLabel.value,
        },
      },
    });
    this.relay = new PostfixRelay(this, 'Relay', { config: env });
    addPolicyValidations(this, env);
  }
}
