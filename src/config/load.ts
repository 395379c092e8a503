import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { crossEnvironmentProblems, type LoadedEnvironment } from './cross-environment';
import { environmentSchema, type EnvironmentConfig } from './schema';

/** One problem in one environment file: the file, the field path, the bad value and what is allowed. */
export interface ConfigProblem {
  readonly file: string;
  readonly path: string;
  readonly value: unknown;
  readonly message: string;
}

/** Raised when environment files are invalid; `message` lists every problem, one a line. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    // One problem a line: a YAML key can itself be a multi-line mapping (`? {...}`).
    const oneLine = (text: string) => text.replace(/\r?\n\s*/g, ' ');
    const flat = problems.map((p) => ({ ...p, path: oneLine(p.path), message: oneLine(p.message) }));
    super(flat.map(formatProblem).join('\n'));
    this.problems = flat;
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  const value = p.value === undefined ? '' : ` (got ${describeValue(p.value)})`;
  return `${p.file}: ${p.path || '(top level)'}: ${p.message}${value}`;
}

function describeValue(value: unknown): string {
  let text: string | undefined;
  try {
    // JSON escapes C0 controls only: NEL, LS, PS and invisible format characters are escaped
    // too, so the message shows the value the user must fix and stays one line.
    const json = JSON.stringify(value);
    text = json === undefined ? undefined : escapeInvisible(json);
  } catch {
    return 'a self-referencing value'; // a YAML alias inside its own anchor
  }
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** `\u0085` for every control or invisible character (JSON escapes only C0 ones). */
function escapeInvisible(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (ch) => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

const ENV_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Folders of dist/ that are not environments (Helm charts, Argo CD Applications). */
export const RESERVED_NAMES: readonly string[] = ['helm', 'argocd'];

/** Validates already-parsed data as the environment `name` read from `file`. Throws ConfigError. */
export function parseEnvironment(data: unknown, file: string, name = basename(file, extname(file))): EnvironmentConfig {
  if (!ENV_NAME.test(name) || name.length > 40) {
    throw new ConfigError([
      { file, path: '(file name)', value: name, message: 'the file name is the environment name: lower-case letters, digits and "-", at most 40 characters' },
    ]);
  }
  const result = environmentSchema.safeParse(data ?? {}, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(result.error.issues.flatMap((issue) => toProblems(issue, data, file)));
  }
  return { ...result.data, name };
}

function toProblems(issue: z.core.$ZodIssue, data: unknown, file: string): ConfigProblem[] {
  const path = issue.path.map(String);
  // A key with a control character must not break the message: escaped like a value.
  const shownPath = (keys: readonly string[]) => keys.map(escapeInvisible).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      file,
      path: shownPath([...path, key]),
      value: valueAt(data, [...path, key]),
      message: unknownFieldMessage(key, path),
    }));
  }
  // Cross-field (custom) issues carry the whole object as input: show the field's own value.
  const value = issue.code !== 'custom' && 'input' in issue && issue.input !== undefined ? issue.input : valueAt(data, path);
  return [{ file, path: shownPath(path), value, message: messageFor(issue, value) }];
}

