import { Construct } from 'constructs';
import { IntOrString, KubeDeployment, KubeStatefulSet, Quantity } from 'cdk8s-plus-28/lib/imports/k8s';
import type { EnvironmentConfig } from '../config/schema';
import { RELAY_NAME } from './labels';
import { relayPodTemplate, VOLUMES } from './relay-pod';
import { ARGOCD_KEEP_ANNOTATION } from './retention';

export interface RelayWorkloadProps {
  readonly config: EnvironmentConfig;
  readonly configMapName: string;
  readonly configChecksum: string;
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
  /** Name of the headless Service (the StatefulSet's serviceName). */
  readonly headlessServiceName: string;
  /**
   * Name of the workload.
   * @default 'postfix-relay'
   */
  readonly name?: string;
}

/**
 * The relay pods: a Deployment with an ephemeral queue, or, with `queue.persistence`, a
 * StatefulSet whose pods each keep their queue on their own PersistentVolumeClaim.
 */
export class RelayWorkload extends Construct {
  public readonly resource: KubeDeployment | KubeStatefulSet;
  public readonly kind: 'Deployment' | 'StatefulSet';
  public readonly apiVersion = 'apps/v1';
  public readonly name: string;

  constructor(scope: Construct, id: string, props: RelayWorkloadProps) {
    super(scope, id);
    const env = props.config;
    this.name = props.name ?? RELAY_NAME;
    const template = relayPodTemplate(props);
    const metadata = { name: this.name, namespace: env.namespace, labels: props.labels };
    // With an HPA the replica count belongs to the autoscaler: a replicas field would make
    // every GitOps sync fight it.
    const replicas = env.autoscaling.enabled ? undefined : env.replicas;
    const selector = { matchLabels: props.selector };

    if (env.queue.persistence.enabled) {
      this.kind = 'StatefulSet';
      const p = env.queue.persistence;
      this.resource = new KubeStatefulSet(this, 'Resource', {
        metadata,
        spec: {
          serviceName: props.headlessServiceName,
          replicas,
          selector,
          // Pods start and stop in parallel; rolling updates still replace one pod at a time.
          podManagementPolicy: 'Parallel',
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
          persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
          revisionHistoryLimit: 5,
          template,
          volumeClaimTemplates: [
            {
              // The claims hold undelivered mail: Argo CD must neither prune nor delete them (retention.ts).
              metadata: { name: VOLUMES.queue, labels: props.selector, annotations: { ...ARGOCD_KEEP_ANNOTATION } },
              spec: {
                accessModes: ['ReadWriteOnce'],
                storageClassName: p.storageClassName,
                resources: { requests: { storage: Quantity.fromString(p.size) } },
              },
            },
          ],
        },
      });
    } else {
      this.kind = 'Deployment';
      this.resource = new KubeDeployment(this, 'Resource', {
        metadata,
        spec: {
          replicas,
          selector,
          revisionHistoryLimit: 5,
          // Never take a ready pod away before its replacement is ready.
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: IntOrString.fromNumber(0), maxSurge: IntOrString.fromNumber(1) } },
          minReadySeconds: 5,
          template,
        },
      });
    }
  }
}
