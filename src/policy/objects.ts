import type { KubeObject } from './types';

/** Defensive readers: rules run on construct output that may itself be malformed. */

export type Json = Readonly<Record<string, unknown>>;

export function rec(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

export function arr(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function at(value: unknown, ...keys: string[]): unknown {
  let node = value;
  for (const key of keys) node = rec(node)?.[key];
  return node;
}

export const kindOf = (o: KubeObject): string => str(o.kind) ?? '(no kind)';
export const nameOf = (o: KubeObject): string => str(at(o, 'metadata', 'name')) ?? '(no name)';
export const namespaceOf = (o: KubeObject): string | undefined => str(at(o, 'metadata', 'namespace'));
export const subjectOf = (o: KubeObject): string => `${kindOf(o)}/${nameOf(o)}`;

export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec(value) ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

/** A pod template of a workload (or a bare Pod) with the path of its pod spec. */
export interface PodTemplate {
  readonly owner: KubeObject;
  readonly subject: string;
  readonly namespace: string | undefined;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly spec: Json;
  readonly specPath: string;
}

const TEMPLATE_PATHS: Record<string, readonly string[]> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

export const WORKLOAD_KINDS = Object.keys(TEMPLATE_PATHS);

export function podTemplates(objects: readonly KubeObject[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const o of objects) {
    const kind = kindOf(o);
    const path = TEMPLATE_PATHS[kind];
    const template = kind === 'Pod' ? o : path ? at(o, ...path) : undefined;
    if (!template) continue;
    const prefix = kind === 'Pod' ? '' : `${path!.join('.')}.`;
    out.push({
      owner: o,
      subject: subjectOf(o),
      namespace: namespaceOf(o),
      labels: stringMap(at(template, 'metadata', 'labels')),
      annotations: stringMap(at(template, 'metadata', 'annotations')),
      spec: rec(at(template, 'spec')) ?? {},
      specPath: `${prefix}spec`,
    });
  }
  return out;
}

export type ContainerKind = 'containers' | 'initContainers' | 'ephemeralContainers';

export interface ContainerRef {
  readonly pod: PodTemplate;
  readonly kind: ContainerKind;
  readonly name: string;
  readonly container: Json;
  /** e.g. `spec.template.spec.containers[postfix]` */
  readonly path: string;
}

export function containersOf(pod: PodTemplate, kinds: readonly ContainerKind[] = ['containers', 'initContainers', 'ephemeralContainers']): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const kind of kinds) {
    arr(pod.spec[kind]).forEach((c, i) => {
      const container = rec(c) ?? {};
      const name = str(container.name) ?? String(i);
      out.push({ pod, kind, name, container, path: `${pod.specPath}.${kind}[${name}]` });
    });
  }
  return out;
}

export function allContainers(objects: readonly KubeObject[], kinds?: readonly ContainerKind[]): ContainerRef[] {
  return podTemplates(objects).flatMap((p) => containersOf(p, kinds));
}

/** metav1.LabelSelector semantics (matchLabels AND matchExpressions). Missing selector: matches nothing. */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const sel = rec(selector);
  if (!sel) return false;
  for (const [k, v] of Object.entries(stringMap(sel.matchLabels))) if (labels[k] !== v) return false;
  for (const e of arr(sel.matchExpressions)) {
    const key = str(at(e, 'key')) ?? '';
    const op = str(at(e, 'operator'));
    const values = arr(at(e, 'values')).filter((v): v is string => typeof v === 'string');
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    const value = labels[key];
    if (op === 'In' && !(has && values.includes(value!))) return false;
    if (op === 'NotIn' && has && values.includes(value!)) return false;
    if (op === 'Exists' && !has) return false;
    if (op === 'DoesNotExist' && has) return false;
    if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist') return false;
  }
  return true;
}

/** Service-style selector: a plain map; empty or missing matches nothing. */
export function mapSelectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const entries = Object.entries(stringMap(selector));
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

export function sameNamespace(a: string | undefined, b: string | undefined): boolean {
  return (a ?? 'default') === (b ?? 'default');
}

/** The ConfigMap holding a file, e.g. `configMapFile(objects, 'postfix-config', 'main.cf')`. */
export function configMapFile(objects: readonly KubeObject[], name: string, key: string): { object?: KubeObject; text?: string } {
  const object = objects.find((o) => kindOf(o) === 'ConfigMap' && nameOf(o) === name);
  return { object, text: str(at(object, 'data', key)) };
}
