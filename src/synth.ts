import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Chart } from 'cdk8s';
import { loadEnvironments } from './config/load';
import type { EnvironmentConfig } from './config/schema';
import { EnvironmentChart } from './charts/environment-chart';
import { writeDist, type EnvironmentManifests } from './output';
import { argoApplication } from './output/argocd';
import { chartObjects, lastValidatedObjects } from './policy';
import { validateArgoApplication } from './policy/argocd';

export interface SynthesizeOptions {
  /** Folder of environment files (`<name>.yaml`). */
  readonly environmentsDir: string;
  /** Output folder; replaced only when everything succeeded. */
  readonly outdir: string;
  /** Version stamped on the Helm charts. */
  readonly version: string;
}

/** Raised when a construct validation or policy fails; lists every failure. */
export class ValidationError extends Error {
  constructor(readonly failures: readonly string[]) {
    super(`synth refused: ${failures.length} check(s) failed:\n${failures.map((f) => `  ${f}`).join('\n')}`);
    this.name = 'ValidationError';
  }
}

/** Builds one chart per environment in a fresh App (no files written). */
export function buildApp(environments: readonly EnvironmentConfig[]): { app: App; charts: Map<EnvironmentConfig, Chart> } {
  // We never call app.synth() (src/output writes dist/); should anyone, it writes nowhere near the repo.
  const app = new App({ outdir: join(tmpdir(), 'email-server-cdk8s-app') });
  const charts = new Map<EnvironmentConfig, Chart>();
  for (const env of environments) charts.set(env, new EnvironmentChart(app, env.name, { config: env }));
  return { app, charts };
}

/** Runs every construct validation of the app and throws ValidationError listing all failures. */
export function validateApp(app: App): void {
  const failures = app.node
    .findAll()
    .flatMap((c) => c.node.validate().map((message) => (message.startsWith('[') ? message : `${c.node.path}: ${message}`)));
  if (failures.length) throw new ValidationError(failures);
}

/** Checks each environment's Argo CD Application (dist/argocd/) against Argo CD's schema; throws ValidationError. */
export function validateArgoApplications(environments: readonly EnvironmentConfig[]): void {
  const failures = environments.filter((env) => env.argocd.enabled).flatMap((env) => validateArgoApplication(env.name, argoApplication(env)));
  if (failures.length) throw new ValidationError(failures);
}

/** Renders each environment into plain Kubernetes objects (and its Argo CD Application), validated. */
export function renderEnvironments(environments: readonly EnvironmentConfig[]): EnvironmentManifests[] {
  const { app, charts } = buildApp(environments);
  validateApp(app);
  validateArgoApplications(environments);
  // Not chart.toJson(): cdk8s re-validates the whole app on every call, which makes synth
  // quadratic in the number of environments. The app was validated once just above and nothing
  // changed since: reuse the objects that validation serialized.
  return [...charts].map(([env, chart]) => ({ env, objects: (lastValidatedObjects(chart) ?? chartObjects(chart)) as Record<string, unknown>[] }));
}

/** Loads, renders, validates and writes everything; nothing is written unless all of it succeeds. */
export function synthesize(options: SynthesizeOptions): EnvironmentManifests[] {
  const manifests = renderEnvironments(loadEnvironments(options.environmentsDir));
  writeDist(options.outdir, manifests, { version: options.version });
  return manifests;
}
