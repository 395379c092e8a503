import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadEnvironmentFile } from '../../src/config/load';
import { chartName, HELM_DIR } from '../../src/output/layout';
import { requireHelm } from './harness/helm';

/**
 * Issue 12: every generated Helm chart, checked with the real Helm v4 (extracted from the pinned
 * npm package, no download) on the real `npm run synth` output, written to a temporary folder.
 * The chart must render exactly what `kubectl apply -f dist/<env>` sends, minus the Namespace
 * (`--create-namespace` makes it), and refuse an install into any other namespace.
 */
const helm = requireHelm();

type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
const key = (o: K8sObject) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const byKey = (objects: readonly K8sObject[]) => new Map(objects.map((o) => [key(o), o]));

const ENVS = readdirSync('environments')
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => loadEnvironmentFile(join('environments', f)))
  .map((env) => ({ name: env.name, namespace: env.namespace }));
const RELEASE = 'email-server';

let work: string;
let dist: string;
beforeAll(() => {
  if (!helm) return;
  work = mkdtempSync(join(tmpdir(), 'helm-'));
  dist = join(work, 'dist');
  execFileSync('npm', ['run', '--silent', 'synth'], { env: { ...process.env, CDK8S_OUTDIR: dist }, stdio: 'pipe' });
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const chartDir = (name: string) => join(dist, HELM_DIR, chartName(name));

function plainObjects(dir: string): K8sObject[] {
  return readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => parse(readFileSync(join(dir, f), 'utf8')) as K8sObject);
}

/** The objects of a rendered stream (helm template, or the MANIFEST of a dry-run install). */
function renderedObjects(stream: string): K8sObject[] {
  return parseAllDocuments(stream)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

describe.skipIf(!helm)('the generated Helm charts, with the real Helm', () => {
  it('exist, one per environment file', () => {
    expect(readdirSync(join(dist, HELM_DIR)).sort()).toEqual(ENVS.map((e) => chartName(e.name)).sort());
  });

  describe.each(ENVS)('$name', ({ name, namespace }) => {
    it('passes helm lint --strict', () => {
      const r = helm!.run(['lint', '--strict', chartDir(name)]);
      expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    });

    it(`helm template renders exactly the objects of dist/${name}/ except the Namespace`, () => {
      const r = helm!.run(['template', RELEASE, chartDir(name), '--namespace', namespace]);
      expect(r.code, r.stderr).toBe(0);
      const rendered = byKey(renderedObjects(r.stdout));
      const plain = plainObjects(join(dist, name));
      const namespaces = plain.filter((o) => o.kind === 'Namespace');
      expect(namespaces.map((o) => o.metadata.name)).toEqual([namespace]);
      const expected = byKey(plain.filter((o) => o.kind !== 'Namespace'));
      expect([...rendered.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [k, object] of expected) expect(rendered.get(k), k).toEqual(object);
    });

    it(`helm install --dry-run=client into ${namespace} passes and would create those objects`, () => {
      const r = helm!.run(['install', RELEASE, chartDir(name), '--dry-run=client', '--namespace', namespace]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^NAMESPACE: ${namespace}$`, 'm'));
      expect(r.stdout).toMatch(/^STATUS: pending-install$/m);
      const manifest = r.stdout.slice(r.stdout.indexOf('MANIFEST:') + 'MANIFEST:'.length, r.stdout.indexOf('\nNOTES:'));
      const expected = plainObjects(join(dist, name)).filter((o) => o.kind !== 'Namespace');
      expect([...byKey(renderedObjects(manifest)).keys()].sort()).toEqual([...byKey(expected).keys()].sort());
      expect(r.stdout).toContain(`Postfix relay for ${name} in namespace ${namespace}.`);
    });

    it('helm install into another namespace fails through the namespace guard, saying which one to use', () => {
      for (const other of ['default', `${namespace}-other`]) {
        const r = helm!.run(['install', RELEASE, chartDir(name), '--dry-run=client', '--namespace', other]);
        expect(r.code, r.stdout).not.toBe(0);
        expect(r.stderr).toContain(`${chartName(name)}/templates/namespace-guard.yaml`);
        expect(r.stderr).toContain(
          `this chart is rendered for namespace ${namespace}: install it with --namespace ${namespace}; for another namespace, add an environment file and run npm run synth`,
        );
      }
    });
  });
});
