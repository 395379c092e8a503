import { describeObject, type DiffReport, type EnvironmentDiff, type FileChange, type ObjectChange } from './object-diff';

/** GitHub refuses a comment body longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

/** First line of every Markdown report: CI finds its earlier comment by it and updates it. */
export const MARKDOWN_MARKER = '<!-- email-server manifest diff -->';

/** Lines longer than this are shortened in Markdown (the dashboard's JSON is one line). */
export const MARKDOWN_LINE_LIMIT = 1_000;

const SIGN = { added: '+', removed: '-', changed: '~' } as const;

function counts(env: EnvironmentDiff): string {
  const n = (c: ObjectChange['change']) => env.objects.filter((o) => o.change === c).length;
  const parts = [`${n('added')} added`, `${n('removed')} removed`, `${n('changed')} changed`];
  if (env.files.length) parts.push(`${env.files.length} other file(s)`);
  const status = env.status === 'added' ? 'new environment, ' : env.status === 'removed' ? 'environment removed, ' : '';
  return `${status}${parts.join(', ')}`;
}

/** One line that says what changed overall. */
export function summary(report: DiffReport): string {
  if (!report.changed.length && !report.other.length) return 'No changes.';
  const envs = report.changed.map((e) => e.name);
  const parts = [envs.length ? `${envs.length} environment(s) changed: ${envs.join(', ')}` : 'no environment changed'];
  if (report.other.length) parts.push(`${report.other.length} shared file(s) changed`);
  if (report.unchanged.length) parts.push(`unchanged: ${report.unchanged.join(', ')}`);
  return `${parts.join('; ')}.`;
}

const indent = (text: string, by: string) =>
  text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => `${by}${l}`)
    .join('\n');

/** The plain-text report (terminal): everything, nothing cut. */
export function renderText(report: DiffReport, comparedWith: string): string {
  const out = [`Compared with ${comparedWith}.`, ''];
  for (const env of report.changed) {
    out.push(`${env.name}: ${counts(env)}`);
    for (const o of env.objects) {
      out.push(`  ${SIGN[o.change]} ${describeObject(o.id)}`);
      if (o.diff) out.push(indent(o.diff, '      '));
    }
    for (const f of env.files) {
      out.push(`  ${SIGN[f.change]} file ${f.path}`);
      if (f.diff) out.push(indent(f.diff, '      '));
    }
    out.push('');
  }
  if (report.other.length) {
    out.push('Shared files:');
    for (const f of report.other) {
      out.push(`  ${SIGN[f.change]} ${f.path}`);
      if (f.diff) out.push(indent(f.diff, '      '));
    }
    out.push('');
  }
  out.push(summary(report));
  return `${out.join('\n')}\n`;
}

/** A code fence longer than any run of backticks in the text, so the text cannot close it. */
function fence(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(Math.max(3, longest + 1));
}

/** Shortens the lines of a diff that are longer than MARKDOWN_LINE_LIMIT; counts how many it shortened. */
export function shortenLines(text: string, limit = MARKDOWN_LINE_LIMIT): { text: string; shortened: number } {
  let shortened = 0;
  const lines = text.split('\n').map((line) => {
    if (line.length <= limit) return line;
    shortened++;
    return `${line.slice(0, limit)} … (${line.length - limit} more characters)`;
  });
  return { text: lines.join('\n'), shortened };
}

