import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadEnvironmentFile } from '../src/config/load';
import { renderPostfixFiles } from '../src/postfix';

/**
 * What the relay figures of docs/PERFORMANCE.md depend on, hashed: the rendered prod Postfix
 * files (what runs), the prod settings the bench reads (limits, tuning, autoscaling, rate limits)
 * the Postfix 3.10 root they run on (scripts/postfix-root.cjs) and the code that measures
 * (bench/relay, bench/lib). Comments and blank lines of the rendered
 * files are left out: rewording a comment changes no figure. The report code (bench/report) is
 * left out too: `npm run bench -- --report-only` re-renders the doc from the saved results.
 * test/bench/performance-doc.test.ts fails when these no longer match the doc.
 */

export interface Fingerprint {
  /** sha256 over every input's hash. */
  hash: string;
  /** Input name -> short sha256 of its normalized content. */
  inputs: Record<string, string>;
}

const MEASURING_CODE = ['bench/relay', 'bench/lib'];

export function benchFingerprint(root: string): Fingerprint {
  const env = loadEnvironmentFile(join(root, 'environments', 'prod.yaml'));
  const files = renderPostfixFiles(env);
  const inputs: Record<string, string> = {};
  for (const name of ['main.cf', 'master.cf', 'entrypoint.sh'] as const) {
    const text = (files as Record<string, string>)[name];
    if (text !== undefined) inputs[`rendered prod ${name}`] = short(withoutComments(text));
  }
  inputs['prod settings (resources, tuning, autoscaling, rate limits)'] = short(
    JSON.stringify({ resources: env.resources, tuning: env.tuning, autoscaling: env.autoscaling, rateLimits: env.mail.rateLimits, replicas: env.replicas }),
  );
  // The Postfix the relay figures run on: the Debian 13 root's recipe (suite, packages, expected version).
  inputs['the Postfix 3.10 root (scripts/postfix-root.cjs RECIPE)'] = short(JSON.stringify(postfixRootRecipe()));
  for (const dir of MEASURING_CODE) {
    const paths = listFiles(join(root, dir)).sort();
    inputs[`${dir}/ (the measuring code)`] = short(paths.map((p) => `${relative(root, p)}\n${readFileSync(p, 'utf8')}`).join('\n'));
  }
  const hash = createHash('sha256')
    .update(Object.entries(inputs).map(([k, v]) => `${k}=${v}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  return { hash, inputs };
}

/** A rendered file without comment lines, blank lines and trailing spaces. */
export function withoutComments(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() && !/^\s*#/.test(l))
    .join('\n');
}

/** The names of the inputs that differ between two fingerprints (added or removed ones too). */
export function changedInputs(recorded: Fingerprint, now: Fingerprint): string[] {
  const names = new Set([...Object.keys(recorded.inputs), ...Object.keys(now.inputs)]);
  return [...names].filter((n) => recorded.inputs[n] !== now.inputs[n]);
}

const MARKER = 'bench-record';

/** The HTML comment docs/PERFORMANCE.md carries: the fingerprint and the figures tests check the defaults against. */
export function recordComment(record: DocRecord): string {
  return `<!-- ${MARKER}: ${JSON.stringify(record)} -->`;
}

export interface DocRecord {
  commit: string;
  fingerprint: Fingerprint;
  /** The Postfix the relay figures ran on (absent: the host's 3.7, before the bench ran 3.10). */
  postfix?: { generation: 'host' | '3.10'; version: string };
  /** Peak working set (MiB) at the burst session count per swept tuning (relayConcurrency absent: the shipped one). */
  memoryPeaks?: { processLimit: number; relayConcurrency?: number; workingSetMiB: number }[];
  /** The shipped processLimit at the burst session count: OOM kills and lost messages. */
  shippedAtBurst?: { processLimit: number; sessions: number; oomKills: number; lost: number; duplicates: number };
}

export function parseRecord(markdown: string): DocRecord | undefined {
  const m = new RegExp(`<!-- ${MARKER}: (\\{.*\\}) -->`).exec(markdown);
  return m ? (JSON.parse(m[1]!) as DocRecord) : undefined;
}

function postfixRootRecipe(): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RECIPE } = require('../scripts/postfix-root.cjs') as { RECIPE: Record<string, unknown> };
  return { ...RECIPE, expectVersion: String(RECIPE.expectVersion) };
}

function short(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}
