import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { unescapeGoTemplate } from '../../src/output/go-template';
import { NAMESPACE_GUARD, helmChart } from '../../src/output/helm-chart';
import { manifestFiles } from '../../src/output/manifest-files';
import { toYaml } from '../../src/output/yaml';
import { env, sampleObjects } from './fixtures';

const prod = env('prod');
const files = manifestFiles(sampleObjects(prod.namespace, 'StatefulSet'), 'environments/prod.yaml');
const chart = helmChart(prod, files, '1.0.0');
const root = 'helm/email-server-prod';

describe('Helm chart per environment', () => {
  it('has Chart.yaml versioned from package.json, values.yaml and one template per manifest', () => {
    const meta = parse(chart.get(`${root}/Chart.yaml`)!);
    expect(meta).toEqual({
      apiVersion: 'v2',
      name: 'email-server-prod',
      description: expect.stringContaining('namespace email-server-prod'),
      type: 'application',
      version: '1.0.0',
      appVersion: prod.image.tag,
    });
    expect(parse(chart.get(`${root}/values.yaml`)!)).toEqual({});
    const templates = [...chart.keys()].filter((k) => k.startsWith(`${root}/templates/`)).map((k) => k.slice(root.length + 11));
    expect(templates.sort()).toEqual([...files.map((f) => f.file), NAMESPACE_GUARD, 'NOTES.txt'].sort());
  });

  it('ships no CRDs', () => {
    expect([...chart.keys()].some((k) => k.includes('/crds/'))).toBe(false);
  });

  it('templates un-escape to exactly the plain manifests', () => {
    for (const { file, object } of files) {
      const template = chart.get(`${root}/templates/${file}`)!;
      expect(unescapeGoTemplate(template)).toBe(toYaml(object));
      expect(template.split('{{"{{"}}').join('')).not.toContain('{{');
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

  it('NOTES.txt and Chart.yaml hold no template actions of their own', () => {
    expect(chart.get(`${root}/templates/NOTES.txt`)).not.toContain('{{');
    expect(parseAllDocuments(chart.get(`${root}/Chart.yaml`)!)).toHaveLength(1);
  });

  it('refuses a package.json version that is not semver', () => {
    expect(() => helmChart(prod, files, '1.0')).toThrow('package.json: version: must be a semantic version such as 1.2.3 (Helm chart version) (got "1.0")');
  });
});