function detailsBlock(title: string, diff: string): { block: string; shortened: number } {
  const { text, shortened } = shortenLines(diff.replace(/\n$/, ''));
  const f = fence(text);
  return { block: `<details><summary>${escapeHtml(title)}</summary>\n\n${f}diff\n${text}\n${f}\n\n</details>\n`, shortened };
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

interface Section {
  readonly head: string;
  readonly rows: readonly string[];
  readonly blocks: readonly { readonly title: string; readonly block: string; readonly shortened: number }[];
}

function sections(report: DiffReport): Section[] {
  const list: Section[] = report.changed.map((env) => ({
    head: `#### ${env.name}: ${counts(env)}\n\n| Change | Kind | Namespace | Name |\n| --- | --- | --- | --- |\n`,
    rows: [
      ...env.objects.map((o) => `| ${o.change} | ${cell(o.id.kind)} | ${cell(o.id.namespace ?? '')} | ${cell(o.id.name)} |\n`),
      ...env.files.map((f) => `| ${f.change} | file | | ${cell(f.path)} |\n`),
    ],
    blocks: [
      ...env.objects.filter((o) => o.diff).map((o) => ({ title: `${env.name}: ${describeObject(o.id)}`, ...detailsBlock(describeObject(o.id), o.diff!) })),
      ...env.files.filter((f) => f.diff).map((f) => ({ title: f.path, ...detailsBlock(f.path, f.diff!) })),
    ],
  }));
  if (report.other.length) {
    list.push({
      head: '#### Shared files\n\n| Change | Path |\n| --- | --- |\n',
      rows: report.other.map((f: FileChange) => `| ${f.change} | ${cell(f.path)} |\n`),
      blocks: report.other.filter((f) => f.diff).map((f) => ({ title: f.path, ...detailsBlock(f.path, f.diff!) })),
    });
  }
  return list;
}

export interface MarkdownOptions {
  /** What the tree was compared with, e.g. "`main` (merge base 1a2b3c4)". */
  readonly comparedWith: string;
  /** Maximum length in UTF-16 code units (what GitHub counts is never more). */
  readonly limit?: number;
  /** How to get the full output, named in the line that says what was cut. */
  readonly fullCommand?: string;
}

/**
 * One pull-request comment. Everything fits, or the YAML diffs that do not fit are left out
 * (then whole table rows, last first) and a closing line says exactly what was cut: the
 * result is never longer than `limit`.
 */
export function renderMarkdown(report: DiffReport, options: MarkdownOptions): string {
  const limit = options.limit ?? GITHUB_COMMENT_LIMIT - 1;
  const title = `${MARKDOWN_MARKER}\n### email-server manifests: ${report.changed.length ? `${report.changed.length} environment(s) changed` : 'no environment changed'}\n\n`;
  const intro = `Compared with ${options.comparedWith}. ${summary(report)}\n\n`;
  const secs = sections(report);
  const full = options.fullCommand ?? 'npm run diff';

  // The cut line is written last but reserved first: its length is bounded (counts and names are short).
  const cutLine = (blocksCut: string[], rowsCut: number, shortened: number) => {
    const parts: string[] = [];
    if (blocksCut.length) parts.push(`the YAML diffs of ${blocksCut.length} object(s)/file(s) (${listNames(blocksCut)})`);
    if (rowsCut) parts.push(`${rowsCut} row(s) of the tables above`);
    const cut = parts.length ? `**Cut to stay under GitHub's ${GITHUB_COMMENT_LIMIT.toLocaleString('en-US')}-character comment limit:** ${parts.join(' and ')}. ` : '';
    const short = shortened ? `${shortened} line(s) longer than ${MARKDOWN_LINE_LIMIT.toLocaleString('en-US')} characters are shortened. ` : '';
    return cut || short ? `\n---\n${cut}${short}Run ${code(full)} for the full output.\n` : '';
  };
  const reserve = 1_200;

  // Phase 1: titles and tables; rows dropped from the end while they do not fit.
  let used = title.length + intro.length + secs.reduce((n, s) => n + s.head.length, 0);
  if (used + reserve > limit) {
    // Not even the headings fit (thousands of environments): a summary only.
    return truncateHard(`${title}${intro}`, limit, cutLine([], 0, 0) || `\nRun ${code(full)} for the full output.\n`);
  }
  const keptRows = secs.map(() => 0);
  let rowsCut = 0;
  secs.forEach((s, i) => {
    for (const row of s.rows) {
      if (used + row.length + reserve <= limit) {
        used += row.length;
        keptRows[i]!++;
      } else rowsCut++;
    }
  });
  const moreRow = (i: number) => {
    const n = secs[i]!.rows.length - keptRows[i]!;
    return n ? `\n_${n} more row(s) cut._\n` : '';
  };
  used += secs.reduce((n, _, i) => n + moreRow(i).length, 0);

  // Phase 2: the diffs, in order, each one if it still fits.
  const keptBlocks = secs.map(() => new Set<number>());
  const blocksCut: string[] = [];
  let shortened = 0;
  secs.forEach((s, i) => {
    s.blocks.forEach((b, j) => {
      const size = b.block.length + 1;
      if (used + size + reserve <= limit) {
        used += size;
        keptBlocks[i]!.add(j);
        shortened += b.shortened;
      } else blocksCut.push(b.title);
    });
  });

  let body = `${title}${intro}`;
  secs.forEach((s, i) => {
    body += s.head + s.rows.slice(0, keptRows[i]).join('') + moreRow(i) + '\n';
    s.blocks.forEach((b, j) => {
      if (keptBlocks[i]!.has(j)) body += `${b.block}\n`;
    });
  });
  return truncateHard(body, limit, cutLine(blocksCut, rowsCut, shortened));
}

/** Names for the cut line: the first few, then a count. */
function listNames(names: readonly string[]): string {
  // At most five names of at most 100 characters: the cut line stays well inside its reserve.
  const shown = names.slice(0, 5).map((n) => (n.length > 100 ? `${n.slice(0, 99)}…` : n).replace(/[`|<>]/g, ''));
  return names.length > shown.length ? `${shown.join('; ')}; and ${names.length - shown.length} more` : shown.join('; ');
}

/** The last guard: body plus tail, never beyond the limit. */
function truncateHard(body: string, limit: number, tail: string): string {
  if (body.length + tail.length <= limit) return body + tail;
  return body.slice(0, Math.max(0, limit - tail.length - 2)) + '\n\n' + tail.slice(0, limit);
}
