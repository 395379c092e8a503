import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { unescapeGoTemplate } from '../../src/output/go-template';
import { contentHash, HELPERS, helmChart, NAMESPACE_GUARD, valueHoles, VALUES_CHECK, withBuildMetadata } from '../../src/output/helm-chart';
import { goDict, goString, templateObject } from '../../src/output/helm-templates';
import { helmValues, helmValuesJsonSchema, helmValuesSchema } from '../../src/output/helm-values';
import { manifestFiles } from '../../src/output/manifest-files';
import { toYaml } from '../../src/output/yaml';
import { renderEnvironments } from '../../src/synth';
import { variant } from '../charts/variant';
import { env, sampleObjects } from './fixtures';
import { renderLikeHelm } from './go-template-model';
import { renderWithDefaults } from './helm-model';

const prod = env('prod');
const files = manifestFiles(sampleObjects(prod.namespace, 'StatefulSet'), 'environments/prod.yaml');
const chart = helmChart(prod, files, '1.0.0');
const root = 'helm/email-server-prod';

describe('Helm chart per environment', () => {
  it('has Chart.yaml versioned from package.json plus a hash of its files, values, a values schema and one template per manifest', () => {
    const meta = parse(chart.get(`${root}/Chart.yaml`)!);
    expect(meta).toEqual({
      apiVersion: 'v2',
      name: 'email-server-prod',
      description: expect.stringContaining('namespace email-server-prod'),
      type: 'application',
      version: expect.stringMatching(/^1\.0\.0\+[0-9a-f]{12}$/),
      appVersion: prod.image.tag,
    });
    expect(parse(chart.get(`${root}/values.yaml`)!)).toEqual(helmValues(prod));
    expect(JSON.parse(chart.get(`${root}/values.schema.json`)!)).toEqual(helmValuesJsonSchema(prod));
    const templates = [...chart.keys()].filter((k) => k.startsWith(`${root}/templates/`)).map((k) => k.slice(root.length + 11));
    expect(templates.sort()).toEqual([...files.map((f) => f.file), NAMESPACE_GUARD, VALUES_CHECK, HELPERS, 'NOTES.txt'].sort());
  });

  it('ships no CRDs', () => {
    expect([...chart.keys()].some((k) => k.includes('/crds/'))).toBe(false);
  });

  it('templates without values un-escape to exactly the plain manifests; the others render to them with the default values', () => {
    for (const { file, object } of files) {
      const template = chart.get(`${root}/templates/${file}`)!;
      const holes = valueHoles(prod, object);
      if (holes.length) {
        expect(parse(renderWithDefaults(template, object, holes, file))).toEqual(object);
      } else {
        expect(unescapeGoTemplate(template)).toBe(toYaml(object));
        expect(template.split('{{"{{"}}').join('')).not.toContain('{{');
      }
    }
    const rule = chart.get(`${root}/templates/prometheusrule-postfix-relay.yaml`)!;
    expect(rule).toContain('Queue on {{"{{"}} $labels.instance }}');
  });

  it('refuses an install into another namespace, but lets helm lint render', () => {
    const guard = chart.get(`${root}/templates/${NAMESPACE_GUARD}`)!;
    expect(guard).toContain('{{- if and (or .Release.IsInstall .Release.IsUpgrade) (ne .Release.Namespace "email-server-prod") }}');
    expect(guard).toContain('{{- fail "this chart is rendered for namespace email-server-prod: install it with --namespace email-server-prod');
    expect(guard.trimEnd().endsWith('{{- end }}')).toBe(true);
  });

  it('leaves out a Namespace object for its own namespace (--create-namespace makes it)', () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: prod.namespace } };
    const withNs = helmChart(prod, manifestFiles([ns, ...sampleObjects(prod.namespace)], 'x'), '1.0.0');
    expect([...withNs.keys()].some((k) => k.endsWith('00-namespace-email-server-prod.yaml'))).toBe(false);
  });

  it('NOTES.txt holds no template actions of their own and shows the full cluster DNS name; Chart.yaml is one document', () => {
    const notes = chart.get(`${root}/templates/NOTES.txt`)!;
    expect(notes).not.toContain('{{');
    expect(notes).toContain('postfix-relay.email-server-prod.svc.cluster.local:25');
    expect(notes).not.toMatch(/\.svc:25/);
    expect(parseAllDocuments(chart.get(`${root}/Chart.yaml`)!)).toHaveLength(1);
  });

  it('NOTES.txt of a LoadBalancer chart says where clients outside the cluster connect', () => {
    const lb = variant('prod', { service: { type: 'LoadBalancer', loadBalancerSourceRanges: ['203.0.113.0/24'] } });
    const notes = helmChart(lb, files, '1.0.0').get(`${root}/templates/NOTES.txt`)!;
    expect(notes).toContain('Clients outside the cluster (203.0.113.0/24) send to port 25 of the load balancer\'s address: kubectl -n email-server-prod get service postfix-relay (EXTERNAL-IP).');
  });

  it('refuses a package.json version that is not semver', () => {
    expect(() => helmChart(prod, files, '1.0')).toThrow('package.json: version: must be a semantic version such as 1.2.3 (Helm chart version) (got "1.0")');
  });
});

