import { existsSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchors, codeSpans, fences, links, OWN_DOCS, pathPattern, read, repoFiles, ROOT } from './markdown';
import { distFiles } from './synthesized';

/** Paths written in code (spans and fenced blocks) are relative to the repository root. */
const REPO_PATH = /(?:^|[\s"'=(:])((?:\.\.\/)?(?:docs|src|scripts|test|environments|bench|imports|dist|\.ci)\/[\w./<>*-]*|README(?:-EMAIL-SERVER)?\.md|package\.json)/g;

function pathsIn(markdown: string): string[] {
  const texts = [...codeSpans(markdown), ...fences(markdown).map((f) => f.code)];
  return [...new Set(texts.flatMap((t) => [...t.matchAll(REPO_PATH)].map((m) => m[1]!.replace(/[.:]+$/, ''))))];
}

describe.each(OWN_DOCS)('%s', (doc) => {
  const text = read(doc);

  it('every relative link points at an existing file and heading', () => {
    const broken: string[] = [];
    for (const target of links(text)) {
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
      const [path = '', anchor] = target.split('#');
      const file = path ? normalize(join(dirname(doc), path)) : doc;
      if (!existsSync(join(ROOT, file))) {
        broken.push(`${target} (no file ${file})`);
        continue;
      }
      if (anchor && file.endsWith('.md') && !anchors(read(file)).has(anchor)) broken.push(`${target} (no heading #${anchor} in ${file})`);
    }
    expect(broken).toEqual([]);
  });

  it('every repository path it names exists (dist/ paths: in the synthesized output)', () => {
    const files = repoFiles();
    const dist = distFiles();
    const missing = pathsIn(text).filter((p) => {
      const path = relative(ROOT, normalize(join(ROOT, p.startsWith('../') ? join(dirname(doc), p) : p)));
      const pattern = pathPattern(path);
      if (path === 'dist' || path.startsWith('dist/')) {
        const inDist = path.replace(/^dist\/?/, '');
        return inDist !== '' && !dist.some((f) => pathPattern(inDist).test(f) || f.startsWith(inDist.replace(/\/?$/, '/')));
      }
      return !files.some((f) => pattern.test(f) || f === `${path}/`);
    });
    expect(missing).toEqual([]);
  });
});
