import { join } from 'node:path';
import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { renderEnvironments } from '../../src/synth';

export type K8sObject = Record<string, any>;

export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;

export function loadEnv(name: string): EnvironmentConfig {
  return loadEnvironmentFile(join(__dirname, '../../environments', `${name}.yaml`), `environments/${name}.yaml`);
}

/** The validated objects of one environment file (or of a config derived from it). */
export function render(envOrName: string | EnvironmentConfig): K8sObject[] {
  const env = typeof envOrName === 'string' ? loadEnv(envOrName) : envOrName;
  const [first] = renderEnvironments([env]);
  return first!.objects as K8sObject[];
}

export function find(objects: K8sObject[], kind: string, name?: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
}

export function one(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? `/${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

export function workloadOf(objects: K8sObject[]): K8sObject {
  const w = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
  if (w.length !== 1) throw new Error(`expected one workload, found ${w.length}`);
  return w[0]!;
}

export function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}