describe('chart version: tells two configurations apart', () => {
  const version = (e: typeof prod, v = '1.0.0') => {
    const [m] = renderEnvironments([e]);
    const real = manifestFiles(m!.objects as Record<string, unknown>[], 'x');
    return parse(helmChart(e, real, v).get(`${root}/Chart.yaml`)!).version as string;
  };

  it('is the same for the same input, and differs when a setting or a value default changes', () => {
    expect(version(prod)).toBe(version(env('prod')));
    const softer = { ...prod, mail: { ...prod.mail, softBounce: true } };
    const moreReplicas = { ...prod, autoscaling: { ...prod.autoscaling, maxReplicas: 9 } };
    expect(new Set([version(prod), version(softer), version(moreReplicas)]).size).toBe(3);
  });

  it('keeps package.json\'s version and its build metadata', () => {
    expect(version(prod, '2.3.4-rc.1')).toMatch(/^2\.3\.4-rc\.1\+[0-9a-f]{12}$/);
    expect(version(prod, '2.3.4+build.7')).toMatch(/^2\.3\.4\+build\.7\.[0-9a-f]{12}$/);
    expect(withBuildMetadata('1.0.0', 'abc')).toBe('1.0.0+abc');
  });

  it('hashes names and contents', () => {
    const a = contentHash(new Map([['a', 'x']]));
    expect(a).toMatch(/^[0-9a-f]{12}$/);
    expect(contentHash(new Map([['b', 'x']]))).not.toBe(a);
    expect(contentHash(new Map([['a', 'y']]))).not.toBe(a);
  });
});

