import { environmentSchema } from '../../src/config/schema';

/**
 * The leaf settings of the environment schema, found by walking the zod schema itself: a new
 * field is a new leaf the moment it is added to src/config/schema.ts (or a section file), with
 * no list to keep up to date by hand.
 */
export interface Leaf {
  /** Dotted path, as in docs/CONFIG-REFERENCE.md: `topologySpread.maxSkew`. */
  readonly path: string;
  readonly keys: readonly string[];
  /** The leaf's own zod schema (wrappers such as default/optional removed). */
  readonly core: ZodNode;
  /**
   * Enclosing objects that are optional and have no default (`argocd.automated`): the leaf only
   * exists when they are set, so the check sets them to `{}` on both sides.
   */
  readonly optionalParents: readonly string[];
}

/** The parts of zod 4's internal definition the walk needs. */
export interface ZodNode {
  readonly _zod: { readonly def: ZodDef };
}
interface ZodDef {
  readonly type: string;
  readonly innerType?: ZodNode;
  readonly in?: ZodNode;
  readonly shape?: Record<string, ZodNode>;
  readonly element?: ZodNode;
  readonly entries?: Record<string, string | number>;
  readonly values?: readonly unknown[];
  readonly checks?: readonly { readonly _zod: { readonly def: Record<string, unknown> } }[];
}

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional']);

/** Strips default/optional/... wrappers and follows pipes to their input; notes optionality. */
export function unwrap(node: ZodNode): { core: ZodNode; optionalWithoutDefault: boolean } {
  let n = node;
  let optional = false;
  let defaulted = false;
  for (let i = 0; i < 20; i++) {
    const def = n._zod.def;
    if (def.type === 'optional') optional = true;
    if (def.type === 'default' || def.type === 'prefault') defaulted = true;
    if (WRAPPERS.has(def.type) && def.innerType) n = def.innerType;
    else if (def.type === 'pipe' && def.in && def.in._zod.def.type !== 'string') n = def.in; // a transformed object; string pipes are formats
    else break;
  }
  return { core: n, optionalWithoutDefault: optional && !defaulted };
}

export function schemaLeaves(root: ZodNode = environmentSchema as unknown as ZodNode): Leaf[] {
  const out: Leaf[] = [];
  const walk = (node: ZodNode, keys: string[], optionalParents: string[]) => {
    const { core, optionalWithoutDefault } = unwrap(node);
    const def = core._zod.def;
    if (def.type === 'object' && def.shape) {
      const parents = optionalWithoutDefault && keys.length ? [...optionalParents, keys.join('.')] : optionalParents;
      for (const [key, child] of Object.entries(def.shape)) walk(child, [...keys, key], parents);
      return;
    }
    out.push({ path: keys.join('.'), keys, core, optionalParents });
  };
  walk(root, [], []);
  return out;
}
