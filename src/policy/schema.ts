import { at, rec } from './objects';
import { formatFinding, type Finding, type KubeObject } from './types';

/**
 * Validation of every synthesized object against the Kubernetes OpenAPI schema (kubernetes-models)
 * and the prometheus-operator CRD schema (@kubernetes-models/prometheus-operator).
 *
 * Each model module is loaded on first use: the ten models this chart needs cost about 100 ms of
 * require time together, the package root (every API group) over 300 ms.
 */

interface Validatable {
  validate(): void;
}
export type ModelClass = new (data: unknown) => Validatable;

/* eslint-disable @typescript-eslint/no-require-imports */
const LOADERS: Record<string, () => ModelClass> = {
  'v1 Namespace': () => require('kubernetes-models/v1/Namespace').Namespace,
  'v1 ConfigMap': () => require('kubernetes-models/v1/ConfigMap').ConfigMap,
  'v1 Secret': () => require('kubernetes-models/v1/Secret').Secret,
  'v1 Service': () => require('kubernetes-models/v1/Service').Service,
  'v1 ServiceAccount': () => require('kubernetes-models/v1/ServiceAccount').ServiceAccount,
  'v1 PersistentVolumeClaim': () => require('kubernetes-models/v1/PersistentVolumeClaim').PersistentVolumeClaim,
  'apps/v1 Deployment': () => require('kubernetes-models/apps/v1/Deployment').Deployment,
  'apps/v1 StatefulSet': () => require('kubernetes-models/apps/v1/StatefulSet').StatefulSet,
  'networking.k8s.io/v1 NetworkPolicy': () => require('kubernetes-models/networking.k8s.io/v1/NetworkPolicy').NetworkPolicy,
  'policy/v1 PodDisruptionBudget': () => require('kubernetes-models/policy/v1/PodDisruptionBudget').PodDisruptionBudget,
  'autoscaling/v2 HorizontalPodAutoscaler': () => require('kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler').HorizontalPodAutoscaler,
  'monitoring.coreos.com/v1 ServiceMonitor': () =>
    require('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor').ServiceMonitor,
  'monitoring.coreos.com/v1 PrometheusRule': () =>
    require('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule').PrometheusRule,
  'monitoring.coreos.com/v1 Probe': () => require('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Probe').Probe,
};

/** `apiVersion kind` pairs that have a schema here. */
export const SCHEMA_KINDS = Object.keys(LOADERS);

const loaded = new Map<string, ModelClass>();
function modelFor(key: string): ModelClass | undefined {
  const load = LOADERS[key];
  if (!load) return undefined;
  let model = loaded.get(key);
  if (!model) {
    model = load();
    loaded.set(key, model);
  }
  return model;
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `/spec/template/metadata/labels/app.kubernetes.io~1name` -> `spec.template.metadata.labels.app.kubernetes.io/name` */
function pointerToPath(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function dotted(keys: readonly string[]): string {
  return keys.reduce((acc, k) => (/^[0-9]+$/.test(k) ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '') || '(object)';
}

function valueAtPointer(object: unknown, keys: readonly string[]): unknown {
  let node = object;
  for (const k of keys) node = Array.isArray(node) ? node[Number(k)] : rec(node)?.[k];
  return node;
}

function toFindings(subject: string, object: KubeObject, errors: readonly AjvError[]): Finding[] {
  const byPath = new Map<string, { keys: string[]; messages: string[] }>();
  for (const e of errors) {
    let keys = pointerToPath(e.instancePath);
    let message = e.message ?? e.keyword;
    if (e.keyword === 'required' && typeof e.params?.missingProperty === 'string') {
      keys = [...keys, e.params.missingProperty];
      message = 'is required';
    } else if (e.keyword === 'enum' && Array.isArray(e.params?.allowedValues)) {
      message = `must be one of ${e.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
      continue; // the branch errors say what each alternative wanted
    }
    const path = dotted(keys);
    const entry = byPath.get(path) ?? { keys, messages: [] };
    if (!entry.messages.includes(message)) entry.messages.push(message);
    byPath.set(path, entry);
  }
  return [...byPath.entries()].map(([path, { keys, messages }]) => ({
    subject,
    path,
    problem: messages.every((m) => m.startsWith('must be ')) ? `must be ${messages.map((m) => m.slice(8)).join(' or ')}` : messages.join(' or '),
    value: valueAtPointer(object, keys),
  }));
}

/** Findings of one object, without the rule prefix (exported for tests). */
export function schemaFindings(object: KubeObject): Finding[] {
  const kind = typeof object.kind === 'string' ? object.kind : '(no kind)';
  const name = at(object, 'metadata', 'name');
  const subject = `${kind}/${typeof name === 'string' ? name : '(no name)'}`;
  const key = `${String(object.apiVersion)} ${kind}`;
  const Model = modelFor(key);
  if (!Model) {
    return [{ subject, path: 'apiVersion, kind', problem: `must be a kind this project can validate (${SCHEMA_KINDS.join(', ')})`, value: key }];
  }
  return modelFindings(Model, subject, object);
}

/** Findings of one object against one model (a kubernetes-models class). */
export function modelFindings(Model: ModelClass, subject: string, object: KubeObject): Finding[] {
  try {
    new Model(object).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) throw err;
    return toFindings(subject, object, errors);
  }
}

export const SCHEMA_RULE_ID = 'schema';

/** Every object against its Kubernetes or CRD schema; one message per bad field. */
export function validateObjectSchemas(envName: string, objects: readonly Record<string, unknown>[]): string[] {
  return objects.flatMap((o) => schemaFindings(o).map((f) => formatFinding(SCHEMA_RULE_ID, envName, f)));
}
