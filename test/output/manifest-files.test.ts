import { describe, expect, it } from 'vitest';
import { manifestFiles } from '../../src/output/manifest-files';
import { toYaml } from '../../src/output/yaml';
import { sampleObjects } from './fixtures';

describe('manifest file names', () => {
  it('names each object <kind>-<name>.yaml in lower case, sorted', () => {
    const files = manifestFiles(sampleObjects('email-server-prod'), 'environments/prod.yaml').map((f) => f.file);
    expect(files).toEqual([
      'configmap-postfix-config.yaml',
      'configmap-postfix-relay-dashboard.yaml',
      'deployment-postfix-relay.yaml',
      'prometheusrule-postfix-relay.yaml',
      'service-postfix-relay-metrics.yaml',
      'service-postfix-relay.yaml',
    ]);
  });

  it('puts the Namespace first, because kubectl apply -f reads files in name order', () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'email-server-prod' } };
    const files = manifestFiles([...sampleObjects('email-server-prod'), ns], 'x').map((f) => f.file);
    expect(files[0]).toBe('00-namespace-email-server-prod.yaml');
  });

  it('does not depend on the order of the objects', () => {
    const objects = sampleObjects('ns');
    const a = manifestFiles(objects, 'x').map((f) => f.file);
    const b = manifestFiles([...objects].reverse(), 'x').map((f) => f.file);
    expect(b).toEqual(a);
  });

  it('adds the API group when two kinds share a name across groups', () => {
    const obj = (apiVersion: string) => ({ apiVersion, kind: 'Thing', metadata: { name: 'a' } });
    const files = manifestFiles([obj('x.example.com/v1'), obj('y.example.com/v1')], 'x').map((f) => f.file);
    expect(files).toEqual(['thing.x.example.com-a.yaml', 'thing.y.example.com-a.yaml']);
  });

  it('refuses duplicates and malformed objects, naming the environment and the object', () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'n' } };
    expect(() => manifestFiles([svc, svc], 'environments/prod.yaml')).toThrow('environments/prod.yaml: two objects are both Service "a" in namespace n');
    expect(() => manifestFiles([{ kind: 'Service', metadata: { name: 'a' } }], 'environments/dev.yaml')).toThrow(
      'environments/dev.yaml: object "Service"/"a": apiVersion must be a non-empty string',
    );
    expect(() => manifestFiles([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'Bad_Name' } }], 'e')).toThrow('metadata.name must be a DNS subdomain name');
    expect(() => manifestFiles([{ apiVersion: 'v1', kind: '../x', metadata: { name: 'a' } }], 'e')).toThrow('kind must be a word');
  });
});

describe('YAML output', () => {
  it('keeps key order and quotes what a YAML 1.1 reader (kubectl, Helm) would misread', () => {
    const text = toYaml({ kind: 'ConfigMap', apiVersion: 'v1', data: { a: 'on', b: 'yes', c: '12:30', d: 'y', e: '0777', n: 'x' } });
    expect(text).toBe('kind: ConfigMap\napiVersion: v1\ndata:\n  a: "on"\n  b: "yes"\n  c: "12:30"\n  d: "y"\n  e: "0777"\n  "n": x\n');
  });

  it('writes long strings on one line and multi-line strings as blocks', () => {
    const long = 'x'.repeat(300);
    expect(toYaml({ a: long })).toBe(`a: ${long}\n`);
    expect(toYaml({ a: 'one\ntwo\n' })).toBe('a: |\n  one\n  two\n');
  });

  it('puts a comment on top when asked', () => {
    expect(toYaml({ a: 1 }, 'line one\n\nline two')).toBe('# line one\n\n# line two\n\na: 1\n');
  });
});
