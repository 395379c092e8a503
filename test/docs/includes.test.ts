import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedDocs, includeBlocks, INCLUDING_DOCS } from '../../scripts/gen-docs';
import { read, ROOT } from './markdown';

const EXAMPLES_DIR = 'docs/examples';
/** Manifests and lockfiles: part of an example's folder, not shown in the guide. */
const MANIFESTS = new Set(['package.json', 'package-lock.json', 'go.mod', 'requirements.txt']);
/** The example programs: docs/examples/<language>/<file>. */
const exampleFiles = () =>
  readdirSync(join(ROOT, EXAMPLES_DIR), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? readdirSync(join(ROOT, EXAMPLES_DIR, d.name)).map((f) => `${EXAMPLES_DIR}/${d.name}/${f}`) : [`${EXAMPLES_DIR}/${d.name}`],
  );
const programs = () => exampleFiles().filter((f) => !MANIFESTS.has(f.slice(f.lastIndexOf('/') + 1)));

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
    expect(programs().sort()).toEqual([...included].sort());
  });

  it('covers the four languages the user asked for', () => {
    expect(programs().sort()).toEqual(['docs/examples/go/send.go', 'docs/examples/java/Send.java', 'docs/examples/node/send.mjs', 'docs/examples/python/send.py']);
  });

  it('each example reads the same variables and defaults to the prod Service', () => {
    for (const f of programs()) {
      const code = read(f);
      for (const v of ['SMTP_HOST', 'SMTP_PORT', 'MAIL_FROM', 'MAIL_TO']) expect(code, `${f} reads ${v}`).toContain(v);
      expect(code, f).toContain('postfix-relay.email-server-prod.svc.cluster.local');
      expect(code, f).toMatch(/["']25["']/);
    }
  });

  it('each example has its own folder and runs from it; Node and Go bring their own manifest', () => {
    // Every file sits in a language folder: nothing an example installs lands in the project.
    for (const f of exampleFiles()) expect(f, f).toMatch(/^docs\/examples\/[a-z]+\/[^/]+$/);
    const node = JSON.parse(readFileSync(join(ROOT, EXAMPLES_DIR, 'node', 'package.json'), 'utf8')) as { private?: boolean; dependencies: Record<string, string> };
    expect(node.private).toBe(true);
    // Pinned exactly, and the lockfile agrees.
    expect(node.dependencies.nodemailer).toMatch(/^\d+\.\d+\.\d+$/);
    const lock = JSON.parse(readFileSync(join(ROOT, EXAMPLES_DIR, 'node', 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dependencies?: Record<string, string> }> };
    expect(lock.packages['']!.dependencies).toEqual(node.dependencies);
    expect(lock.packages['node_modules/nodemailer']!.version).toBe(node.dependencies.nodemailer);
    expect(read(`${EXAMPLES_DIR}/go/go.mod`)).toMatch(/^module \S+\n\ngo 1\.\d+\n$/);
    // The guide's run lines change into the example's folder first.
    const usage = read('docs/EMAIL-SERVER-USAGE.md');
    const runLines = usage.split('\n').filter((l) => l.startsWith('Run') || l.startsWith('`cd docs/examples'));
    for (const lang of ['python', 'node', 'java', 'go']) expect(runLines.join('\n'), lang).toContain(`cd docs/examples/${lang} && `);
    expect(usage).not.toMatch(/npm install nodemailer/);
  });
});
