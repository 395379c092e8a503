import { parse as parseYaml } from 'yaml';
import { parseEnvironment } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { renderDist } from '../../src/output';
import { KUSTOMIZATION_FILE } from '../../src/output/layout';
import { parseMainCf } from '../../src/policy/main-cf';
import { CONFIG_FILES } from '../../src/postfix/layout';
import { renderEnvironments } from '../../src/synth';

/**
 * Where a setting shows in the output. Every effect a case lists must read differently in the
 * output of the default value and of the non-default one.
 */
export type Effect =
  | { readonly kind: 'field'; readonly object: string; readonly path: string }
  | { readonly kind: 'mainCf'; readonly param: string }
  | { readonly kind: 'masterCf'; readonly service: string }
  | { readonly kind: 'script'; readonly file: string; readonly variable: string };

/**
 * A field of an object in dist/: `object` is `Kind/name` (`Application` objects of dist/argocd/
 * included); `path` is dotted, with `[2]` for an index and `[name=postfix]` to pick the element
 * of a list whose `name` is `postfix`, `[*]` for any element (the first in which the rest of the
 * path exists), `["key.with.dots"]` for a key with dots; a JSON document
 * held in a string (the dashboard) is walked into. Example:
 * `field('Deployment/postfix-relay', 'spec.template.spec.containers[name=postfix].image')`.
 * An empty path is the whole object (for a setting that creates or removes it).
 */
export const field = (object: string, path: string): Effect => ({ kind: 'field', object, path });
/** A field of the alert rule named `alert` in the PrometheusRule (any group). */
export const alertRule = (alert: string, path: string): Effect => field('PrometheusRule/postfix-relay', `spec.groups[*].rules[alert=${alert}].${path}`);
/** A field of the Grafana dashboard panel titled `title` (the JSON in ConfigMap postfix-relay-dashboard). */
export const dashboardPanel = (title: string, path: string): Effect => field('ConfigMap/postfix-relay-dashboard', `data[*].panels[title=${title}].${path}`);
/** A parameter of the rendered main.cf (ConfigMap postfix-config). */
export const mainCf = (param: string): Effect => ({ kind: 'mainCf', param });
/** A service of the rendered master.cf: its line and its `-o` options. */
export const masterCf = (service: string): Effect => ({ kind: 'masterCf', service });
/** A `name=value` line of a rendered script of ConfigMap postfix-config (entrypoint.sh, drain.sh). */
export const script = (file: string, variable: string): Effect => ({ kind: 'script', file, variable });

export function describeEffect(e: Effect): string {
  switch (e.kind) {
    case 'field':
      return e.path ? `${e.object} ${e.path}` : `${e.object} (the object itself)`;
    case 'mainCf':
      return `main.cf ${e.param}`;
    case 'masterCf':
      return `master.cf service ${e.service}`;
    case 'script':
      return `${e.file} ${e.variable}=`;
  }
}

/** As the helper call a developer writes in test/settings/cases.ts. */
export function effectSource(e: Effect): string {
  const q = (s: string) => `'${s.replace(/'/g, "\\'")}'`;
  switch (e.kind) {
    case 'field':
      return `field(${q(e.object)}, ${q(e.path)})`;
    case 'mainCf':
      return `mainCf(${q(e.param)})`;
    case 'masterCf':
      return `masterCf(${q(e.service)})`;
    case 'script':
      return `script(${q(e.file)}, ${q(e.variable)})`;
  }
}

export type K8sObject = Record<string, any>;

/** dist/ of one environment as objects, by `Kind/name`. */
export type Output = ReadonlyMap<string, K8sObject>;

export const ENV_NAME = 'settings';
const CONFIG_MAP = 'ConfigMap/postfix-config';

/** Validates an environment file's content exactly as synth does (ConfigError on bad input). */
export function validate(input: unknown): EnvironmentConfig {
  return parseEnvironment(input, `environments/${ENV_NAME}.yaml`, ENV_NAME);
}

/**
 * Synthesizes one environment: the objects `npm run synth` writes to dist/<env>/ (one file each,
 * byte-for-byte their YAML: test/output/real-output.test.ts) and the Application it writes to
 * dist/argocd/<env>/, read back from the rendered file.
 */
