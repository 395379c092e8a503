import { toYaml } from './yaml';

/** A Kubernetes object, the file it is written to, and its YAML (serialized once, for every format). */
export interface ManifestFile {
  readonly file: string;
  readonly object: Record<string, unknown>;
  readonly yaml: string;
}

/** Identity of an object as the API server sees it. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const KIND = /^[A-Za-z][A-Za-z0-9]*$/;

/** apiVersion, kind, name and namespace of an object; throws naming the environment and the object. */
export function objectRef(object: Record<string, unknown>, where: string): ObjectRef {
  const metadata = object.metadata as Record<string, unknown> | undefined;
  const { apiVersion, kind } = object;
  const name = metadata?.name;
  const namespace = metadata?.namespace;
  const label = `${where}: object ${JSON.stringify(String(kind))}/${JSON.stringify(String(name))}`;
  if (typeof apiVersion !== 'string' || !apiVersion) throw new Error(`${label}: apiVersion must be a non-empty string`);
  if (typeof kind !== 'string' || !KIND.test(kind)) throw new Error(`${label}: kind must be a word such as Deployment`);
  if (typeof name !== 'string' || !NAME.test(name) || name.length > 253) {
    throw new Error(`${label}: metadata.name must be a DNS subdomain name (lower-case letters, digits, "-" and ".")`);
  }
  if (namespace !== undefined && typeof namespace !== 'string') throw new Error(`${label}: metadata.namespace must be a string`);
  return namespace === undefined ? { apiVersion, kind, name } : { apiVersion, kind, name, namespace };
}

export const refKey = (r: ObjectRef): string => `${r.apiVersion}/${r.kind}/${r.namespace ?? ''}/${r.name}`;

/**
 * Kinds that other objects need to exist first. `kubectl apply -f <dir>` reads files in name
 * order, so their files start with `00-`: a fresh cluster gets the namespace before the objects
 * that live in it. (Kustomize and Helm order kinds themselves.)
 */
const FIRST_KINDS: ReadonlySet<string> = new Set(['Namespace', 'CustomResourceDefinition']);

/**
 * Names each object's file `<kind>-<name>.yaml` (lower case), e.g. `service-postfix-relay-metrics.yaml`,
 * and `00-namespace-<name>.yaml` for a Namespace.
 * Two objects of the same kind and name (possible only across API groups or namespaces) get the
 * group or namespace added, so no name depends on the order of the objects. Files are returned
 * sorted by name: `kubectl apply -f <dir>` reads them in that order too.
 */
export function manifestFiles(objects: readonly Record<string, unknown>[], where: string): ManifestFile[] {
  const refs = objects.map((o) => objectRef(o, where));
  const seen = new Set<string>();
  for (const ref of refs) {
    const key = refKey(ref);
    if (seen.has(key)) throw new Error(`${where}: two objects are both ${ref.kind} "${ref.name}"${ref.namespace ? ` in namespace ${ref.namespace}` : ''}`);
    seen.add(key);
  }
  const base = (r: ObjectRef) => `${r.kind.toLowerCase()}-${r.name}`;
  const count = new Map<string, number>();
  for (const r of refs) count.set(base(r), (count.get(base(r)) ?? 0) + 1);
  const files = refs.map((r, i) => {
    let stem = base(r);
    if ((count.get(stem) ?? 0) > 1) {
      const group = r.apiVersion.includes('/') ? r.apiVersion.split('/')[0]! : 'core';
      stem = `${r.kind.toLowerCase()}.${group}-${r.name}${r.namespace ? `.${r.namespace}` : ''}`;
    }
    return { file: `${FIRST_KINDS.has(r.kind) ? '00-' : ''}${stem}.yaml`, object: objects[i]! };
  });
  const names = new Set<string>();
  for (const f of files) {
    if (names.has(f.file)) throw new Error(`${where}: two objects would both be written to ${f.file}`);
    names.add(f.file);
  }
  // Serialized only once every name is known to be valid and unique.
  return files.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)).map(({ file, object }) => ({ file, object, yaml: toYaml(object) }));
}
