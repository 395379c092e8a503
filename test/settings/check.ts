import { ConfigError } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { SETTINGS, type SettingCase, type SettingEntry } from './cases';
import { describeEffect, differences, effectSource, readEffect, same, synthOutput, validate, type Effect, type Output } from './effects';
import type { Leaf } from './schema-leaves';
import { candidates } from './values';

/** A valid, nearly minimal environment: every other setting at its schema default. */
export const BASE = {
  namespace: 'email-server-settings',
  mail: { hostname: 'mail.example.com', domain: 'example.com', allowedSenderDomains: ['example.com'] },
} as const;

export type Input = Record<string, unknown>;

export function setPath(input: Input, path: string, value: unknown): Input {
  const copy = structuredClone(input);
  const keys = path.split('.');
  let node: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === undefined || node[key] === null || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
  return copy;
}

export function getPath(value: unknown, keys: readonly string[]): unknown {
  return keys.reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), value);
}

const isException = (entry: SettingEntry): entry is { readonly exception: string } => !Array.isArray(entry) && 'exception' in entry;

/** The input both sides share: the base, the enclosing optional objects, the case's companions. */
export function baselineInput(leaf: Leaf, c: SettingCase | undefined): Input {
  let input: Input = structuredClone(BASE) as Input;
  for (const parent of leaf.optionalParents) input = setPath(input, parent, {});
  const companions = c?.with ?? {};
  for (const [path, value] of Object.entries(companions)) input = setPath(input, path, value);
  return input;
}

const outputs = new Map<string, Output>();
/** Synthesizes a validated config (memoized: many cases share a baseline). */
function outputOf(env: EnvironmentConfig): Output {
  const key = JSON.stringify(env);
  let out = outputs.get(key);
  if (!out) {
    out = synthOutput(env);
    outputs.set(key, out);
  }
  return out;
}

function tryRender(input: Input): { out?: Output; env?: EnvironmentConfig; error?: string } {
  try {
    const env = validate(input);
    return { env, out: outputOf(env) };
  } catch (err) {
    const text = err instanceof ConfigError ? err.problems.map((p) => `${p.path}: ${p.message}`).join('; ') : (err as Error).message.split('\n').slice(0, 3).join(' ');
    return { error: text };
  }
}

export interface Trial {
  readonly value: unknown;
  readonly baseline: Output;
  readonly changed: Output;
}

/**
 * The default's output and a non-default value's output for one leaf. Throws, with what to do,
 * when the base is invalid or no valid non-default value is found.
 */
export function trial(leaf: Leaf, c: SettingCase | undefined): Trial {
  const input = baselineInput(leaf, c);
  const base = tryRender(input);
  if (!base.out || !base.env) {
    throw new Error(`${leaf.path}: the baseline (base environment + companions ${JSON.stringify(c?.with ?? {})}) is invalid: ${base.error}`);
  }
  const current = getPath(base.env, leaf.keys);

  if (c && 'forceValue' in c && c.forceValue !== undefined) {
    const env = structuredClone(base.env) as EnvironmentConfig;
    const keys = leaf.keys;
    const parent = getPath(env, keys.slice(0, -1)) as Record<string, unknown>;
    parent[keys[keys.length - 1]!] = c.forceValue;
    return { value: c.forceValue, baseline: base.out, changed: synthOutput(env) };
  }

  const tried: string[] = [];
  const values = c && 'value' in c && c.value !== undefined ? [c.value] : candidates(leaf, current);
  const changedSide = Object.entries(c?.alongside ?? {}).reduce((acc, [path, v]) => setPath(acc, path, v), input);
  for (const value of values) {
    const attempt = tryRender(setPath(changedSide, leaf.path, value));
    if (attempt.out) return { value, baseline: base.out, changed: attempt.out };
    tried.push(`${JSON.stringify(value)} (${attempt.error})`);
  }
  throw new Error(
    [
      `${leaf.path}: no valid non-default value (the default is ${JSON.stringify(current)}).`,
      tried.length ? `Tried: ${tried.slice(0, 6).join('; ')}` : 'No value could be generated for this type.',
      `Give one in test/settings/cases.ts: '${leaf.path}': { value: ..., effect: ... }, with any companion setting it needs in \`with\`.`,
    ].join('\n'),
  );
}

