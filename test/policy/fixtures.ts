import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { chartObjects, validateChartObjects, type KubeObject } from '../../src/policy';
import { buildApp } from '../../src/synth';

export type EnvName = 'dev' | 'staging' | 'prod';

const cache = new Map<EnvName, { env: EnvironmentConfig; objects: KubeObject[] }>();

/** The real chart output of a shipped environment, unvalidated; a fresh deep copy on every call. */
export function synthesized(name: EnvName): { env: EnvironmentConfig; objects: Obj[] } {
  let entry = cache.get(name);
  if (!entry) {
    const env = loadEnvironmentFile(`environments/${name}.yaml`);
    const { charts } = buildApp([env]);
    entry = { env, objects: chartObjects(charts.get(env)!) };
    cache.set(name, entry);
  }
  return { env: entry.env, objects: structuredClone(entry.objects) as Obj[] };
}

/** Mutable view of a synthesized object for tests that break one thing. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

export function find(objects: Obj[], kind: string, name?: string): Obj {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata?.name === name));
  if (!o) throw new Error(`fixture has no ${kind}${name ? `/${name}` : ''}: ${objects.map((x) => `${x.kind}/${x.metadata?.name}`).join(', ')}`);
  return o;
}

export function workload(objects: Obj[]): Obj {
  const o = objects.find((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet');
  if (!o) throw new Error('fixture has no workload');
  return o;
}

export function container(objects: Obj[], name: string): Obj {
  const c = (workload(objects).spec.template.spec.containers as Obj[]).find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
}

/** Every schema and policy message for the objects. */
export function allMessages(env: EnvironmentConfig, objects: Obj[]): string[] {
  return validateChartObjects(env, objects);
}

/** The messages of one rule only. */
export function messagesOf(ruleId: string, env: EnvironmentConfig, objects: Obj[]): string[] {
  return allMessages(env, objects).filter((m) => m.startsWith(`[${ruleId}] `));
}
