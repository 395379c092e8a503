import { Construct } from 'constructs';
import { IntOrString, KubeHorizontalPodAutoscalerV2, KubePodDisruptionBudget } from 'cdk8s-plus-28/lib/imports/k8s';
import type { EnvironmentConfig } from '../config/schema';
import { commonLabels, RELAY_NAME } from './labels';

export interface RelayAvailabilityProps {
  readonly config: EnvironmentConfig;
  readonly selector: Record<string, string>;
  /** The workload the HPA scales. */
  readonly target: { readonly apiVersion: string; readonly kind: string; readonly name: string };
}

/** PodDisruptionBudget and HorizontalPodAutoscaler, each only when the environment asks for it. */
export class RelayAvailability extends Construct {
  public readonly pdb?: KubePodDisruptionBudget;
  public readonly hpa?: KubeHorizontalPodAutoscalerV2;

  constructor(scope: Construct, id: string, props: RelayAvailabilityProps) {
    super(scope, id);
    const env = props.config;
    const metadata = { name: RELAY_NAME, namespace: env.namespace, labels: commonLabels(env, 'relay') };

    if (env.podDisruptionBudget.enabled) {
      this.pdb = new KubePodDisruptionBudget(this, 'Pdb', {
        metadata,
        spec: {
          minAvailable: IntOrString.fromNumber(env.podDisruptionBudget.minAvailable),
          selector: { matchLabels: props.selector },
          // Evicting a pod that is not ready yet never costs availability.
          unhealthyPodEvictionPolicy: 'AlwaysAllow',
        },
      });
    }

    const a = env.autoscaling;
    if (a.enabled) {
      this.hpa = new KubeHorizontalPodAutoscalerV2(this, 'Hpa', {
        metadata,
        spec: {
          scaleTargetRef: { apiVersion: props.target.apiVersion, kind: props.target.kind, name: props.target.name },
          minReplicas: a.minReplicas,
          maxReplicas: a.maxReplicas,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.cpuTargetPercent } } }],
          behavior: {
            // Scale-down drains queues: slowly, one pod at a time.
            scaleDown: {
              stabilizationWindowSeconds: a.scaleDown.stabilizationWindowSeconds,
              selectPolicy: 'Min',
              policies: [{ type: 'Pods', value: a.scaleDown.podsPerPeriod, periodSeconds: a.scaleDown.periodSeconds }],
            },
            scaleUp: {
              stabilizationWindowSeconds: 0,
              selectPolicy: 'Max',
              policies: [
                { type: 'Pods', value: 2, periodSeconds: 60 },
                { type: 'Percent', value: 100, periodSeconds: 60 },
              ],
            },
          },
        },
      });
    }
  }
}