export function synthOutput(env: EnvironmentConfig): Output {
  const manifests = renderEnvironments([env]);
  const out = new Map<string, K8sObject>();
  for (const object of manifests[0]!.objects as K8sObject[]) out.set(`${object.kind}/${object.metadata?.name}`, object);
  for (const [path, text] of renderDist(manifests, { version: '0.0.0' })) {
    // The Application in dist/argocd/<env>/<file>.
    const parts = path.split('/');
    if (parts.length !== 3 || parts[0] !== 'argocd' || parts[1] !== ENV_NAME || parts[2] === KUSTOMIZATION_FILE) continue;
    const object = parseYaml(text) as K8sObject;
    out.set(`${object.kind}/${object.metadata?.name}`, object);
  }
  return out;
}

const MISSING = Symbol('missing');

/** `a.b[0][name=x]["key.with.dots"]` -> `a`, `b`, `[0]`, `[name=x]`, `["key.with.dots"]`. */
function pathTokens(path: string): string[] {
  return path.match(/\["(?:[^"\\]|\\.)*"\]|\[[^\]]*\]|[^.[\]]+/g) ?? [];
}

/** The key that names the elements of both lists (name, alert, title), if one does, uniquely. */
function identity(x: unknown[], y: unknown[]): string | undefined {
  return ['name', 'alert', 'title'].find((key) =>
    [x, y].every((list) => {
      const values = list.map((el) => (el && typeof el === 'object' ? (el as K8sObject)[key] : undefined));
      return values.every((v) => typeof v === 'string' && !/[\]=]/.test(v)) && new Set(values).size === values.length;
    }),
  );
}

/** One step of a path, as `pathTokens` reads it back. */
function step(key: string, first: boolean): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? `${first ? '' : '.'}${key}` : `[${JSON.stringify(key)}]`;
}

function walkPath(value: unknown, path: string): unknown {
  return walkTokens(value, pathTokens(path));
}

