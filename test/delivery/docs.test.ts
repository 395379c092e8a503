import { existsSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/delivery/cli';
import { anchors, codeSpans, fences, links, read, ROOT } from '../docs/markdown';
import { distFiles } from '../docs/synthesized';

/**
 * The delivery docs say what the commands do, with the commands and options they have: every
 * `npm run diff | gitops-publish | package` written in them parses, every link resolves, and the
 * advice they replaced (rsync then commit; one aggregate of every Application) is gone.
 */
const DOCS = ['docs/DELIVERY.md', 'README-EMAIL-SERVER.md', 'docs/EMAIL-SERVER-SETUP.md'];
const code = (text: string) => [...codeSpans(text), ...fences(text).map((f) => f.code)].join('\n');

describe.each(DOCS)('%s', (doc) => {
  const text = read(doc);

  it('every relative link points at an existing file and heading', () => {
    const broken: string[] = [];
    for (const target of links(text)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path = '', anchor] = target.split('#');
      const file = path ? normalize(join(dirname(doc), path)) : doc;
      if (!existsSync(join(ROOT, file))) broken.push(`${target} (no file ${file})`);
      else if (anchor && file.endsWith('.md') && !anchors(read(file)).has(anchor)) broken.push(`${target} (no heading #${anchor} in ${file})`);
    }
    expect(broken).toEqual([]);
  });

  it('every delivery command it shows has the options it is given', () => {
    const calls = [...code(text).matchAll(/npm run (?:--silent )?(diff|gitops-publish|package)\b(?: -- ([^\n`|;&]*))?/g)];
    for (const [whole, name, args] of calls) {
      const options = Object.keys(COMMANDS[name!]!.options);
      for (const [, option] of (args ?? '').matchAll(/--([a-z][a-z-]*)/g)) expect(options, whole).toContain(option);
    }
  });

  it('no longer gives the old advice', () => {
    expect(text).not.toMatch(/rsync/);
    // The aggregate of every Application is gone: no command to copy applies dist/argocd as a whole.
    expect(fences(text).map((f) => f.code).join('\n')).not.toMatch(/dist\/argocd\/?(\s|$)/);
    expect(text).not.toMatch(/apply -k dist\/argocd/);
  });
});

describe('one documented way to install the Argo CD Applications (issue 16.5)', () => {
  it('the setup guide and DELIVERY.md give the same command: one environment\'s folder, in that environment\'s cluster', () => {
    for (const doc of ['docs/DELIVERY.md', 'docs/EMAIL-SERVER-SETUP.md', 'README-EMAIL-SERVER.md']) {
      const installs = [...read(doc).matchAll(/kubectl[^`\n]*apply[^`\n]*dist\/argocd[^`\n]*/g)].map((m) => m[0].trim());
      expect(installs.length, doc).toBeGreaterThan(0);
      for (const command of installs) {
        // `kubectl apply -f dist/argocd` as a whole appears only where the docs say it applies nothing.
        if (/apply -f dist\/argocd$/.test(command)) continue;
        expect(command, doc).toMatch(/^kubectl --context <[^>]+> apply -f dist\/argocd\/(<env>|prod)\/$/);
      }
    }
  });
});

describe('docs/DELIVERY.md', () => {
  const text = read('docs/DELIVERY.md');

  it('documents every option of each delivery command, and the usage text does too', () => {
    for (const [name, command] of Object.entries(COMMANDS)) {
      for (const option of Object.keys(command.options)) {
        expect(text, `${name} --${option}`).toContain(`--${option}`);
        expect(command.usage, `${name} --${option}`).toContain(`--${option}`);
      }
    }
  });

  it('the Application it tells each cluster to apply exists, one per environment', () => {
    const files = distFiles();
    for (const env of ['dev', 'staging', 'prod']) expect(files).toContain(`argocd/${env}/application-email-server-${env}.yaml`);
    expect(files.filter((f) => /^argocd\/[^/]+$/.test(f))).toEqual([]);
  });

  it('names the exit statuses the commands have', () => {
    expect(text).toContain('**0** no difference, **1** differences, **2** error');
    expect(COMMANDS.diff!.usage).toContain('Exit status: 0 no difference, 1 differences, 2 error.');
  });
});
