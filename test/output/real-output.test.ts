import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadEnvironments } from '../../src/config/load';
import { renderDist, type EnvironmentManifests } from '../../src/output';
import { NAMESPACE_GUARD, valueHoles, VALUES_CHECK } from '../../src/output/helm-chart';
import { renderEnvironments } from '../../src/synth';
import { renderLikeHelm } from './go-template-model';
import { renderWithDefaults } from './helm-model';

/** The delivery formats of the real environments and charts, rendered in memory. */
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
let manifests: EnvironmentManifests[];
let dist: Map<string, string>;
beforeAll(() => {
  manifests = renderEnvironments(loadEnvironments('environments'));
  dist = renderDist(manifests, { version });
});

const filesUnder = (prefix: string) => [...dist.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
const key = (o: Record<string, unknown>) => {
  const m = o.metadata as { name: string; namespace?: string };
  return `${String(o.apiVersion)}/${String(o.kind)}/${m.namespace ?? ''}/${m.name}`;
};

describe.each(['dev', 'staging', 'prod'])('%s', (name) => {
  const plain = () => filesUnder(`${name}/`).filter((f) => f.endsWith('.yaml'));

  it('has one file per object, each parsing back to the object cdk8s produced', () => {
    const { objects } = manifests.find((m) => m.env.name === name)!;
    expect(plain()).toHaveLength(objects.length);
    const back = new Map(plain().map((f) => [f, parse(dist.get(`${name}/${f}`)!) as Record<string, unknown>]));
    for (const obj of objects) expect([...back.values()]).toContainEqual(obj);
  });

  it('names files after the objects, the namespace first, and lists them all in the Kustomization', () => {
    const files = plain();
    expect(files[0]).toMatch(/^00-namespace-email-server-/);
    expect(files).toContain('configmap-postfix-config.yaml');
    expect(files).toContain('service-postfix-relay.yaml');
    expect(files).toContain('service-postfix-relay-metrics.yaml');
    expect(parse(dist.get(`${name}/Kustomization`)!).resources).toEqual(files);
  });

  it('Helm templates render (Go-template model) to exactly the plain manifests, minus the Namespace', () => {
    const root = `helm/email-server-${name}/`;
    const templates = filesUnder(`${root}templates/`);
    const env = manifests.find((m) => m.env.name === name)!.env;
    const expected = plain().filter((f) => f !== `00-namespace-${env.namespace}.yaml`);
    expect(templates.filter((t) => t.endsWith('.yaml') && t !== NAMESPACE_GUARD && t !== VALUES_CHECK).sort()).toEqual([...expected].sort());
    let escapes = 0;
    let templated = 0;
    for (const file of expected) {
      const template = dist.get(`${root}templates/${file}`)!;
      escapes += template.split('{{"{{"}}').length - 1;
      const object = parse(dist.get(`${name}/${file}`)!) as Record<string, unknown>;
      const holes = valueHoles(env, object);
      if (!holes.length) {
        // Nothing from values: byte for byte the plain file.
        expect(renderLikeHelm(template, file)).toBe(dist.get(`${name}/${file}`));
        continue;
      }
      templated++;
      expect(parse(renderWithDefaults(template, object, holes, file))).toEqual(object);
    }
    if (env.alerts.enabled) expect(escapes).toBeGreaterThan(0);
    // The workload, the smtp Service, and with them the HPA and the monitoring objects when present.
    expect(templated).toBe(2 + Number(env.autoscaling.enabled) + (env.metrics.enabled ? Number(env.serviceMonitor.enabled) + Number(env.alerts.enabled) : 0));
    expect(() => renderLikeHelm(dist.get(`${root}templates/NOTES.txt`)!, 'NOTES.txt')).not.toThrow();
  });

  it('the Helm chart is versioned from package.json plus a hash of its files, and ships no CRDs', () => {
    const root = `helm/email-server-${name}/`;
    expect(parse(dist.get(`${root}Chart.yaml`)!)).toMatchObject({ apiVersion: 'v2', name: `email-server-${name}`, version: expect.stringMatching(new RegExp(`^${version.replace(/\./g, '\\.')}\\+[0-9a-f]{12}$`)) });
    expect(filesUnder(root).some((f) => f.startsWith('crds/'))).toBe(false);
    expect(filesUnder(root).some((f) => /customresourcedefinition/i.test(f))).toBe(false);
  });

  it('has an Argo CD Application for its folder and namespace', () => {
    const env = manifests.find((m) => m.env.name === name)!.env;
    const text = dist.get(`argocd/${name}/application-email-server-${name}.yaml`)!;
    expect(text).toContain(`kubectl --context <that cluster> apply -f dist/argocd/${name}/`);
    const app = parse(text);
    expect(app.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(app.kind).toBe('Application');
    // The shipped files leave path and revision to the defaults: the environment's folder on main.
    expect(env.argocd.path).toBeUndefined();
    expect(app.spec.source).toEqual({ repoURL: env.argocd.repoURL, path: name, targetRevision: 'main' });
    expect(app.spec.destination).toEqual({ server: env.argocd.destinationServer, namespace: env.namespace });
    expect(app.spec.syncPolicy.syncOptions).toContain('CreateNamespace=true');
    if (env.argocd.automated) expect(app.spec.syncPolicy.automated).toEqual(env.argocd.automated);
    else expect(app.spec.syncPolicy.automated).toBeUndefined();
  });
});

it('every object is in exactly one file across the environments', () => {
  const seen = new Set<string>();
  for (const [path, content] of dist) {
    if (!/^(dev|staging|prod)\/.*\.yaml$/.test(path)) continue;
    const k = `${path.split('/')[0]}:${key(parse(content))}`;
    expect(seen.has(k)).toBe(false);
    seen.add(k);
  }
});
