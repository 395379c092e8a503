import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedDocs, includeBlocks, INCLUDING_DOCS } from '../../scripts/gen-docs';
import { read, ROOT } from './markdown';

const EXAMPLES_DIR = 'docs/examples';

describe('example code in the guides is the code that CI runs', () => {
  for (const doc of INCLUDING_DOCS) {
    it(`${doc}: every include block shows its file verbatim`, () => {
      const blocks = includeBlocks(read(doc));
      expect(blocks.length).toBeGreaterThan(0);
      for (const { path, shown } of blocks) {
        expect(shown, `${doc}: the block for ${path} differs from the file: run \`npm run docs\``).toBe(read(path));
      }
    });

    it(`${doc}: is what \`npm run docs\` would write`, () => {
      expect(read(doc)).toBe(generatedDocs(ROOT)[doc]);
    });
  }

  it('every example file is included in the usage guide', () => {
    const included = new Set(INCLUDING_DOCS.flatMap((doc) => includeBlocks(read(doc)).map((b) => b.path)));
    const files = readdirSync(join(ROOT, EXAMPLES_DIR)).map((f) => `${EXAMPLES_DIR}/${f}`);
    expect(files.sort()).toEqual([...included].sort());
  });

  it('covers the four languages the user asked for', () => {
    const files = readdirSync(join(ROOT, EXAMPLES_DIR));
    expect(files).toEqual(expect.arrayContaining(['send.py', 'send.mjs', 'Send.java', 'send.go']));
  });

  it('each example reads the same variables and defaults to the prod Service', () => {
    for (const f of readdirSync(join(ROOT, EXAMPLES_DIR))) {
      const code = read(`${EXAMPLES_DIR}/${f}`);
      for (const v of ['SMTP_HOST', 'SMTP_PORT', 'MAIL_FROM', 'MAIL_TO']) expect(code, `${f} reads ${v}`).toContain(v);
      expect(code, f).toContain('postfix-relay.email-server-prod.svc.cluster.local');
      expect(code, f).toMatch(/["']25["']/);
    }
  });
});