const effectsOf = (c: SettingCase): readonly Effect[] => (Array.isArray(c.effect) ? c.effect : [c.effect as Effect]);

/** The suggestion printed when a leaf has no case: the places its value actually changed. */
export function suggestion(leaf: Leaf): string {
  let found: Effect[] = [];
  let value: unknown;
  try {
    const t = trial(leaf, undefined);
    value = t.value;
    found = differences(t.baseline, t.changed);
  } catch (err) {
    return `It could not be tried: ${(err as Error).message}`;
  }
  if (!found.length) {
    return [
      `With ${leaf.path} = ${JSON.stringify(value)} nothing in dist/ changes. A setting with no effect is a bug (the code ignores it), or it needs a`,
      'companion setting (`with`), or it has no manifest effect by design (then add `{ exception: \'<why>\' }`).',
    ].join('\n');
  }
  const effects = found.slice(0, 4).map(effectSource);
  return [
    `With ${leaf.path} = ${JSON.stringify(value)} these changed: ${found.slice(0, 8).map(describeEffect).join('; ')}${found.length > 8 ? '; ...' : ''}.`,
    'Name the one(s) the setting documents, e.g.:',
    `  '${leaf.path}': { effect: ${effects.length === 1 ? effects[0] : `[${effects.join(', ')}]`} },`,
  ].join('\n');
}

/** The whole check for one leaf; throws a message saying what to fix. */
export function checkLeaf(leaf: Leaf): void {
  const entry = SETTINGS[leaf.path];
  if (!entry) {
    throw new Error(`Setting ${leaf.path} has no case in test/settings/cases.ts (see docs/TESTING.md, "Every setting takes effect").\n${suggestion(leaf)}`);
  }
  if (isException(entry)) {
    if (entry.exception.trim().length < 10) throw new Error(`${leaf.path}: an exception needs a reason (why the setting has no manifest effect)`);
    let t: Trial;
    try {
      t = trial(leaf, undefined);
    } catch {
      return; // no other valid value exists: nothing can show
    }
    const found = differences(t.baseline, t.changed);
    if (found.length) {
      throw new Error(
        `${leaf.path} is listed as an exception (no manifest effect), but ${JSON.stringify(t.value)} changes: ${found.slice(0, 6).map(describeEffect).join('; ')}.\nReplace the exception by a case: { effect: ${effectSource(found[0]!)} }`,
      );
    }
    return;
  }
  const cases: readonly SettingCase[] = Array.isArray(entry) ? entry : [entry as SettingCase];
  if (!cases.length) throw new Error(`${leaf.path}: the entry lists no case`);
  for (const c of cases) checkCase(leaf, c);
}

function checkCase(leaf: Leaf, c: SettingCase): void {
  const effects = effectsOf(c);
  if (!effects.length) throw new Error(`${leaf.path}: the case names no effect`);
  const t = trial(leaf, c);
  const unchanged = effects.filter((e) => same(readEffect(t.baseline, e), readEffect(t.changed, e)));
  if (unchanged.length) {
    const found = differences(t.baseline, t.changed);
    const companions = c.with ? ` (with ${JSON.stringify(c.with)})` : '';
    throw new Error(
      [
        `${leaf.path} = ${JSON.stringify(t.value)}${companions} does not change ${unchanged.map(describeEffect).join('; ')} (value there: ${JSON.stringify(readEffect(t.changed, unchanged[0]!))}).`,
        found.length
          ? `What it changed instead: ${found.slice(0, 8).map(describeEffect).join('; ')}.`
          : 'It changed nothing in dist/: the code ignores this setting (a bug: make the code use it).',
        'Fix the code if it ignores the setting; fix the case in test/settings/cases.ts if it names the wrong place.',
      ].join('\n'),
    );
  }
}

export { isException };