function walkTokens(value: unknown, tokens: readonly string[]): unknown {
  let node: unknown = value;
  for (const [i, token] of tokens.entries()) {
    if (node === MISSING || node === undefined || node === null) return MISSING;
    if (typeof node === 'string' && /^\s*[[{]/.test(node)) node = JSON.parse(node); // a JSON document inside a ConfigMap
    if (token === '[*]') {
      // Any element (or any value of an object): the first in which the rest of the path exists.
      if (typeof node !== 'object') return MISSING;
      for (const el of Object.values(node as object)) {
        const found = walkTokens(el, tokens.slice(i + 1));
        if (found !== MISSING) return found;
      }
      return MISSING;
    }
    if (token.startsWith('["')) {
      node = typeof node === 'object' ? (node as Record<string, unknown>)[JSON.parse(token.slice(1, -1)) as string] : MISSING;
    } else if (token.startsWith('[')) {
      const inner = token.slice(1, -1);
      if (!Array.isArray(node)) return MISSING;
      const eq = inner.indexOf('=');
      node = eq < 0 ? node[Number(inner)] : node.find((el) => el && String(el[inner.slice(0, eq)]) === inner.slice(eq + 1));
    } else {
      node = typeof node === 'object' ? (node as Record<string, unknown>)[token] : MISSING;
    }
  }
  return node === undefined ? MISSING : node;
}

function configFile(out: Output, key: string): string | undefined {
  return out.get(CONFIG_MAP)?.data?.[key];
}

/** What an effect reads in an output; `undefined` when absent. */
export function readEffect(out: Output, e: Effect): unknown {
  switch (e.kind) {
    case 'field': {
      const object = out.get(e.object);
      if (!object) return undefined;
      const v = walkPath(object, e.path);
      return v === MISSING ? undefined : v;
    }
    case 'mainCf': {
      const text = configFile(out, CONFIG_FILES.mainCf);
      return text === undefined ? undefined : parseMainCf(text).get(e.param);
    }
    case 'masterCf': {
      const lines = (configFile(out, CONFIG_FILES.masterCf) ?? '').split('\n');
      const start = lines.findIndex((l) => l.split(/\s+/)[0] === e.service);
      if (start < 0) return undefined;
      const block = [lines[start]];
      for (const l of lines.slice(start + 1)) {
        if (!/^\s+\S/.test(l)) break;
        block.push(l);
      }
      return block.join('\n');
    }
    case 'script': {
      const lines = (configFile(out, e.file) ?? '').split('\n').filter((l) => l.startsWith(`${e.variable}=`));
      return lines.length ? lines.join('\n') : undefined;
    }
  }
}

export const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Every place two outputs differ, as effects a case can name: changed object fields (down to
 * the first differing leaf), main.cf parameters, master.cf services and script variables. Used
 * to tell a developer what to write for a setting that has no case yet.
 */
export function differences(a: Output, b: Output): Effect[] {
  const out: Effect[] = [];
  const fieldDiffs = (x: unknown, y: unknown, object: string, path: string) => {
    if (same(x, y)) return;
    const json = (v: unknown) => (typeof v === 'string' && /^\s*[[{]/.test(v) ? (JSON.parse(v) as unknown) : v);
    if (typeof x === 'string' && typeof y === 'string' && json(x) !== x && json(y) !== y) {
      fieldDiffs(json(x), json(y), object, path);
      return;
    }
    const bothObjects = x && y && typeof x === 'object' && typeof y === 'object' && Array.isArray(x) === Array.isArray(y);
    if (!bothObjects || out.length > 40) {
      out.push(field(object, path));
      return;
    }
    const xo = x as Record<string, unknown>;
    const yo = y as Record<string, unknown>;
    const id = Array.isArray(x) ? identity(x, y as unknown[]) : undefined;
    if (id) {
      // Pair list elements by their identity (a container by name, a rule by alert), not by index.
      const byId = (list: unknown[]) => new Map(list.map((el) => [String((el as K8sObject)[id]), el]));
      const [xm, ym] = [byId(x as unknown[]), byId(y as unknown[])];
      for (const k of new Set([...xm.keys(), ...ym.keys()])) fieldDiffs(xm.get(k), ym.get(k), object, `${path}[${id}=${k}]`);
      return;
    }
    for (const key of new Set([...Object.keys(xo), ...Object.keys(yo)])) {
      const next = Array.isArray(x) ? `[${key}]` : step(key, !path);
      fieldDiffs(xo[key], yo[key], object, `${path}${next}`);
    }
  };
  for (const ref of new Set([...a.keys(), ...b.keys()])) {
    const [x, y] = [a.get(ref), b.get(ref)];
    if (ref === CONFIG_MAP && x && y) {
      const ma = parseMainCf(x.data[CONFIG_FILES.mainCf] ?? '');
      const mb = parseMainCf(y.data[CONFIG_FILES.mainCf] ?? '');
      for (const p of new Set([...ma.keys(), ...mb.keys()])) if (ma.get(p) !== mb.get(p)) out.push(mainCf(p));
      const services = (text: string) => text.split('\n').filter((l) => /^[a-z0-9]/.test(l)).map((l) => l.split(/\s+/)[0]!);
      for (const s of new Set(services(x.data[CONFIG_FILES.masterCf] ?? ''))) {
        const e = masterCf(s);
        if (!same(readEffect(a, e), readEffect(b, e))) out.push(e);
      }
      for (const file of [CONFIG_FILES.entrypoint, CONFIG_FILES.drain]) {
        const vars = (text: string) => text.split('\n').map((l) => /^([a-z_]+)=/.exec(l)?.[1]).filter((v): v is string => !!v);
        for (const v of new Set([...vars(x.data[file] ?? ''), ...vars(y.data[file] ?? '')])) {
          const e = script(file, v);
          if (!same(readEffect(a, e), readEffect(b, e))) out.push(e);
        }
      }
      continue;
    }
    // The config checksum changes with any ConfigMap change: never the documented effect.
    const strip = (o: K8sObject | undefined) => {
      if (!o?.spec?.template?.metadata?.annotations) return o;
      const c = structuredClone(o);
      delete c.spec.template.metadata.annotations['checksum/config'];
      return c;
    };
    fieldDiffs(strip(x), strip(y), ref, '');
  }
  return out;
}
