import { z } from 'zod';
import { labelKey } from '../formats';

/** Kubernetes name and metadata formats shared by the sections of issue 13 (scheduling, pod, service). */

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A name of most Kubernetes objects (Secrets, PriorityClasses): RFC 1123 subdomain. */
export const dnsSubdomain = z
  .string()
  .max(253, { message: 'must be at most 253 characters (a Kubernetes object name)' })
  .regex(DNS_SUBDOMAIN, { message: 'must be a Kubernetes object name: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit' });

/**
 * Text without C0 and C1 control characters or the Unicode line and paragraph separators: a
 * value holding one reads differently in a manifest, a log line or a terminal from what was
 * checked. `\xHH` escapes and the two separators as literal characters, so the same pattern
 * works in JavaScript, in editors (JSON Schema) and in Helm (Go's RE2).
 */
const NO_CONTROL_PATTERN = '^[^\\x00-\\x1f\\x7f-\\x9f\u2028\u2029]*$';
/** NO_CONTROL_PATTERN as a RegExp (tests). */
export const NO_CONTROL = new RegExp(NO_CONTROL_PATTERN);

/** An annotation value: any text without control characters. */
export const annotationValue = z
  .string()
  .max(64 * 1024, { message: 'must be at most 65536 characters' })
  // In an environment file checkStrings (src/config/strings.ts) refuses these, and more, for
  // every string; the pattern says it again for editors and Helm's values.schema.json.
  .meta({ pattern: NO_CONTROL_PATTERN });

/** Annotations: keys in the label-key format (`prefix/name`), values any single-line text. */
export const annotations = z.record(labelKey, annotationValue);

/** The JSON Schema of a map key (labelKey), for `propertyNames` that also exclude some keys. */
const KEY_JSON_SCHEMA = (() => {
  const { $schema: _, ...key } = z.toJSONSchema(labelKey, { target: 'draft-07' }) as Record<string, unknown>;
  return key;
})();

/**
 * JSON Schema metadata for a map whose keys are label keys, minus reserved ones: what the
 * schema's rules across fields refuse, said again for editors and Helm's values.schema.json.
 */
export function reservedKeysMeta(prefixes: readonly string[], keys: readonly string[] = []): Record<string, unknown> {
  const not = [...prefixes.map((p) => ({ pattern: `^${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}` })), ...(keys.length ? [{ enum: [...keys] }] : [])];
  return { propertyNames: { ...KEY_JSON_SCHEMA, not: not.length === 1 ? not[0] : { anyOf: not } } };
}

/** The keys of a map that start with one of `prefixes` or equal one of `keys`. */
export function reservedKeys(map: Readonly<Record<string, unknown>>, prefixes: readonly string[], keys: readonly string[] = []): string[] {
  return Object.keys(map).filter((k) => prefixes.some((p) => k.startsWith(p)) || keys.includes(k));
}
