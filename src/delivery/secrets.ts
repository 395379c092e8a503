import { parseAllDocuments } from 'yaml';
import type { Tree } from './object-diff';

/**
 * Files of a tree that hold a Secret (also inside a List): the rendered output goes to a Git
 * repository and a CI artifact, where a Secret's data is readable by everyone who can read
 * those. The synth renders none; this guards the publish against any that slip in.
 * Helm templates are searched as text: they need not parse before Helm renders them.
 */
export function secretsIn(tree: Tree): string[] {
  const found: string[] = [];
  for (const [path, content] of tree) {
    if (!/\.(ya?ml|json)$/.test(path)) continue;
    if (path.split('/').includes('templates')) {
      if (/^kind:\s*["']?Secret["']?\s*$/m.test(content)) found.push(path);
      continue;
    }
    const kinds = parseAllDocuments(content).flatMap((doc) => kindsOf(doc.toJS({ maxAliasCount: 100 })));
    if (kinds.includes('Secret')) found.push(path);
  }
  return found;
}

function kindsOf(object: unknown): string[] {
  if (object === null || typeof object !== 'object') return [];
  const o = object as { kind?: unknown; items?: unknown };
  const own = typeof o.kind === 'string' ? [o.kind] : [];
  return Array.isArray(o.items) ? [...own, ...o.items.flatMap(kindsOf)] : own;
}
