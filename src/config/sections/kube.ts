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
 * C0 and C1 control characters and the Unicode line and paragraph separators: a value holding
 * one reads differently in a manifest, a log line or a terminal from what was checked.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** An annotation value: any text without control characters. */
export const annotationValue = z
  .string()
  .max(64 * 1024, { message: 'must be at most 65536 characters' })
  .refine((v) => !CONTROL.test(v), { message: 'must not contain control characters (newlines, tabs, NUL, U+0085, U+2028, U+2029)' });

/** Annotations: keys in the label-key format (`prefix/name`), values any single-line text. */
export const annotations = z.record(labelKey, annotationValue);

/** The keys of a map that start with one of `prefixes` or equal one of `keys`. */
export function reservedKeys(map: Readonly<Record<string, unknown>>, prefixes: readonly string[], keys: readonly string[] = []): string[] {
  return Object.keys(map).filter((k) => prefixes.some((p) => k.startsWith(p)) || keys.includes(k));
}
