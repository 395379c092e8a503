import type { Leaf } from './schema-leaves';

/**
 * Candidate non-default values for a leaf, best first. The check keeps the first one that the
 * whole schema (cross-field rules included) and synth's policies accept, so the candidates only
 * need to be plausible: validation does the filtering.
 */
export function candidates(leaf: Leaf, current: unknown): unknown[] {
  const seen = new Set([JSON.stringify(current)]);
  return valuesFor(leaf.core._zod.def as unknown as Def, current).filter((v) => {
    const key = JSON.stringify(v);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

interface Def {
  readonly type: string;
  readonly entries?: Record<string, string | number>;
  readonly values?: readonly unknown[];
  readonly element?: { readonly _zod: { readonly def: Def } };
  readonly in?: { readonly _zod: { readonly def: Def } };
  readonly innerType?: { readonly _zod: { readonly def: Def } };
  readonly checks?: readonly { readonly _zod: { readonly def: Record<string, unknown> } }[];
}

/** Values of common formats (CIDRs, quantities, durations, digests, URLs, paths, label keys). */
const STRING_POOL = [
  'example.org',
  '10.20.0.0/16',
  '169.254.20.10/32',
  '45s',
  '250m',
  '300Mi',
  '2Gi',
  'fast-ssd',
  `sha256:${'ab'.repeat(32)}`,
  'https://example.org/settings-check',
  '/etc/ssl/certs/settings-check.pem',
  'example.org/settings-check',
  'settings-check',
];

function stringsFrom(current: unknown): string[] {
  if (typeof current !== 'string') return STRING_POOL;
  const bumped = current.replace(/[0-9]+/, (n) => String(Number(n) + 1));
  return [bumped, `${current}x`, `x${current}`, `${current}-x`, ...STRING_POOL];
}

function numbersFrom(def: Def, current: unknown): number[] {
  const checks = (def.checks ?? []).map((c) => c._zod.def);
  const isInt = checks.some((c) => c.format === 'safeint' || c.format === 'int32');
  const bound = (check: string) => checks.find((c) => c.check === check)?.value as number | undefined;
  const c = typeof current === 'number' ? current : undefined;
  const raw = c === undefined ? [1, 2, 10, 100, 1000] : [c + 1, c - 1, c * 2, c / 2, c + 10, c + 60, c * 10, c / 10];
  const within = [bound('greater_than'), bound('less_than')].filter((b): b is number => b !== undefined);
  return [...raw, ...within].map((n) => (isInt ? Math.round(n) : n));
}

function valuesFor(def: Def, current: unknown): unknown[] {
  switch (def.type) {
    case 'boolean':
      return typeof current === 'boolean' ? [!current] : [true, false];
    case 'enum':
      return Object.values(def.entries ?? {});
    case 'literal':
      return [...(def.values ?? [])];
    case 'number':
      return numbersFrom(def, current);
    case 'string':
      return stringsFrom(current);
    case 'pipe':
      return def.in ? valuesFor(def.in._zod.def, current) : [];
    case 'default':
    case 'prefault':
    case 'optional':
      return def.innerType ? valuesFor(def.innerType._zod.def, current) : [];
    case 'array': {
      const element = def.element?._zod.def;
      if (!element) return [];
      const list = Array.isArray(current) ? current : [];
      const items = valuesFor(element, list[0]).slice(0, 12);
      return [...items.map((x) => [x, ...list.slice(1)]), ...items.map((x) => [...list, x])];
    }
    case 'record':
      return [{ 'example.org/settings-check': 'yes' }];
    default:
      return [];
  }
}
