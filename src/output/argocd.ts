import type { EnvironmentConfig } from '../config/schema';
import { applicationName, PRODUCT } from './layout';

/**
 * The Argo CD Application that syncs one environment's folder of the GitOps repository
 * (CI publishes dist/ there) into the environment's namespace. Argo CD finds the
 * Kustomization file in that folder and builds it with Kustomize: the same objects as the
 * plain files.
 */
export function argoApplication(env: EnvironmentConfig): Record<string, unknown> {
  const { argocd } = env;
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: applicationName(env.name),
      namespace: argocd.namespace,
      labels: { 'app.kubernetes.io/part-of': PRODUCT },
    },
    spec: {
      project: argocd.project,
      source: {
        repoURL: argocd.repoURL,
        path: argocd.path ?? env.name,
        targetRevision: argocd.targetRevision,
      },
      destination: {
        server: argocd.destinationServer,
        namespace: env.namespace,
      },
      syncPolicy: {
        ...(argocd.automated ? { automated: { prune: argocd.automated.prune, selfHeal: argocd.automated.selfHeal } } : {}),
        syncOptions: ['CreateNamespace=true'],
      },
    },
  };
}
