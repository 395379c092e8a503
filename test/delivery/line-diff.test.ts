import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { diffLines, unifiedDiff } from '../../src/delivery/line-diff';

/** Applies a unified diff to `a` by its hunk headers alone: proves the headers and lines are right. */
function applyUnified(a: string, patch: string): string {
  const lines = a === '' ? [] : a.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let pos = 0; // next unread line of a (0-based)
  const body = patch.split('\n').slice(2, -1);
  for (let i = 0; i < body.length; ) {
    const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(body[i]!);
    if (!m) throw new Error(`not a hunk header: ${body[i]}`);
    const oldStart = Number(m[1]);
    const oldCount = m[2] === undefined ? 1 : Number(m[2]);
    const from = oldCount === 0 ? oldStart : oldStart - 1;
    while (pos < from) out.push(lines[pos++]!);
    i++;
    while (i < body.length && !body[i]!.startsWith('@@')) {
      const op = body[i]![0];
      const text = body[i]!.slice(1);
      if (op === ' ' || op === '-') {
        if (lines[pos] !== text) throw new Error(`context mismatch at line ${pos + 1}: ${JSON.stringify(text)} vs ${JSON.stringify(lines[pos])}`);
        pos++;
      }
      if (op === ' ' || op === '+') out.push(text);
      i++;
    }
  }
  while (pos < lines.length) out.push(lines[pos++]!);
  return out.length ? `${out.join('\n')}\n` : '';
}

/** Length of a longest common subsequence (the minimum edit script keeps exactly that many lines). */
function lcs(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let prev = 0;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = x === b[j - 1] ? prev + 1 : Math.max(row[j]!, row[j - 1]!);
      prev = tmp;
    }
  }
  return row[b.length]!;
}

const text = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'kind: X', ''), { maxLength: 30 }).map((ls) => (ls.length ? `${ls.join('\n')}\n` : ''));

describe('diffLines', () => {
  it('is a shortest edit script: replaying it gives b, and it keeps a longest common subsequence', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const la = a ? a.replace(/\n$/, '').split('\n') : [];
        const lb = b ? b.replace(/\n$/, '').split('\n') : [];
        const edits = diffLines(la, lb);
        expect(edits.filter((e) => e.op !== '+').map((e) => e.line)).toEqual(la);
        expect(edits.filter((e) => e.op !== '-').map((e) => e.line)).toEqual(lb);
        expect(edits.filter((e) => e.op === ' ').length).toBe(lcs(la, lb));
      }),
      { numRuns: 400 },
    );
  });
});

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n')).toBe('');
  });

  it('applies back to the new text (hunk headers, context and merging of nearby changes)', () => {
    fc.assert(
      fc.property(text, text, fc.integer({ min: 0, max: 4 }), (a, b, context) => {
        const patch = unifiedDiff(a, b, { context });
        if (a === b) return;
        expect(applyUnified(a, patch)).toBe(b);
      }),
      { numRuns: 400 },
    );
  });

  const dir = mkdtempSync(join(tmpdir(), 'line-diff-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** GNU diff -u, without its two header lines. */
  const gnu = (a: string, b: string) => {
    writeFileSync(join(dir, 'a'), a);
    writeFileSync(join(dir, 'b'), b);
    try {
      return execFileSync('diff', ['-u', join(dir, 'a'), join(dir, 'b')], { encoding: 'utf8' });
    } catch (err) {
      return (err as { stdout: string }).stdout;
    }
  };
  const body = (patch: string) => patch.split('\n').slice(2).join('\n');

  it.each([
    ['one line changed in the middle', 'a\nb\nc\nd\ne\nf\ng\nh\ni\n', 'a\nb\nc\nd\nX\nf\ng\nh\ni\n'],
    ['a line added at the start', 'b\nc\n', 'a\nb\nc\n'],
    ['every line removed', 'a\nb\n', ''],
    ['a file created', '', 'a\nb\n'],
    ['two changes far apart: two hunks', Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n') + '\n', Array.from({ length: 20 }, (_, i) => (i === 2 || i === 17 ? `X${i}` : `l${i}`)).join('\n') + '\n'],
    ['two changes close together: one hunk', Array.from({ length: 12 }, (_, i) => `l${i}`).join('\n') + '\n', Array.from({ length: 12 }, (_, i) => (i === 3 || i === 8 ? `X${i}` : `l${i}`)).join('\n') + '\n'],
  ])('reads like GNU diff -u: %s', (_, a, b) => {
    expect(body(unifiedDiff(a, b))).toBe(body(gnu(a, b)));
  });
});
