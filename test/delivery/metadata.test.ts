import { describe, expect, it } from 'vitest';
import { commitMessage, contentHash, METADATA_FILE, parseMetadata, renderMetadata, type PublishMetadata } from '../../src/delivery/metadata';

const meta: PublishMetadata = {
  tool: 'email-server',
  toolVersion: '1.0.0',
  sourceRepository: 'https://github.com/bionicaisolutions/email-server.git',
  sourceCommit: 'a'.repeat(40),
  sourceDirty: false,
  contentHash: `sha256:${'b'.repeat(64)}`,
  layout: 'folders',
  environments: ['staging', 'dev'],
  paths: ['staging', 'argocd', 'dev', 'helm'],
};

describe('contentHash', () => {
  it('depends on paths and contents only, not on their order', () => {
    const a = new Map([['dev/a.yaml', 'x'], ['dev/b.yaml', 'y']]);
    expect(contentHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(contentHash(new Map([...a].reverse()))).toBe(contentHash(a));
    expect(contentHash(new Map([['dev/a.yaml', 'x'], ['dev/b.yaml', 'z']]))).not.toBe(contentHash(a));
    expect(contentHash(new Map([['dev/a.yaml', 'x'], ['dev/c.yaml', 'y']]))).not.toBe(contentHash(a));
  });

  it('cannot be fooled by moving bytes between a name and a content', () => {
    expect(contentHash(new Map([['ab', 'c']]))).not.toBe(contentHash(new Map([['a', 'bc']])));
  });
});

describe('the metadata file', () => {
  it('has an extension neither kubectl nor Argo CD reads', () => {
    expect(METADATA_FILE).not.toMatch(/\.(ya?ml|json|jsonnet|libsonnet)$/);
  });

  it('is JSON with sorted lists and a fixed key order, and reads back', () => {
    const text = renderMetadata(meta);
    expect(text.endsWith('}\n')).toBe(true);
    expect(Object.keys(JSON.parse(text))).toEqual(['tool', 'toolVersion', 'sourceRepository', 'sourceCommit', 'sourceDirty', 'contentHash', 'layout', 'environments', 'paths']);
    expect(JSON.parse(text).environments).toEqual(['dev', 'staging']);
    expect(renderMetadata({ ...meta, environments: ['dev', 'staging'] })).toBe(text);
    expect(parseMetadata(text, 'x')).toEqual(JSON.parse(text));
  });

  it.each([
    ['not JSON', '{', /x: is not the JSON gitops-publish writes/],
    ['no environments', '{"paths": []}', /x: must hold "environments" and "paths"/],
    ['a path that is not a folder name', '{"environments": [], "paths": ["../etc"]}', /lists of folder names/],
  ])('refuses a file that is %s, naming it', (_, text, message) => {
    expect(() => parseMetadata(text, 'x')).toThrow(message);
  });
});

describe('commit message', () => {
  it('says what changed in its subject and records the source as trailers', () => {
    const text = commitMessage({ meta, changed: ['staging'], removed: [] });
    const [subject, blank] = text.split('\n');
    expect(subject).toBe('email-server: update staging (source aaaaaaaaaaaa)');
    expect(blank).toBe('');
    expect(text).toContain(`\nSource-Repository: ${meta.sourceRepository}\nSource-Commit: ${'a'.repeat(40)}\nContent-Hash: ${meta.contentHash}\nTool-Version: email-server 1.0.0\n`);
    expect(commitMessage({ meta: { ...meta, sourceDirty: true }, changed: [], removed: ['dev'] }).split('\n')[0]).toBe('email-server: remove dev (source aaaaaaaaaaaa, uncommitted changes)');
  });
});
