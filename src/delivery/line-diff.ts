/**
 * Line diffs in the unified format (`diff -u`, `git diff`): what a reviewer reads for each
 * changed object. Myers' O((N+M)·D) algorithm on the lines left after the common head and
 * tail are cut off, so a one-line change in a long manifest costs next to nothing.
 */

export type Edit = { readonly op: ' ' | '-' | '+'; readonly line: string };

/** The shortest edit script turning `a` into `b`, as a sequence of kept, removed and added lines. */
export function diffLines(a: readonly string[], b: readonly string[]): Edit[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const middle = myers(a.slice(head, a.length - tail), b.slice(head, b.length - tail));
  return [
    ...a.slice(0, head).map((line) => ({ op: ' ' as const, line })),
    ...middle,
    ...a.slice(a.length - tail).map((line) => ({ op: ' ' as const, line })),
  ];
}

const MAX_EDITS = 4000;

function myers(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((line) => ({ op: '+', line }));
  if (m === 0) return a.map((line) => ({ op: '-', line }));
  const max = n + m;
  const offset = max;
  let v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  search: for (let d = 0; d <= max; d++) {
    // Two unrelated texts: the memory of the trace grows with d·(n+m); say "all replaced" instead.
    if (d > MAX_EDITS) return [...a.map((line) => ({ op: '-' as const, line })), ...b.map((line) => ({ op: '+' as const, line }))];
    trace.push(v.slice());
    const next = v;
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) break search;
    }
    v = next;
  }
  // Walk the trace back from (n, m) to (0, 0).
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    const vd = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      edits.push({ op: ' ', line: a[x]! });
    }
    if (d > 0) {
      if (down) edits.push({ op: '+', line: b[--y]! });
      else edits.push({ op: '-', line: a[--x]! });
    }
  }
  return edits.reverse();
}

export interface UnifiedOptions {
  /** Unchanged lines shown around each change (default 3, as `diff -u`). */
  readonly context?: number;
  readonly fromLabel?: string;
  readonly toLabel?: string;
}

/** `a` and `b` as a unified diff (with `---`/`+++` labels), or '' when they are equal. */
export function unifiedDiff(a: string, b: string, options: UnifiedOptions = {}): string {
  if (a === b) return '';
  const context = options.context ?? 3;
  const edits = diffLines(splitLines(a), splitLines(b));
  const out = [`--- ${options.fromLabel ?? 'a'}`, `+++ ${options.toLabel ?? 'b'}`];
  // Positions (1-based line numbers) before each edit.
  let i = 0;
  while (i < edits.length) {
    // Next change.
    while (i < edits.length && edits[i]!.op === ' ') i++;
    if (i >= edits.length) break;
    let start = Math.max(0, i - context);
    // Extend the hunk while the next change is within 2·context unchanged lines.
    let end = i;
    for (;;) {
      while (end < edits.length && edits[end]!.op !== ' ') end++;
      let gap = end;
      while (gap < edits.length && edits[gap]!.op === ' ') gap++;
      if (gap < edits.length && gap - end <= 2 * context) end = gap;
      else break;
    }
    const stop = Math.min(edits.length, end + context);
    const { oldStart, newStart } = positions(edits, start);
    const slice = edits.slice(start, stop);
    const oldCount = slice.filter((e) => e.op !== '+').length;
    const newCount = slice.filter((e) => e.op !== '-').length;
    out.push(`@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@`);
    for (const e of slice) out.push(`${e.op}${e.line}`);
    i = stop;
    start = stop;
  }
  return `${out.join('\n')}\n`;
}

function positions(edits: readonly Edit[], upTo: number): { oldStart: number; newStart: number } {
  let oldLine = 1;
  let newLine = 1;
  for (let j = 0; j < upTo; j++) {
    if (edits[j]!.op !== '+') oldLine++;
    if (edits[j]!.op !== '-') newLine++;
  }
  return { oldStart: oldLine, newStart: newLine };
}

/** `diff -u` writes an empty range as the line before it, with count 0. */
function range(start: number, count: number): string {
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
