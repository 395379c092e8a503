import { describe, expect, it } from 'vitest';
import { SETTINGS } from './cases';
import { checkLeaf } from './check';
import { schemaLeaves } from './schema-leaves';

const leaves = schemaLeaves();

describe('every setting takes effect', () => {
  it.each(leaves.map((l) => [l.path, l] as const))('%s', (_path, leaf) => {
    checkLeaf(leaf);
  });

  it('every case in test/settings/cases.ts names a setting of the schema', () => {
    const known = new Set(leaves.map((l) => l.path));
    expect(Object.keys(SETTINGS).filter((path) => !known.has(path)), 'cases for settings the schema no longer has: remove or rename them').toEqual([]);
  });
});
