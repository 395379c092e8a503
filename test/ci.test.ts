import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCI } from './ci';

describe('isCI', () => {
  it.each(['true', 'TRUE', '1', 'yes', 'github-actions', 'woodpecker', ' true '])('CI=%j is CI', (value) => {
    expect(isCI({ CI: value })).toBe(true);
  });

  it.each([undefined, '', '  ', 'false', 'False', '0'])('CI=%j is not', (value) => {
    expect(isCI(value === undefined ? {} : { CI: value })).toBe(false);
  });

  it('is the only place the tests read CI', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? files(path) : /\.(ts|mjs|cjs|js)$/.test(name) ? [path] : [];
      });
    // Reads only: tests of the helper set and delete CI.
    const reads = (text: string) => text.replace(/delete process\.env\.CI\b|process\.env\.CI\s*=(?!=)/g, '').match(/process\.env\.CI\b|env\[['"]CI['"]\]/);
    const readers = files(__dirname).filter((f) => f !== join(__dirname, 'ci.ts') && reads(readFileSync(f, 'utf8')));
    expect(readers, 'use isCI() from test/ci.ts').toEqual([]);
  });
});
