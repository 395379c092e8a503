import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { snapshotDir } from './dir-snapshot';

// The writer's rename steps, made to fail on purpose: node:fs is wrapped so that one chosen
// rename throws (as EXDEV, EACCES or a full disk would), everything else is the real thing.
const faults = vi.hoisted(() => ({ failRename: undefined as undefined | ((from: string, to: string) => boolean) }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const renameSync: typeof real.renameSync = (from, to) => {
    if (faults.failRename?.(String(from), String(to))) {
      throw Object.assign(new Error(`EACCES: injected failure, rename '${String(from)}' -> '${String(to)}'`), { code: 'EACCES' });
    }
    return real.renameSync(from, to);
  };
  return { ...real, renameSync, default: { ...real, renameSync } };
});

// Imported after the mock, from a fresh module registry: a copy loaded earlier in the same
// worker (mutation testing shares one) would hold the real renameSync.
let replaceDir: typeof import('../../src/output/atomic-dir').replaceDir;
beforeAll(async () => {
  vi.resetModules();
  ({ replaceDir } = await import('../../src/output/atomic-dir'));
});

let work: string;
let dist: string;
const OLD = new Map([
  ['prod/deployment-postfix-relay.yaml', 'kind: Deployment\n'],
  ['prod/Kustomization', 'resources: [deployment-postfix-relay.yaml]\n'],
]);
const NEW = new Map([['prod/statefulset-postfix-relay.yaml', 'kind: StatefulSet\n']]);

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'atomic-faults-'));
  dist = join(work, 'dist');
  faults.failRename = undefined;
  replaceDir(dist, OLD);
});
afterEach(() => {
  faults.failRename = undefined;
  rmSync(work, { recursive: true, force: true });
});

describe('replaceDir when a rename fails', () => {
  it('the final rename (new tree into place): rolls back, the old dist/ is intact and nothing is left behind', () => {
    const before = snapshotDir(dist);
    let attempts = 0;
    faults.failRename = (from, to) => basename(from).startsWith('dist.tmp-') && to === dist && ++attempts > 0;
    expect(() => replaceDir(dist, NEW)).toThrow(/injected failure/);
    expect(attempts).toBe(1);
    expect(snapshotDir(dist)).toEqual(before);
    expect(readdirSync(work)).toEqual(['dist']);
  });

  it('moving the old dist/ aside: nothing changes and the staging folder is removed', () => {
    const before = snapshotDir(dist);
    faults.failRename = (from, to) => from === dist && basename(to).startsWith('dist.old-');
    expect(() => replaceDir(dist, NEW)).toThrow(/injected failure/);
    expect(snapshotDir(dist)).toEqual(before);
    expect(readdirSync(work)).toEqual(['dist']);
  });

  it('and succeeds, replacing the tree, when nothing fails', () => {
    replaceDir(dist, NEW);
    expect(fs.readdirSync(join(dist, 'prod'))).toEqual(['statefulset-postfix-relay.yaml']);
    expect(readdirSync(work)).toEqual(['dist']);
  });
});
