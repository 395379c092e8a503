import { escapeGoTemplate } from './go-template';
import { toYaml } from './yaml';

/**
 * A Helm template made from a synthesized object: the object's YAML with its Go-template
 * delimiters escaped (escapeGoTemplate), except at a few named fields ("holes"), whose value
 * comes from `.Values`. Each hole's value is written with `toJson`: JSON is YAML, so any value
 * a user sets (a string with a colon, a nested map) lands as data, never as YAML or template
 * syntax.
 *
 * How: each hole's field is set to a unique placeholder, the object is written with the same
 * YAML writer as dist/, escaped, and then each placeholder line is replaced by the action. The
 * placeholders are checked to occur exactly once before escaping, so no user string can stand in
 * for one.
 */
export interface Hole {
  /** Path of the field in the object; it must exist unless omitEmpty (then it is added when missing). */
  readonly path: readonly (string | number)[];
  /** A Go template pipeline giving the value, e.g. `.Values.replicas`. */
  readonly value: string;
  /** Leave the field out when the value is empty (false, 0, "", an empty list or map), as the synthesized object does. */
  readonly omitEmpty?: boolean;
}

const PLACEHOLDER = (i: number) => `__email_server_helm_value_${i}__`;

export function templateObject(object: Record<string, unknown>, holes: readonly Hole[], where: string): string {
  const copy = structuredClone(object);
  holes.forEach((hole, i) => setAt(copy, hole.path, PLACEHOLDER(i), hole.omitEmpty === true, where));
  const yaml = toYaml(copy);
  const escaped = escapeGoTemplate(yaml);
  let out = escaped;
  holes.forEach((hole, i) => {
    const placeholder = PLACEHOLDER(i);
    const line = new RegExp(`^( *)(- )?([^\\s#'"{}\\[\\]-][^:\\n]*): ${placeholder}$`, 'gm');
    const matches = [...escaped.matchAll(line)];
    if (matches.length !== 1 || escaped.split(placeholder).length !== 2) {
      throw new Error(`${where}: Helm template: the field ${hole.path.join('.')} must be a mapping key written once (found ${matches.length})`);
    }
    const [, indent, item = '', key] = matches[0]!;
    if (hole.omitEmpty && item) throw new Error(`${where}: Helm template: the optional field ${hole.path.join('.')} cannot open a list item`);
    // `{{- with` trims every blank before it: only the line break may be there, or text would change.
    const before = escaped.slice(0, matches[0]!.index);
    if (hole.omitEmpty && before && !/[^\s]\n$/.test(before)) {
      throw new Error(`${where}: Helm template: the optional field ${hole.path.join('.')} follows a line ending in blanks`);
    }
    const replacement = hole.omitEmpty
      ? `{{- with ${hole.value} }}\n${indent}${key}: {{ toJson . }}\n{{- end }}`
      : `${indent}${item}${key}: {{ ${hole.value} | toJson }}`;
    out = out.replace(matches[0]![0], () => replacement);
  });
  return out;
}

/** Sets `value` at `path`; the last key may be missing only for an optional field (it is added last). */
function setAt(root: Record<string, unknown>, path: readonly (string | number)[], value: string, optional: boolean, where: string): void {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) {
    node = (node as Record<string | number, unknown> | undefined)?.[key];
    if (node === null || typeof node !== 'object') throw new Error(`${where}: Helm template: no field ${path.join('.')} to template`);
  }
  const parent = node as Record<string, unknown>;
  const last = path.at(-1)!;
  if (Array.isArray(parent)) {
    throw new Error(`${where}: Helm template: ${path.join('.')} is a list item, not a mapping key`);
  }
  if (!(last in parent) && !optional) {
    // A value for a field the object does not have would change nothing: refuse to write one.
    throw new Error(`${where}: Helm template: the object has no field ${path.join('.')} for a value to set`);
  }
  parent[last] = value;
}

/** A Go template string literal (JSON's escapes are a subset of Go's). */
export function goString(text: string): string {
  return JSON.stringify(text);
}

/** A `dict` literal of string keys and values, e.g. `(dict "a" "1")`. */
export function goDict(map: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(map).flatMap(([k, v]) => [goString(k), goString(v)]);
  return pairs.length ? `(dict ${pairs.join(' ')})` : '(dict)';
}
