import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDist, writeDist } from '../../src/output';
import { replaceDir } from '../../src/output/atomic-dir';
import { snapshotDir } from './dir-snapshot';
import { env, sampleManifests, sampleObjects } from './fixtures';

let work: string;
let dist: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'write-dist-'));
  dist = join(work, 'dist');
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('dist layout', () => {
  it('writes one folder per environment, a Helm chart each and the Argo CD applications', () => {
    writeDist(dist, sampleManifests(), { version: '1.0.0' });
    expect(readdirSync(dist).sort()).toEqual(['argocd', 'dev', 'helm', 'prod', 'staging']);
    expect(readdirSync(join(dist, 'helm')).sort()).toEqual(['email-server-dev', 'email-server-prod', 'email-server-staging']);
    // One folder per environment and nothing at the top: no aggregate installs every environment into one cluster.
    expect(readdirSync(join(dist, 'argocd')).sort()).toEqual(['dev', 'prod', 'staging']);
    for (const name of ['dev', 'prod', 'staging']) expect(readdirSync(join(dist, 'argocd', name))).toEqual([`application-email-server-${name}.yaml`]);
    const prodFiles = readdirSync(join(dist, 'prod')).sort();
    expect(prodFiles).toContain('statefulset-postfix-relay.yaml');
    expect(prodFiles).not.toContain('kustomization.yaml');
  });

  it('the Kustomization (no extension: kubectl apply -f skips it) lists exactly the manifest files', () => {
    writeDist(dist, sampleManifests(), { version: '1.0.0' });
    for (const name of ['dev', 'staging', 'prod']) {
      const dir = join(dist, name);
      const k = parse(readFileSync(join(dir, 'Kustomization'), 'utf8'));
      expect(k.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
      expect(k.kind).toBe('Kustomization');
      expect(k.resources).toEqual(readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort());
    }
  });

  it('each manifest file holds one object and parses back to it', () => {
    const manifests = sampleManifests();
    writeDist(dist, manifests, { version: '1.0.0' });
    const prod = manifests.find((m) => m.env.name === 'prod')!;
    const back = readdirSync(join(dist, 'prod'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => parse(readFileSync(join(dist, 'prod', f), 'utf8')));
    expect(back).toHaveLength(prod.objects.length);
    for (const obj of prod.objects) expect(back).toContainEqual(obj);
  });

  it('skips the Argo CD Application of an environment that turns it off', () => {
    const manifests = sampleManifests().map((m) => (m.env.name === 'dev' ? { ...m, env: { ...m.env, argocd: { ...m.env.argocd, enabled: false } } } : m));
    const files = [...renderDist(manifests, { version: '1.0.0' }).keys()];
    expect(files.filter((f) => f.startsWith('argocd/dev/'))).toEqual([]);
    expect(files).toContain('argocd/prod/application-email-server-prod.yaml');
  });

  it('refuses an environment named like a dist/ folder of its own', () => {
    const prod = env('prod');
    expect(() => renderDist([{ env: { ...prod, name: 'helm' }, objects: sampleObjects('x') }], { version: '1.0.0' })).toThrow(
      'environments/helm.yaml: the environment name "helm" is reserved for dist/helm/',
    );
  });
});

describe('deterministic output', () => {
  it('two writes are byte-identical, whatever the order of environments and objects', () => {
    writeDist(dist, sampleManifests(), { version: '1.0.0' });
    const first = snapshotDir(dist);
    const shuffled = sampleManifests()
      .reverse()
      .map((m) => ({ ...m, objects: [...m.objects].reverse() }));
    writeDist(dist, shuffled, { version: '1.0.0' });
    expect(snapshotDir(dist)).toEqual(first);
  });
});

describe('atomic replacement', () => {
  function previousDist(): Record<string, string> {
    mkdirSync(join(dist, 'prod'), { recursive: true });
    writeFileSync(join(dist, 'prod', 'old.yaml'), 'old: true\n');
    writeFileSync(join(dist, 'keep-me.txt'), 'previous run\n');
    return snapshotDir(dist);
  }

  it('replaces the whole folder: files of the previous run are gone', () => {
    previousDist();
    writeDist(dist, sampleManifests(), { version: '1.0.0' });
    expect(existsSync(join(dist, 'keep-me.txt'))).toBe(false);
    expect(existsSync(join(dist, 'prod', 'old.yaml'))).toBe(false);
    expect(readdirSync(work)).toEqual(['dist']);
  });

  it('a failure while rendering leaves the previous dist byte-identical and no temporary folder', () => {
    const before = previousDist();
    const broken = sampleManifests();
    broken.push({ env: { ...env('dev'), name: 'broken' }, objects: [{ kind: 'Service', metadata: { name: 'x' } }] });
    expect(() => writeDist(dist, broken, { version: '1.0.0' })).toThrow('environments/broken.yaml: object "Service"/"x": apiVersion must be a non-empty string');
    expect(snapshotDir(dist)).toEqual(before);
    expect(readdirSync(work)).toEqual(['dist']);
  });

  it('a failure half-way through writing leaves the previous dist byte-identical and no temporary folder', () => {
    const before = previousDist();
    const files = new Map([
      ['prod/a.yaml', 'a: 1\n'],
      ['prod/b.yaml', 'b: 2\n'],
      ['prod/a.yaml/c.yaml', 'cannot: exist\n'],
    ]);
    expect(() => replaceDir(dist, files)).toThrow();
    expect(snapshotDir(dist)).toEqual(before);
    expect(readdirSync(work)).toEqual(['dist']);
  });

  it('refuses paths that would leave the folder', () => {
    const before = previousDist();
    expect(() => replaceDir(dist, new Map([['../escape.yaml', 'x: 1\n']]))).toThrow('refusing to write outside');
    expect(snapshotDir(dist)).toEqual(before);
    expect(readdirSync(work)).toEqual(['dist']);
  });

  it('removes temporary folders left by killed runs, but not those of running ones', () => {
    mkdirSync(join(work, 'dist.tmp-999999999'));
    mkdirSync(join(work, 'dist.old-999999998'));
    mkdirSync(join(work, `dist.tmp-${process.ppid}`));
    mkdirSync(join(work, 'distx.tmp-999999999'));
    writeDist(dist, sampleManifests(), { version: '1.0.0' });
    expect(readdirSync(work).sort()).toEqual(['dist', `dist.tmp-${process.ppid}`, 'distx.tmp-999999999']);
  });

  it('creates dist and its parent when they do not exist', () => {
    const nested = join(work, 'a', 'b', 'dist');
    writeDist(nested, sampleManifests(), { version: '1.0.0' });
    expect(readdirSync(nested)).toContain('prod');
  });
});
