import type { EnvironmentConfig } from '../config/schema';
import { applicationName, DEFAULT_BRANCH, environmentBranch, PRODUCT } from './layout';

/**
 * The Argo CD Application that syncs one environment's folder of the GitOps repository
 * (`npm run gitops-publish` writes dist/<env>/ there) into the environment's namespace. Argo CD
 * finds the Kustomization file in that folder and builds it with Kustomize: the same objects as
 * the plain files. The folder is always the environment's own (src/config/cross-environment.ts
 * refuses any other); the branch follows the publish layout.
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
        targetRevision: applicationRevision(env),
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

/** The branch an environment's Application follows: the configured one, else the layout's. */
export function applicationRevision(env: EnvironmentConfig): string {
  return env.argocd.targetRevision ?? (env.argocd.layout === 'branches' ? environmentBranch(env.name) : DEFAULT_BRANCH);
}
