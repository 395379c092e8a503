import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Repository root (tests run from it, but do not rely on that). */
export const ROOT = join(__dirname, '..', '..');

/** The documents this suite holds to "names only what exists". */
export const OWN_DOCS = [
  'README-EMAIL-SERVER.md',
  'docs/EMAIL-SERVER-SETUP.md',
  'docs/EMAIL-SERVER-USAGE.md',
  'docs/EMAIL-SERVER-API.md',
  'docs/RUNBOOK.md',
  'docs/TROUBLESHOOTING.md',
  'docs/CONFIG-REFERENCE.md',
  'docs/SLO.md',
] as const;

export function read(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** Markdown with fenced code blocks blanked out (line numbers kept). */
export function withoutFences(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```[ \t]*$/gm, (block) => block.replace(/[^\n]/g, ''));
}

/** Contents of the fenced code blocks, with their info string. */
export function fences(markdown: string): { lang: string; code: string }[] {
  return [...markdown.matchAll(/^```([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm)].map((m) => ({ lang: m[1]!.trim(), code: m[2]! }));
}

/** Inline code spans outside fenced blocks. */
export function codeSpans(markdown: string): string[] {
  return [...withoutFences(markdown).matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
}

/** Link targets `[text](target)` outside fenced blocks and code spans. */
export function links(markdown: string): string[] {
  const text = withoutFences(markdown).replace(/`[^`\n]+`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

/** GitHub's heading anchors: lower-case, punctuation dropped, spaces to hyphens, duplicates numbered. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of withoutFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Second-level headings (`## Name`), in order. */
export function sections(markdown: string): string[] {
  return [...withoutFences(markdown).matchAll(/^##\s+(.+?)\s*$/gm)].map((m) => m[1]!);
}

/** Every file of the repository (relative paths), without dependencies and build output. */
export function repoFiles(): string[] {
  const skip = new Set(['node_modules', '.git', 'dist', 'build', '.vitest-cache']);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (skip.has(name)) continue;
      const full = join(dir, name);
      if (statSync(full).isDirectory()) {
        out.push(`${relative(ROOT, full)}/`);
        walk(full);
      } else out.push(relative(ROOT, full));
    }
  };
  walk(ROOT);
  return out;
}

/** A path pattern as written in the docs (`<env>`, `<name>` and `*` are wildcards) as a RegExp. */
export function pathPattern(path: string): RegExp {
  const escaped = path
    .split(/(<[^>]+>|\*)/)
    .map((part) => (part === '*' || /^<[^>]+>$/.test(part) ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${escaped}${path.endsWith('/') ? '' : '/?'}$`);
}