function messageFor(issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.code === 'invalid_key') return `the key ${issue.issues[0]?.message ?? 'is not allowed here'}`;
  if (issue.code === 'invalid_type' && value === undefined) return `is required (${issue.expected})`;
  if (issue.code === 'invalid_value') return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'invalid_type') return `must be ${article(issue.expected)}`;
  if (issue.code === 'too_small' && issue.origin === 'array') return `must list at least ${issue.minimum} item(s)`;
  if (issue.code === 'too_big' && issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
  if (issue.code === 'too_small' && issue.origin === 'number') return issue.message.startsWith('must') ? issue.message : `must be ${issue.inclusive ? 'at least' : 'above'} ${issue.minimum}`;
  if (issue.code === 'too_big' && issue.origin === 'number') return issue.message.startsWith('must') ? issue.message : `must be ${issue.inclusive ? 'at most' : 'below'} ${issue.maximum}`;
  if (issue.code === 'invalid_format' && issue.format === 'url') return 'must be a URL such as https://example.com/path';
  return issue.message;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function valueAt(data: unknown, path: readonly string[]): unknown {
  let node: unknown = data;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** `unknown field "x"; did you mean y? (allowed: ...)`. */
function unknownFieldMessage(key: string, path: readonly string[]): string {
  const allowed = allowedKeys(path);
  const suggestion = closestName(key, allowed) ?? fieldsNamed(key).find((p) => p !== [...path, key].join('.'));
  const hint = suggestion ? `; did you mean ${suggestion}?` : '';
  return `unknown field "${key}"${hint} (allowed: ${allowed.join(', ') || 'see docs/CONFIG-REFERENCE.md'})`;
}

/**
 * The allowed name a misspelt one most likely meant: the same name in another case, or the
 * nearest by edit distance (insertions, deletions, substitutions, swaps of neighbours) when the
 * distance is small for the name's length, or the one name it is a prefix of.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const limit = Math.max(1, Math.min(3, Math.floor(lower.length / 4)));
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  if (best) return best.name;
  const prefixed = lower.length >= 4 ? candidates.filter((c) => c.toLowerCase().startsWith(lower)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a substring). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** Dotted paths of every schema field whose own name is `name` (any case): `hostname` -> `mail.hostname`. */
function fieldsNamed(name: string): string[] {
  const out: string[] = [];
  const walk = (schema: unknown, path: string[]) => {
    for (const [key, child] of Object.entries(objectShape(schema) ?? {})) {
      if (key.toLowerCase() === name.toLowerCase()) out.push([...path, key].join('.'));
      walk(child, [...path, key]);
    }
  };
  walk(environmentSchema, []);
  return out;
}

/** The keys the schema allows at a path, for "unknown field" messages. */
function allowedKeys(path: readonly string[]): string[] {
  let schema: unknown = environmentSchema;
  for (const key of [...path]) {
    schema = objectShape(schema)?.[key];
  }
  return Object.keys(objectShape(schema) ?? {});
}

function objectShape(schema: unknown): Record<string, unknown> | undefined {
  let s = schema as { def?: Record<string, unknown>; shape?: Record<string, unknown> } | undefined;
  for (let i = 0; i < 10 && s; i++) {
    if (s.shape && typeof s.shape === 'object') return s.shape;
    const def = s.def ?? {};
    s = (def.innerType ?? def.in ?? def.schema) as typeof s;
  }
  return undefined;
}

/** Reads and validates one environment file (YAML). Throws ConfigError naming the file. */
export function loadEnvironmentFile(path: string, displayPath = path): EnvironmentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: displayPath, path: '', value: undefined, message: `cannot be read: ${(err as Error).message}` }]);
  }
  const lineCounter = new LineCounter();
  // prettyErrors off: the position goes into the problem's path, not a second time into its text.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length) {
    const at = (offset: number) => {
      const { line, col } = lineCounter.linePos(offset);
      return `line ${line}, column ${col}`;
    };
    const duplicates = duplicateKeys(doc);
    throw new ConfigError(
      doc.errors.map((e) => {
        const duplicate = e.code === 'DUPLICATE_KEY' ? duplicates.find((d) => d.offset === e.pos[0]) : undefined;
        const message = duplicate
          ? `duplicate key "${duplicate.key}"${duplicate.parent ? ` in ${duplicate.parent}` : ''} (first at ${at(duplicate.firstOffset)}): keep one of the two`
          : `is not valid YAML: ${e.message.split('\n')[0]!.replace(/:$/, '')}`;
        return { file: displayPath, path: at(e.pos[0]), value: undefined, message };
      }),
    );
  }
  let data: unknown;
  try {
    // Unresolved aliases and alias bombs surface only here, not in doc.errors.
    data = doc.toJS();
  } catch (err) {
    throw new ConfigError([{ file: displayPath, path: '', value: undefined, message: `is not valid YAML: ${(err as Error).message}` }]);
  }
  if (data !== null && (typeof data !== 'object' || Array.isArray(data))) {
    throw new ConfigError([{ file: displayPath, path: '', value: data, message: 'must be a YAML mapping of fields (see docs/CONFIG-REFERENCE.md)' }]);
  }
  return parseEnvironment(data, displayPath);
}

interface DuplicateKey {
  readonly key: string;
  /** Dotted path of the mapping that holds the key ('' at the top). */
  readonly parent: string;
  readonly offset: number;
  readonly firstOffset: number;
}

/** Every key that repeats within its mapping, with where it first appeared. */
function duplicateKeys(doc: Document): DuplicateKey[] {
  const out: DuplicateKey[] = [];
  visit(doc, {
    Map(_, map, ancestors) {
      const parent = ancestors
        .filter(isPair)
        .map((pair) => (isScalar(pair.key) ? String(pair.key.value) : String(pair.key)))
        .join('.');
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : isMap(pair.key) ? JSON.stringify(pair.key.toJSON()) : String(pair.key);
        const offset = (pair.key as { range?: [number, number, number] } | null)?.range?.[0];
        if (offset === undefined) continue;
        const first = seen.get(key);
        if (first === undefined) seen.set(key, offset);
        else out.push({ key, parent, offset, firstOffset: first });
      }
    },
  });
  return out;
}

/** A path as the user would type it: relative below the working directory, absolute elsewhere. */
function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, resolve(path));
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(path);
}

/**
 * Loads every `*.yaml` file of a folder, sorted by name. Problems of all files are collected
 * and thrown together, so one run shows everything that is wrong.
 */
export function loadEnvironments(dir: string, cwd = process.cwd()): EnvironmentConfig[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  } catch (err) {
    throw new ConfigError([{ file: displayPath(dir, cwd), path: '', value: undefined, message: `cannot be read: ${(err as Error).message}` }]);
  }
  if (!files.length) {
    throw new ConfigError([{ file: displayPath(dir, cwd), path: '', value: undefined, message: 'holds no environment files (*.yaml)' }]);
  }
  const problems: ConfigProblem[] = [];
  const envs: EnvironmentConfig[] = [];
  const loaded: LoadedEnvironment[] = [];
  const names = new Map<string, string>();
  for (const f of files) {
    const full = join(dir, f);
    const name = basename(f, extname(f));
    const sameName = names.get(name);
    names.set(name, f);
    if (sameName) {
      problems.push({ file: displayPath(full, cwd), path: '(file name)', value: name, message: `names the same environment as ${sameName}: keep one of the two files` });
      continue;
    }
    if (RESERVED_NAMES.includes(name)) {
      problems.push({ file: displayPath(full, cwd), path: '(file name)', value: name, message: `is reserved for dist/${name}/: rename the file (reserved: ${RESERVED_NAMES.join(', ')})` });
      continue;
    }
    try {
      const env = loadEnvironmentFile(full, displayPath(full, cwd));
      envs.push(env);
      loaded.push({ env, file: displayPath(full, cwd), path: full });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
  }
  problems.push(...crossEnvironmentProblems(loaded));
  if (problems.length) throw new ConfigError(problems);
  return envs;
}
