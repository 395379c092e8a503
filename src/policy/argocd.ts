import { at } from './objects';
import { modelFindings, SCHEMA_RULE_ID, type ModelClass } from './schema';
import { formatFinding, type KubeObject } from './types';

/**
 * The Argo CD Application written to dist/argocd/ for an environment, against Argo CD's own CRD
 * schema (@kubernetes-models/argo-cd, Argo CD 2.x's argoproj.io/v1alpha1 Application), like every
 * chart object is checked against its schema at synth. Kept apart from the chart objects' kinds:
 * an Application belongs to Argo CD's namespace, never to an environment's manifests.
 */
export const ARGO_APPLICATION = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' } as const;

let model: ModelClass | undefined;

/** `[schema] <env>: Application/<name>: <field>: <problem> (got <value>)` for each bad field. */
export function validateArgoApplication(envName: string, application: KubeObject): string[] {
  const name = at(application, 'metadata', 'name');
  const subject = `Application/${typeof name === 'string' ? name : '(no name)'}`;
  if (application.apiVersion !== ARGO_APPLICATION.apiVersion || application.kind !== ARGO_APPLICATION.kind) {
    const got = `${String(application.apiVersion)} ${String(application.kind)}`;
    return [formatFinding(SCHEMA_RULE_ID, envName, { subject, path: 'apiVersion, kind', problem: `must be ${ARGO_APPLICATION.apiVersion} ${ARGO_APPLICATION.kind}`, value: got })];
  }
  // Loaded on first use, like the other models (src/policy/schema.ts).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  model ??= require('@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application').Application as ModelClass;
  return modelFindings(model, subject, application).map((f) => formatFinding(SCHEMA_RULE_ID, envName, f));
}
