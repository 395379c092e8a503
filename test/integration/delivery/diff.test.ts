import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { GITHUB_COMMENT_LIMIT } from '../../../src/delivery/report';
import { toYaml } from '../../../src/output/yaml';
import { commitAll, createSource, editFile, git, npmRun, snapshot, workspace } from './workspace';

/**
 * `npm run diff` in a real clone: exit 0 on no change, 1 on a change, 2 on an error; only the
 * changed environment shows; the Markdown stays under GitHub's limit when every object of every
 * environment changes; dist/ is never touched.
 */
const diff = (cwd: string, ...args: string[]) => npmRun(cwd, 'diff', args);

describe('npm run diff', () => {
  const ws = workspace('diff');
  let source: string;
  let dist: Record<string, string>;
  beforeAll(() => {
    source = createSource(join(ws.dir, 'source'), { repoURL: 'https://github.com/bionicaisolutions/email-server-gitops.git' });
    // A feature branch off main, as in a pull request.
    git(source, 'checkout', '-q', '-b', 'feature');
    expect(npmRun(source, 'synth', []).status).toBe(0);
    dist = snapshot(join(source, 'dist'));
  });
  afterAll(() => ws.cleanup());

  const untouched = () => {
    expect(snapshot(join(source, 'dist'))).toEqual(dist);
    expect(readdirSync(join(source, 'build', 'delivery'))).toEqual([]);
  };

  it('exits 0 on an unchanged tree (base: the merge base with main)', () => {
    const r = diff(source);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Compared with the merge base with main (${git(source, 'rev-parse', 'main').trim().slice(0, 12)})`);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('No changes.');
    untouched();
  });

  it('exits 1 after a change to one environment file, and shows that environment only', () => {
    editFile(join(source, 'environments', 'staging.yaml'), (t) => t.replace('queueSize: 50', 'queueSize: 80'));
    const r = diff(source);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain('staging: 0 added, 0 removed, 2 changed');
    expect(r.stdout).toContain('  ~ PrometheusRule email-server-staging/postfix-relay');
    expect(r.stdout).toContain('-            summary: Postfix queue of {{ $labels.pod }} above 50 messages');
    expect(r.stdout).toContain('+            summary: Postfix queue of {{ $labels.pod }} above 80 messages');
    expect(r.stdout).not.toMatch(/^(dev|prod):/m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('1 environment(s) changed: staging; unchanged: dev, prod.');
    untouched();
  });

  it('--format markdown --output writes one comment with the diff in it', () => {
    const out = join(ws.dir, 'comment.md');
    const r = diff(source, '--format', 'markdown', '--output', out);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toBe('');
    const md = readFileSync(out, 'utf8');
    expect(md).toContain('#### staging: 0 added, 0 removed, 2 changed');
    expect(md).toContain('<details><summary>PrometheusRule email-server-staging/postfix-relay</summary>');
    expect(md).not.toContain('Cut to stay under');
  });

  it('--base compares with any ref: the change, once committed, is no difference to HEAD', () => {
    commitAll(source, 'staging: alert at 80');
    expect(diff(source, '--base', 'HEAD').status).toBe(0);
    const r = diff(source, '--base', 'HEAD~1');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('Compared with HEAD~1 (');
  });

  it('a change to the code is synthesized with the base\'s own code for the base', () => {
    editFile(join(source, 'src', 'output', 'argocd.ts'), (t) => t.replace("syncOptions: ['CreateNamespace=true']", "syncOptions: ['CreateNamespace=true', 'ServerSideApply=true']"));
    const r = diff(source, '--base', 'HEAD');
    expect(r.status, r.stderr).toBe(1);
    for (const env of ['dev', 'staging', 'prod']) expect(r.stdout).toContain(`  ~ Application argocd/email-server-${env}`);
    expect(r.stdout).toContain('+      - ServerSideApply=true');
    git(source, 'checkout', '--', 'src/output/argocd.ts');
  });

  it('--against published output: the GitOps folder layout, other teams\' folders left out', () => {
    const published = join(ws.dir, 'published');
    cpSync(join(source, 'dist'), published, { recursive: true });
    writeFileSync(join(published, 'README.md'), '# GitOps\n');
    cpSync(join(published, 'prod'), join(published, 'other-team'), { recursive: true });
    // dist/ was synthesized before the staging commit: only staging differs.
    const r = diff(source, '--against', published);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain(`Compared with the published output in ${published}.`);
    expect(r.stdout).toMatch(/^staging: /m);
    expect(r.stdout).not.toContain('other-team');
  });

  it('keeps the Markdown under 65,536 characters when every object of every environment changes, and says what it cut', () => {
    // Published output in which every object differs from the working tree's synth in every line it can.
    const published = join(ws.dir, 'every-object');
    cpSync(join(source, 'dist'), published, { recursive: true });
    const mangle = (v: unknown): unknown =>
      typeof v === 'string' ? `${v.split('\n').map((l) => `${l} (old)`).join('\n')}` : Array.isArray(v) ? v.map(mangle) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'name' || k === 'namespace' || k === 'kind' || k === 'apiVersion' ? x : mangle(x)])) : v;
    let objects = 0;
    for (const env of ['dev', 'staging', 'prod']) {
      for (const f of readdirSync(join(published, env)).filter((n) => n.endsWith('.yaml'))) {
        const file = join(published, env, f);
        const object = parseAllDocuments(readFileSync(file, 'utf8'))[0]!.toJS();
        writeFileSync(file, toYaml(mangle(object)));
        objects++;
      }
    }
    const out = join(ws.dir, 'every-object.md');
    const r = diff(source, '--against', published, '--format', 'markdown', '--output', out);
    expect(r.status, r.stderr).toBe(1);
    const md = readFileSync(out, 'utf8');
    expect(md.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
    // Every changed object is listed in a table (besides file rows, e.g. a Helm values.yaml that
    // follows the source's staging change); the diffs that did not fit are counted.
    expect((md.match(/^\| changed \| (?!file \|)/gm) ?? []).length).toBe(objects);
    // Each changed row (object or file) gets its diff when it fits; the rest are counted as cut.
    const rows = (md.match(/^\| changed \|/gm) ?? []).length;
    const shown = (md.match(/<details>/g) ?? []).length;
    expect(shown).toBeLessThan(objects);
    expect(md).toContain(`the YAML diffs of ${rows - shown} object(s)/file(s)`);
    expect(md).toContain('Run `npm run diff` for the full output.');
  });

  describe('bad input: exit 2, a clear message, dist/ untouched', () => {
    it('a base ref that does not exist', () => {
      const r = diff(source, '--base', 'no-such-branch');
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('"no-such-branch" names no commit in');
      untouched();
    });

    it('a folder that does not exist', () => {
      const r = diff(source, '--against', join(ws.dir, 'nowhere'));
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('--against');
      expect(r.stderr).toContain('no such folder');
      untouched();
    });

    it('a working tree that does not synthesize', () => {
      editFile(join(source, 'environments', 'dev.yaml'), (t) => t.replace('replicas: 1', 'replicas: -1'));
      const r = diff(source);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('the working tree does not synthesize');
      expect(r.stderr).toContain('environments/dev.yaml: replicas');
      expect(r.stderr).not.toContain('was left unchanged');
      untouched();
      git(source, 'checkout', '--', 'environments/dev.yaml');
    });

    it('both --base and --against, or an unknown format', () => {
      expect(diff(source, '--base', 'main', '--against', ws.dir).status).toBe(2);
      const r = diff(source, '--format', 'html');
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('--format must be one of text, markdown (got "html")');
    });

    it('no main branch to compare with', () => {
      git(source, 'branch', '-q', '-m', 'main', 'trunk');
      const r = diff(source);
      git(source, 'branch', '-q', '-m', 'trunk', 'main');
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('there is no main or origin/main to compare with: give --base <ref>');
      expect(existsSync(join(source, 'dist'))).toBe(true);
    });
  });
});
