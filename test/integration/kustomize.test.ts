import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { requireTool } from './harness/tools';

/**
 * The Kustomize and plain-kubectl paths on the real synth output, with the real kubectl
 * (offline: `kubectl kustomize` and `kubectl label --local` never contact a cluster).
 * Debian 12 ships kubectl in the `kubernetes-client` package.
 */
const ready = requireTool('kubectl', 'kubernetes-client');

type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
const key = (o: K8sObject) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const byKey = (objects: K8sObject[]) => new Map(objects.map((o) => [key(o), o]));
const kubectl = (...args: string[]) => execFileSync('kubectl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

let work: string;
let dist: string;
beforeAll(() => {
  if (!ready) return;
  work = mkdtempSync(join(tmpdir(), 'kustomize-'));
  dist = join(work, 'dist');
  execFileSync('npm', ['run', '--silent', 'synth'], { env: { ...process.env, CDK8S_OUTDIR: dist }, stdio: 'pipe' });
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function plainObjects(dir: string): K8sObject[] {
  return readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => parse(readFileSync(join(dir, f), 'utf8')) as K8sObject);
}

function kustomizeBuild(dir: string): K8sObject[] {
  return parseAllDocuments(kubectl('kustomize', dir)).map((d) => d.toJS() as K8sObject);
}

describe.skipIf(!ready)('Kustomize and kubectl -f on dist/', () => {
  describe.each(['dev', 'staging', 'prod'])('%s', (name) => {
    it('kubectl kustomize builds exactly the objects of the plain files', () => {
      const dir = join(dist, name);
      const plain = byKey(plainObjects(dir));
      const built = byKey(kustomizeBuild(dir));
      expect([...built.keys()].sort()).toEqual([...plain.keys()].sort());
      for (const [k, obj] of plain) expect(built.get(k), k).toEqual(obj);
    });

    it('kubectl apply -f reads the manifest files and skips the Kustomization file', () => {
      const dir = join(dist, name);
      const names = kubectl('label', '--local', '-f', dir, 'probe=1', '-o', 'name').trim().split('\n');
      expect(names).toHaveLength(plainObjects(dir).length);
      expect(names.some((n) => n.startsWith('kustomization'))).toBe(false);
    });
  });

  it('why the file is not called kustomization.yaml: kubectl -f would send it as an object', () => {
    const copy = join(work, 'renamed');
    cpSync(join(dist, 'prod'), copy, { recursive: true });
    renameSync(join(copy, 'Kustomization'), join(copy, 'kustomization.yaml'));
    const names = kubectl('label', '--local', '-f', copy, 'probe=1', '-o', 'name');
    expect(names).toContain('kustomization.kustomize.config.k8s.io/');
  });

  it('an overlay can build on dist/<env> and patch it', () => {
    const overlay = join(work, 'overlays', 'prod');
    mkdirSync(overlay, { recursive: true });
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        resources: ['../../dist/prod'],
        commonAnnotations: { 'example.com/owner': 'platform' },
      }),
    );
    const built = kustomizeBuild(overlay);
    expect(built).toHaveLength(plainObjects(join(dist, 'prod')).length);
    for (const obj of built) expect((obj.metadata as { annotations?: Record<string, string> }).annotations?.['example.com/owner']).toBe('platform');
  });

  it('kubectl apply -f dist/argocd/<env>/ installs that environment\'s Application only; dist/argocd alone installs nothing', () => {
    for (const name of ['dev', 'staging', 'prod']) {
      const names = kubectl('label', '--local', '-f', join(dist, 'argocd', name), 'probe=1', '-o', 'name').trim().split('\n');
      expect(names).toEqual([`application.argoproj.io/email-server-${name}`]);
    }
    // The folder of every environment is no aggregate any more: kubectl finds no manifest in it.
    let error = '';
    try {
      kubectl('label', '--local', '-f', join(dist, 'argocd'), 'probe=1', '-o', 'name');
    } catch (err) {
      error = String((err as { stderr?: string }).stderr);
    }
    expect(error).toMatch(/no objects passed|error/i);
  });
});
