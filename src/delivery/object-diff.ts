import { parseAllDocuments } from 'yaml';
import { APPLICATION_PREFIX, ARGOCD_DIR, chartName, HELM_DIR, KUSTOMIZATION_FILE } from '../output/layout';
import { NAMESPACE_GUARD } from '../output/helm-chart';
import { toYaml } from '../output/yaml';
import { unifiedDiff } from './line-diff';

/** A rendered output tree: relative path -> file content (dist/, or the owned part of a GitOps checkout). */
export type Tree = ReadonlyMap<string, string>;

/** An object as the API server identifies it. */
export interface ObjectId {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

export interface ObjectChange {
  readonly id: ObjectId;
  readonly change: 'added' | 'removed' | 'changed';
  /** Unified diff of the object's YAML (changed objects only). */
  readonly diff?: string;
}

export interface FileChange {
  readonly path: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly diff?: string;
}

export interface EnvironmentDiff {
  readonly name: string;
  /** The environment is new, gone, or in both trees. */
  readonly status: 'added' | 'removed' | 'changed';
  readonly objects: readonly ObjectChange[];
  /** Files that are not objects and not derived from them (Helm chart metadata, notes). */
  readonly files: readonly FileChange[];
}

export interface DiffReport {
  /** Environments with at least one change, by name. */
  readonly changed: readonly EnvironmentDiff[];
  /** Environments in both trees without a change. */
  readonly unchanged: readonly string[];
  /** Owned files that belong to no environment (e.g. an old aggregate Kustomization). */
  readonly other: readonly FileChange[];
}

/** `Kind namespace/name`, or `Kind name` for cluster-scoped objects. */
export function describeObject(id: ObjectId): string {
  return `${id.kind} ${id.namespace ? `${id.namespace}/` : ''}${id.name}`;
}

/** Identity across API versions of one group: `apps/v1` and `apps/v1beta2` Deployments are one object. */
function objectKey(id: ObjectId): string {
  const group = id.apiVersion.includes('/') ? id.apiVersion.split('/')[0] : '';
  return `${group}|${id.kind}|${id.namespace ?? ''}|${id.name}`;
}

/** The environments a tree holds: its top-level folders, except the shared ones. */
export function environmentsOf(tree: Tree): string[] {
  const names = new Set<string>();
  for (const path of tree.keys()) {
    const top = path.split('/')[0]!;
    if (path.includes('/') && top !== ARGOCD_DIR && top !== HELM_DIR) names.add(top);
  }
  return [...names].sort();
}

interface Parsed {
  readonly id: ObjectId;
  /** The object re-serialized: comments and file names do not count as changes. */
  readonly yaml: string;
}

/** Every object of a YAML file (one or many documents). Throws naming the file. */
export function parseObjects(path: string, content: string): Parsed[] {
  const out: Parsed[] = [];
  for (const doc of parseAllDocuments(content)) {
    if (doc.errors.length) throw new Error(`${path}: is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
    const object = doc.toJS() as Record<string, unknown> | null;
    if (object === null || object === undefined) continue;
    const metadata = (object.metadata ?? {}) as Record<string, unknown>;
    if (typeof object.kind !== 'string' || typeof metadata.name !== 'string') throw new Error(`${path}: holds something that is not a Kubernetes object (no kind or metadata.name)`);
    const id: ObjectId = {
      apiVersion: String(object.apiVersion ?? ''),
      kind: object.kind,
      name: metadata.name,
      ...(typeof metadata.namespace === 'string' ? { namespace: metadata.namespace } : {}),
    };
    out.push({ id, yaml: toYaml(object) });
  }
  return out;
}

interface Group {
  readonly objects: Map<string, Parsed>;
  readonly files: Map<string, string>;
}

/**
 * Splits a tree by environment: its folder's objects, its Argo CD Application and its Helm
 * chart. Files derived from the objects (the Kustomization, the chart's object templates) are
 * left out: they change exactly when the objects do.
 */
function group(tree: Tree, envs: readonly string[]): { groups: Map<string, Group>; other: Map<string, string> } {
  const groups = new Map(envs.map((e) => [e, { objects: new Map<string, Parsed>(), files: new Map<string, string>() }]));
  const other = new Map<string, string>();
  const addObjects = (env: string, path: string, content: string) => {
    for (const p of parseObjects(path, content)) groups.get(env)!.objects.set(objectKey(p.id), p);
  };
  for (const [path, content] of tree) {
    const parts = path.split('/');
    const top = parts[0]!;
    const isYaml = /\.(ya?ml|json)$/.test(path);
    if (groups.has(top) && parts.length === 2) {
      if (isYaml) addObjects(top, path, content);
      else if (parts[1] !== KUSTOMIZATION_FILE) groups.get(top)!.files.set(path, content);
    } else if (top === ARGOCD_DIR && isYaml) {
      // argocd/<env>/*.yaml, or (earlier releases) argocd/application-email-server-<env>.yaml.
      for (const p of parseObjects(path, content)) {
        const env = parts.length === 3 ? parts[1]! : p.id.name.startsWith(APPLICATION_PREFIX) ? p.id.name.slice(APPLICATION_PREFIX.length) : '';
        if (groups.has(env)) groups.get(env)!.objects.set(objectKey(p.id), p);
        else other.set(path, content);
      }
    } else if (top === HELM_DIR && parts.length > 2) {
      const env = envs.find((e) => parts[1] === chartName(e));
      // Every template but these two is an object file of the environment, escaped for Helm.
      const mirrored = parts[2] === 'templates' && parts.length === 4 && parts[3] !== 'NOTES.txt' && parts[3] !== NAMESPACE_GUARD;
      if (env && !mirrored) groups.get(env)!.files.set(path, content);
      else if (!env) other.set(path, content);
    } else if (top === ARGOCD_DIR || top === HELM_DIR) {
      other.set(path, content);
    }
  }
  return { groups, other };
}

const LABELS = { fromLabel: 'base', toLabel: 'new' };

function diffFiles(base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>): FileChange[] {
  const paths = [...new Set([...base.keys(), ...head.keys()])].sort();
  return paths.flatMap((path): FileChange[] => {
    const a = base.get(path);
    const b = head.get(path);
    if (a === b) return [];
    if (a === undefined) return [{ path, change: 'added' }];
    if (b === undefined) return [{ path, change: 'removed' }];
    return [{ path, change: 'changed', diff: unifiedDiff(a, b, LABELS) }];
  });
}

const ORDER = { removed: 0, changed: 1, added: 2 } as const;

/**
 * What changes between two output trees, per environment: objects added, removed and changed
 * (with a YAML diff each), by kind, namespace and name. `environments` limits the comparison to
 * the folders the project owns (default: every environment folder of either tree).
 */
export function diffTrees(base: Tree, head: Tree, environments?: readonly string[]): DiffReport {
  const envs = environments ? [...environments].sort() : [...new Set([...environmentsOf(base), ...environmentsOf(head)])].sort();
  const a = group(base, envs);
  const b = group(head, envs);
  const changed: EnvironmentDiff[] = [];
  const unchanged: string[] = [];
  for (const env of envs) {
    const inBase = [...base.keys()].some((p) => p.startsWith(`${env}/`));
    const inHead = [...head.keys()].some((p) => p.startsWith(`${env}/`));
    if (!inBase && !inHead) continue;
    const ga = a.groups.get(env)!;
    const gb = b.groups.get(env)!;
    const keys = [...new Set([...ga.objects.keys(), ...gb.objects.keys()])];
    const objects = keys.flatMap((key): ObjectChange[] => {
      const x = ga.objects.get(key);
      const y = gb.objects.get(key);
      if (!x) return [{ id: y!.id, change: 'added' }];
      if (!y) return [{ id: x.id, change: 'removed' }];
      if (x.yaml === y.yaml) return [];
      return [{ id: y.id, change: 'changed', diff: unifiedDiff(x.yaml, y.yaml, LABELS) }];
    });
    objects.sort((p, q) => ORDER[p.change] - ORDER[q.change] || compare(describeObject(p.id), describeObject(q.id)));
    const files = diffFiles(ga.files, gb.files);
    if (objects.length || files.length) changed.push({ name: env, status: inBase ? (inHead ? 'changed' : 'removed') : 'added', objects, files });
    else unchanged.push(env);
  }
  return { changed, unchanged, other: diffFiles(a.other, b.other) };
}

function compare(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True when the report shows any difference. */
export function hasChanges(report: DiffReport): boolean {
  return report.changed.length > 0 || report.other.length > 0;
}
