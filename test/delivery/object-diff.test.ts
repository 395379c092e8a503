import { describe, expect, it } from 'vitest';
import { diffTrees, environmentsOf, hasChanges, parseObjects } from '../../src/delivery/object-diff';
import { renderDist } from '../../src/output';
import { toYaml } from '../../src/output/yaml';
import { sampleManifests } from '../output/fixtures';

const dist = () => renderDist(sampleManifests(), { version: '1.0.0' });
const edit = (tree: Map<string, string>, path: string, f: (o: Record<string, unknown>) => void) => {
  const object = parseObjects(path, tree.get(path)!)[0]!;
  const copy = JSON.parse(JSON.stringify(require('yaml').parse(tree.get(path)!)));
  f(copy);
  tree.set(path, toYaml(copy));
  return object;
};

describe('diffTrees', () => {
  it('finds nothing between a tree and itself', () => {
    const report = diffTrees(dist(), dist());
    expect(hasChanges(report)).toBe(false);
    expect(report.unchanged).toEqual(['dev', 'prod', 'staging']);
  });

  it('a change to one object shows that object only, in its environment, with a YAML diff', () => {
    const head = dist();
    edit(head, 'staging/configmap-postfix-config.yaml', (o) => ((o.data as Record<string, string>).flag = 'off'));
    const report = diffTrees(dist(), head);
    expect(report.changed.map((e) => e.name)).toEqual(['staging']);
    expect(report.unchanged).toEqual(['dev', 'prod']);
    const [change] = report.changed[0]!.objects;
    expect(change).toMatchObject({ change: 'changed', id: { kind: 'ConfigMap', namespace: 'email-server-staging', name: 'postfix-config' } });
    expect(change!.diff).toContain('-  flag: "on"');
    expect(change!.diff).toContain('+  flag: "off"');
    // The Helm template mirrors the object: it is not reported a second time.
    expect(report.changed[0]!.files).toEqual([]);
  });

  it('added and removed objects, listed by kind, namespace and name', () => {
    const head = dist();
    head.delete('prod/service-postfix-relay-metrics.yaml');
    head.set('prod/configmap-extra.yaml', toYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra', namespace: 'email-server-prod' } }));
    const [prod] = diffTrees(dist(), head).changed;
    expect(prod!.objects.map((o) => `${o.change} ${o.id.kind} ${o.id.name}`)).toEqual(['removed Service postfix-relay-metrics', 'added ConfigMap extra']);
  });

  it('comments, file names and the derived Kustomization are not changes; an object moved to another file is the same object', () => {
    const head = dist();
    const text = head.get('dev/service-postfix-relay.yaml')!;
    head.delete('dev/service-postfix-relay.yaml');
    head.set('dev/renamed.yaml', `# a comment\n${text}`);
    head.set('dev/Kustomization', `${head.get('dev/Kustomization')}# edited\n`);
    expect(hasChanges(diffTrees(dist(), head))).toBe(false);
  });

  it('an object whose API version changes within its group is one changed object', () => {
    const head = dist();
    edit(head, 'prod/statefulset-postfix-relay.yaml', (o) => (o.apiVersion = 'apps/v1beta2'));
    const [prod] = diffTrees(dist(), head).changed;
    expect(prod!.objects).toHaveLength(1);
    expect(prod!.objects[0]).toMatchObject({ change: 'changed' });
  });

  it('the Argo CD Application belongs to its environment, in the folder layout and in the earlier flat one', () => {
    const base = new Map([...dist()].map(([p, c]) => [p.replace(/^argocd\/[a-z]+\//, 'argocd/'), c] as const));
    base.set('argocd/Kustomization', 'resources: []\n');
    const head = dist();
    edit(head, 'argocd/prod/application-email-server-prod.yaml', (o) => ((o.spec as { project: string }).project = 'mail'));
    const report = diffTrees(base, head);
    expect(report.changed.map((e) => e.name)).toEqual(['prod']);
    expect(report.changed[0]!.objects[0]).toMatchObject({ change: 'changed', id: { kind: 'Application', name: 'email-server-prod' } });
    expect(report.other).toEqual([{ path: 'argocd/Kustomization', change: 'removed' }]);
  });

  it('Helm chart files that are not object templates are reported as files', () => {
    const head = dist();
    head.set('helm/email-server-dev/Chart.yaml', head.get('helm/email-server-dev/Chart.yaml')!.replace('version: 1.0.0', 'version: 1.0.1'));
    const [dev] = diffTrees(dist(), head).changed;
    expect(dev!.objects).toEqual([]);
    expect(dev!.files).toMatchObject([{ path: 'helm/email-server-dev/Chart.yaml', change: 'changed' }]);
    expect(dev!.files[0]!.diff).toContain('+version: 1.0.1');
  });

  it('a new environment and a removed one', () => {
    const base = dist();
    const head = new Map([...dist()].filter(([p]) => !/^(dev\/|argocd\/dev\/|helm\/email-server-dev\/)/.test(p)));
    const report = diffTrees(base, head);
    expect(report.changed).toHaveLength(1);
    expect(report.changed[0]).toMatchObject({ name: 'dev', status: 'removed' });
    expect(report.changed[0]!.objects.every((o) => o.change === 'removed')).toBe(true);
    expect(diffTrees(head, base).changed[0]).toMatchObject({ name: 'dev', status: 'added' });
  });

  it('compares only the environments it is given (the folders a GitOps repository has that are not ours stay out)', () => {
    const head = dist();
    head.set('other-team/configmap.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n');
    expect(environmentsOf(head)).toContain('other-team');
    expect(hasChanges(diffTrees(dist(), head, ['dev', 'prod', 'staging']))).toBe(false);
  });

  it('a file that is not YAML is reported with its path', () => {
    const head = dist();
    head.set('dev/broken.yaml', 'kind: [\n');
    expect(() => diffTrees(dist(), head)).toThrow(/^dev\/broken\.yaml: is not valid YAML/);
  });
});
