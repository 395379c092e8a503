import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DiffReport, EnvironmentDiff } from '../../src/delivery/object-diff';
import { GITHUB_COMMENT_LIMIT, MARKDOWN_LINE_LIMIT, renderMarkdown, renderText, shortenLines, summary } from '../../src/delivery/report';

const diffOf = (lines: number, width = 40) =>
  `--- base\n+++ new\n@@ -1,${lines} +1,${lines} @@\n${Array.from({ length: lines }, (_, i) => `-${'x'.repeat(width)}${i}\n+${'y'.repeat(width)}${i}`).join('\n')}\n`;

function envDiff(name: string, objects: number, lines: number, width = 40): EnvironmentDiff {
  return {
    name,
    status: 'changed',
    objects: Array.from({ length: objects }, (_, i) => ({
      id: { apiVersion: 'v1', kind: 'ConfigMap', namespace: `email-server-${name}`, name: `object-${i}` },
      change: 'changed' as const,
      diff: diffOf(lines, width),
    })),
    files: [],
  };
}

const report = (changed: EnvironmentDiff[]): DiffReport => ({ changed, unchanged: [], other: [] });

describe('Markdown for a pull-request comment', () => {
  it('a small change: a table per environment and each diff in a collapsed block, nothing cut', () => {
    const md = renderMarkdown(report([envDiff('staging', 1, 2)]), { comparedWith: '`main`' });
    expect(md.startsWith('<!-- email-server manifest diff -->\n### email-server manifests: 1 environment(s) changed')).toBe(true);
    expect(md).toContain('| changed | ConfigMap | email-server-staging | object-0 |');
    expect(md).toContain('<details><summary>ConfigMap email-server-staging/object-0</summary>');
    expect(md).toContain('```diff\n--- base');
    expect(md).not.toContain('Cut to stay under');
  });

  it('stays under the limit however large the report, and says what it cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 300 })), { minLength: 1, maxLength: 6 }),
        (envs) => {
          const r = report(envs.map(([objects, lines, width], i) => envDiff(`env${i}`, objects, lines, width)));
          const md = renderMarkdown(r, { comparedWith: '`main`' });
          expect(md.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
          const total = r.changed.reduce((n, e) => n + e.objects.length, 0);
          const shownBlocks = (md.match(/<details>/g) ?? []).length;
          if (shownBlocks < total) {
            expect(md).toMatch(new RegExp(`Cut to stay under GitHub's 65,536-character comment limit:\\*\\* the YAML diffs of ${total - shownBlocks} object`));
            expect(md).toContain('Run `npm run diff` for the full output.');
          }
          // Every block that is there is whole: as many fences close as open.
          expect((md.match(/^```diff$/gm) ?? []).length).toBe(shownBlocks);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('cuts table rows too when even the tables do not fit, and counts them', () => {
    const md = renderMarkdown(report([envDiff('prod', 3000, 1)]), { comparedWith: '`main`' });
    expect(md.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
    const rows = (md.match(/^\| changed \| ConfigMap/gm) ?? []).length;
    expect(rows).toBeLessThan(3000);
    expect(md).toContain(`${3000 - rows} row(s) of the tables above`);
    expect(md).toContain(`_${3000 - rows} more row(s) cut._`);
  });

  it('shortens very long lines (the dashboard JSON) and says so', () => {
    const md = renderMarkdown(report([envDiff('dev', 1, 1, 5000)]), { comparedWith: '`main`' });
    expect(md).toContain(`… (${5002 - MARKDOWN_LINE_LIMIT} more characters)`); // "-", 5000 x, "0"
    expect(md).toContain(`line(s) longer than 1,000 characters are shortened`);
    expect(shortenLines('abc\ndefgh', 3)).toEqual({ text: 'abc\ndef … (2 more characters)', shortened: 1 });
  });

  it('a diff containing backticks cannot close its own code block', () => {
    const r = report([{ ...envDiff('dev', 1, 1), objects: [{ id: { apiVersion: 'v1', kind: 'ConfigMap', name: 'x' }, change: 'changed', diff: '--- a\n+++ b\n@@ -1 +1 @@\n-```\n+````\n' }] }]);
    const md = renderMarkdown(r, { comparedWith: '`main`' });
    expect(md).toContain('`````diff\n');
    expect(md).toContain('\n`````\n');
  });
});

describe('text report and summary', () => {
  it('lists every object with its sign and indented diff; the last line sums up', () => {
    const r: DiffReport = {
      changed: [
        {
          name: 'qa',
          status: 'added',
          objects: [{ id: { apiVersion: 'v1', kind: 'Namespace', name: 'email-server-qa' }, change: 'added' }],
          files: [{ path: 'helm/email-server-qa/Chart.yaml', change: 'added' }],
        },
        envDiff('staging', 1, 1),
      ],
      unchanged: ['prod'],
      other: [{ path: 'argocd/Kustomization', change: 'removed' }],
    };
    const text = renderText(r, 'main');
    expect(text).toContain('qa: new environment, 1 added, 0 removed, 0 changed, 1 other file(s)\n  + Namespace email-server-qa\n  + file helm/email-server-qa/Chart.yaml');
    expect(text).toContain('  ~ ConfigMap email-server-staging/object-0\n      --- base');
    expect(text).toContain('Shared files:\n  - argocd/Kustomization');
    expect(text.trimEnd().split('\n').at(-1)).toBe('2 environment(s) changed: qa, staging; 1 shared file(s) changed; unchanged: prod.');
    expect(summary({ changed: [], unchanged: ['dev'], other: [] })).toBe('No changes.');
  });
});
