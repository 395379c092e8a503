import { describe, expect, it } from 'vitest';
import { argoApplication, applicationRevision } from '../../src/output/argocd';
import { env } from './fixtures';

describe('Argo CD Application', () => {
  it('syncs prod from its folder of the GitOps repo into its namespace, self-healing without pruning', () => {
    const prod = env('prod');
    expect(argoApplication(prod)).toEqual({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'email-server-prod', namespace: 'argocd', labels: { 'app.kubernetes.io/part-of': 'email-server' } },
      spec: {
        project: 'default',
        source: { repoURL: prod.argocd.repoURL, path: 'prod', targetRevision: 'main' },
        destination: { server: 'https://kubernetes.default.svc', namespace: 'email-server-prod' },
        syncPolicy: { automated: { prune: false, selfHeal: true }, syncOptions: ['CreateNamespace=true'] },
      },
    });
  });

  it('defaults the path to the environment name and syncs manually when automated is unset', () => {
    const dev = env('dev');
    const manual = { ...dev, argocd: { ...dev.argocd, path: undefined, automated: undefined } };
    const app = argoApplication(manual) as { spec: { source: { path: string }; syncPolicy: Record<string, unknown> } };
    expect(app.spec.source.path).toBe('dev');
    expect(app.spec.syncPolicy).toEqual({ syncOptions: ['CreateNamespace=true'] });
  });

  it('follows main with the folders layout and env/<name> with the branches layout, unless a revision is set', () => {
    const staging = env('staging');
    expect(staging.argocd.layout).toBe('folders');
    expect(applicationRevision(staging)).toBe('main');
    const branches = { ...staging, argocd: { ...staging.argocd, layout: 'branches' as const } };
    const app = argoApplication(branches) as { spec: { source: Record<string, string> } };
    expect(app.spec.source).toMatchObject({ path: 'staging', targetRevision: 'env/staging' });
    expect(applicationRevision({ ...staging, argocd: { ...staging.argocd, targetRevision: 'gitops' } })).toBe('gitops');
  });

  it('takes project, server, revision and namespace from the config', () => {
    const staging = env('staging');
    const custom = {
      ...staging,
      argocd: { ...staging.argocd, project: 'mail', namespace: 'gitops', destinationServer: 'https://10.0.0.1:6443', targetRevision: 'v1.2.3' },
    };
    const app = argoApplication(custom) as { metadata: { namespace: string }; spec: Record<string, Record<string, unknown>> };
    expect(app.metadata.namespace).toBe('gitops');
    expect(app.spec.project).toBe('mail');
    expect(app.spec.destination).toEqual({ server: 'https://10.0.0.1:6443', namespace: 'email-server-staging' });
    expect(app.spec.source!.targetRevision).toBe('v1.2.3');
  });
});
