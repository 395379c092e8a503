/**
 * Walks the zod schema (not a hand-kept list) to find every field whose input is a string: a
 * field another engineer adds tomorrow is found the same way.
 */
interface Def {
  type?: string;
  shape?: Record<string, unknown>;
  element?: unknown;
  keyType?: unknown;
  valueType?: unknown;
  innerType?: unknown;
  in?: unknown;
  out?: unknown;
  options?: unknown[];
  getter?: () => unknown;
}

const defOf = (schema: unknown): Def => ((schema as { _zod?: { def?: Def } })?._zod?.def ?? {}) as Def;

/** One string the schema takes: where it is, and whether it is a map key. */
export interface StringLeaf {
  /** Path in the input; `0` for "any list item", `key` for "any map key", `*` for "the value under any key". */
  readonly path: readonly (string | number)[];
  readonly isMapKey: boolean;
}

/** Every place in the input where the schema takes a string (free strings only: not enums or literals). */
export function stringLeaves(schema: unknown, path: (string | number)[] = [], depth = 0): StringLeaf[] {
  if (depth > 30) return [];
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return [{ path, isMapKey: false }];
    case 'object':
      return Object.entries(def.shape ?? {}).flatMap(([key, child]) => stringLeaves(child, [...path, key], depth + 1));
    case 'array':
      return stringLeaves(def.element, [...path, 0], depth + 1);
    case 'record':
      return [
        ...(stringLeaves(def.keyType, [], depth + 1).length ? [{ path: [...path, 'key'], isMapKey: true }] : []),
        ...stringLeaves(def.valueType, [...path, '*'], depth + 1),
      ];
    case 'pipe':
      // The input side decides what the user writes (a transform on the input side has none).
      return defOf(def.in).type === 'transform' ? stringLeaves(def.out, path, depth + 1) : stringLeaves(def.in, path, depth + 1);
    case 'union':
      return (def.options ?? []).flatMap((o) => stringLeaves(o, path, depth + 1)).filter((l, i, all) => all.findIndex((x) => x.path.join('.') === l.path.join('.')) === i);
    case 'lazy':
      return def.getter ? stringLeaves(def.getter(), path, depth + 1) : [];
    default:
      return def.innerType ? stringLeaves(def.innerType, path, depth + 1) : [];
  }
}

/** The dotted path an issue reports for a leaf written with `key` as its map key. */
export function reportedPath(leaf: StringLeaf, key: string): string {
  return leaf.path.map((p) => (p === 'key' && leaf.isMapKey ? key : p === '*' ? key : p)).join('.');
}

/** Sets `value` at a leaf's path in `target`, creating objects, lists and map entries on the way. */
export function setLeaf(target: Record<string, unknown>, leaf: StringLeaf, value: string, key: string): void {
  const path = leaf.path;
  let node: Record<string | number, unknown> = target;
  for (let i = 0; i < path.length - 1; i++) {
    const step = path[i] === '*' ? key : path[i]!;
    const next = path[i + 1];
    if (typeof node[step] !== 'object' || node[step] === null) node[step] = typeof next === 'number' ? [] : {};
    node = node[step] as Record<string | number, unknown>;
  }
  const last = path.at(-1)!;
  if (leaf.isMapKey) node[value] = 'x';
  else node[last === '*' ? key : last] = value;
}
