import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, one, render } from './render';

/**
 * Argo CD must neither prune nor delete what holds undelivered mail: the Namespace (deleting it
 * deletes the queue claims) and the claims the StatefulSet makes (src/constructs/retention.ts;
 * test/integration/removal-commands.test.ts evaluates the removal commands against them).
 */
const KEEP = 'Prune=false,Delete=false';

describe('objects Argo CD must keep', () => {
  it.each(ENVIRONMENTS)('%s: the Namespace says Prune=false,Delete=false', (name) => {
    const ns = one(render(name), 'Namespace');
    expect(ns.metadata.annotations['argocd.argoproj.io/sync-options']).toBe(KEEP);
  });

  it('prod: every queue claim template says Prune=false,Delete=false, and the StatefulSet retains its claims', () => {
    const sts = one(render('prod'), 'StatefulSet');
    expect(sts.spec.volumeClaimTemplates.length).toBeGreaterThan(0);
    for (const t of sts.spec.volumeClaimTemplates) expect(t.metadata.annotations['argocd.argoproj.io/sync-options']).toBe(KEEP);
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
  });

  it('no other object carries the annotation (the relay itself is meant to be pruned and deleted)', () => {
    for (const name of ENVIRONMENTS) {
      const marked = render(name).filter((o) => o.metadata?.annotations?.['argocd.argoproj.io/sync-options']);
      expect(marked.map((o) => o.kind)).toEqual(['Namespace']);
    }
  });
});