describe('value holes in templates', () => {
  const object = { kind: 'Thing', metadata: { name: 'x', annotations: { note: 'a {{ b }} c' } }, spec: { count: 2, items: [{ name: 'i', v: 'w' }] } };

  it('writes each value through toJson, keeps the rest escaped, and adds optional fields only when set', () => {
    const t = templateObject(object, [
      { path: ['spec', 'count'], value: '.Values.count' },
      { path: ['spec', 'extra'], value: '.Values.extra', omitEmpty: true },
      { path: ['spec', 'items', 0, 'name'], value: '.Values.name' },
    ], 'test');
    expect(t).toContain('  count: {{ .Values.count | toJson }}');
    expect(t).toContain('{{- with .Values.extra }}\n  extra: {{ toJson . }}\n{{- end }}');
    expect(t).toContain('    - name: {{ .Values.name | toJson }}');
    expect(t).toContain('note: a {{"{{"}} b }} c');
  });

  it('refuses a value for a field the object lacks, and an optional field that would open a list item', () => {
    expect(() => templateObject(object, [{ path: ['spec', 'missing'], value: '.Values.x' }], 'test')).toThrow('test: Helm template: the object has no field spec.missing for a value to set');
    expect(() => templateObject(object, [{ path: ['spec', 'items', 0, 'name'], value: '.Values.x', omitEmpty: true }], 'test')).toThrow('cannot open a list item');
  });

  it('refuses an optional field after a line ending in blanks (the trim marker would eat them)', () => {
    const trailing = { kind: 'Thing', data: { script: 'echo  \nend  ' }, spec: { a: 1 } };
    expect(() => templateObject(trailing, [{ path: ['spec', 'extra'], value: '.Values.extra', omitEmpty: true }], 'test')).not.toThrow();
    const last = { kind: 'Thing', spec: { script: 'line one\nline two   \n' } };
    expect(() => templateObject(last, [{ path: ['spec', 'extra'], value: '.Values.extra', omitEmpty: true }], 'test')).toThrow('follows a line ending in blanks');
  });

  it('cannot be forged by a user string that looks like a placeholder', () => {
    const forged = { ...object, metadata: { ...object.metadata, annotations: { note: '__email_server_helm_value_0__' } } };
    expect(() => templateObject(forged, [{ path: ['spec', 'count'], value: '.Values.count' }], 'test')).toThrow('must be a mapping key written once');
  });

  it('quotes Go template strings and dicts', () => {
    expect(goString('a "b" \\ c')).toBe('"a \\"b\\" \\\\ c"');
    expect(goDict({ 'app.kubernetes.io/name': 'postfix-relay', x: '{{' })).toBe('(dict "app.kubernetes.io/name" "postfix-relay" "x" "{{")');
    expect(goDict({})).toBe('(dict)');
  });

  it('gives the real workloads every knob: image, pull policy and resources of both containers, scheduling, metadata, scale', () => {
    for (const name of ['dev', 'staging', 'prod'] as const) {
      const e = env(name);
      const [m] = renderEnvironments([e]);
      const workload = m!.objects.find((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')!;
      const fields = valueHoles(e, workload).map((h) => h.path.filter((k) => typeof k === 'string').slice(-1)[0]);
      expect(fields.sort(), name).toEqual(
        [
          ...(e.autoscaling.enabled ? [] : ['replicas']),
          'labels', 'annotations', 'nodeSelector', 'tolerations', 'affinity', 'priorityClassName', 'imagePullSecrets',
          'image', 'imagePullPolicy', 'resources', 'image', 'imagePullPolicy', 'resources',
        ].sort(),
      );
    }
  });
});

describe('values and their schema', () => {
  it.each(['dev', 'staging', 'prod'] as const)('%s: the default values satisfy the values schema', (name) => {
    const e = env(name);
    expect(helmValuesSchema(e).safeParse(helmValues(e)).error?.issues).toBeUndefined();
  });

  it('offers replicas without an HPA and autoscaling bounds with one, never both', () => {
    expect(Object.keys(helmValues(env('dev')))).toContain('replicas');
    expect(Object.keys(helmValues(env('dev')))).not.toContain('autoscaling');
    expect(Object.keys(helmValues(env('prod')))).toContain('autoscaling');
    expect(Object.keys(helmValues(env('prod')))).not.toContain('replicas');
  });

  it('closes every object of the JSON Schema and requires every value', () => {
    const walk = (s: Record<string, any>, path: string) => {
      if (s.type === 'object' && s.properties) {
        expect(s.additionalProperties, path).toBe(false);
        const optional = ['digest', 'priorityClassName', 'global', 'nodeAffinity', 'key', 'operator', 'value', 'effect', 'tolerationSeconds', 'values', 'matchExpressions', 'matchFields', 'requiredDuringSchedulingIgnoredDuringExecution', 'preferredDuringSchedulingIgnoredDuringExecution'];
        for (const k of Object.keys(s.properties)) if (!optional.includes(k)) expect(s.required, `${path}.${k}`).toContain(k);
        for (const [k, v] of Object.entries(s.properties)) walk(v as Record<string, any>, `${path}.${k}`);
      }
      if (s.items) walk(s.items, `${path}[]`);
      expect(s, path).not.toHaveProperty('default');
    };
    for (const name of ['dev', 'staging', 'prod'] as const) walk(helmValuesJsonSchema(env(name)), name);
  });

  it('bounds the replica count by the disruption budget and the tier', () => {
    const schema = helmValuesSchema(env('prod'));
    const values = helmValues(env('prod')) as Record<string, any>;
    expect(schema.safeParse({ ...values, autoscaling: { ...values.autoscaling, minReplicas: 1 } }).success).toBe(false);
    const dev = helmValues(env('dev')) as Record<string, any>;
    expect(helmValuesSchema(env('dev')).safeParse({ ...dev, replicas: 1 }).success).toBe(true);
  });

  it('refuses in JSON Schema what the environment schema refuses (reserved keys: in values-check.yaml, with a clearer message)', () => {
    const schema = helmValuesJsonSchema(env('prod')) as Record<string, any>;
    const pod = schema.properties.pod.properties;
    expect(pod.labels.propertyNames.not).toBeUndefined();
    expect(pod.labels.propertyNames.pattern).toMatch(/^\^/);
    const check = helmChart(env('prod'), files, '1.0.0').get(`${root}/templates/${VALUES_CHECK}`)!;
    expect(check).toContain('{{- if hasPrefix "app.kubernetes.io/" $key }}');
    expect(check).toContain('{{- if hasKey .Values.pod.annotations "checksum/config" }}');
    expect(schema.properties.image.properties.pullSecrets.uniqueItems).toBe(true);
    expect(new RegExp(pod.annotations.additionalProperties.pattern).test('a\u2028b')).toBe(false);
    expect(new RegExp(pod.annotations.additionalProperties.pattern).test('a b: c/d')).toBe(true);
  });
});

it('the escape-only model rejects a value action (why templated files need renderWithDefaults)', () => {
  expect(() => renderLikeHelm('a: {{ .Values.x | toJson }}')).toThrow('unescaped template action');
});
