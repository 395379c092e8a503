import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { read, ROOT } from './markdown';

/**
 * Commands the documentation shows must work as shown (issue 16, items 3 and 4):
 * - `kubectl apply` is given one environment's folder, `dist/<env>/`: `-f dist` fails (dist/ holds
 *   only folders) and `-R -f dist` trips over the Helm chart files (test/integration/kubectl-apply-paths.test.ts
 *   runs the real kubectl on both).
 * - the cdk8s CLI is run without its upgrade check (a registry request that waits when offline).
 */

/** Every file a user reads a command from: the Markdown docs, cdk8s.yaml, the scripts, and src/ (messages, generated text). */
function files(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir)).flatMap((name) => {
      const path = join(dir, name);
      return statSync(join(ROOT, path)).isDirectory() ? walk(path) : [path];
    });
  return [
    ...readdirSync(ROOT).filter((f) => f.endsWith('.md')),
    'cdk8s.yaml',
    ...walk('docs').filter((f) => f.endsWith('.md')),
    ...walk('scripts').filter((f) => /\.(sh|cjs|ts)$/.test(f)),
    ...walk('src').filter((f) => f.endsWith('.ts')),
  ];
}

/**
 * The `kubectl apply` commands in a text (up to the end of the line, a backtick, a quote or a
 * parenthesis), except in a paragraph (or table row) that says the command fails: the docs name
 * the wrong forms to explain why not.
 */
export function applyCommands(text: string): string[] {
  return text
    .split(/\n\s*\n|\n(?=\|)/)
    .filter((paragraph) => !/\bfails?\b/.test(paragraph))
    .flatMap((paragraph) => [...paragraph.matchAll(/kubectl(?:\s+-n\s+\S+)?\s+apply\b[^`\n"')]*/g)].map((m) => m[0].trim()));
}

/** Why an apply command is wrong, or undefined. */
export function applyProblem(command: string): string | undefined {
  const words = command.split(/\s+/);
  if (words.includes('-R') || words.includes('--recursive')) return 'uses -R (it trips over the Helm chart files in dist/helm/)';
  for (let i = 0; i < words.length; i++) {
    const target = words[i] === '-f' || words[i] === '--filename' ? words[i + 1] : /^--filename=(.*)$/.exec(words[i]!)?.[1];
    if (target === undefined) continue;
    if (/^(\.\/)?dist\/?$/.test(target)) return 'applies dist (it holds only folders): use dist/<env>/';
    if (/^(\.\/)?dist\/[^/]+$/.test(target) && !/\.(ya?ml|json)$/.test(target)) return `names the folder ${target} without its trailing slash: write ${target}/`;
  }
  return undefined;
}

describe('kubectl apply commands in the docs and messages', () => {
  const found = files().flatMap((file) => applyCommands(read(file)).map((command) => ({ file, command })));

  it('finds the commands (the README, the setup guide, DELIVERY.md, the deploy script)', () => {
    const where = new Set(found.map((f) => f.file));
    for (const file of ['README-EMAIL-SERVER.md', 'docs/EMAIL-SERVER-SETUP.md', 'docs/DELIVERY.md', 'scripts/deploy-email-server.sh']) expect(where).toContain(file);
  });

  it('every one applies one environment folder, dist/<env>/, never dist or -R', () => {
    expect(found.map((f) => ({ ...f, problem: applyProblem(f.command) })).filter((f) => f.problem)).toEqual([]);
  });

  it('the check itself refuses the forms that fail', () => {
    expect(applyProblem('kubectl apply -f dist')).toMatch(/holds only folders/);
    expect(applyProblem('kubectl apply -f dist/')).toMatch(/holds only folders/);
    expect(applyProblem('kubectl apply -R -f dist')).toMatch(/-R/);
    expect(applyProblem('kubectl apply -f dist/prod')).toMatch(/trailing slash/);
    expect(applyProblem('kubectl apply --dry-run=server -f dist/<env>')).toMatch(/trailing slash/);
    expect(applyProblem('kubectl apply -f dist/prod/')).toBeUndefined();
    expect(applyProblem('kubectl apply -f dist/prod/00-namespace-email-server-prod.yaml')).toBeUndefined();
    expect(applyProblem('kubectl apply -k dist/prod')).toBeUndefined();
  });

  it('the design-differences table says why (-f dist holds folders, -R trips over the Helm chart)', () => {
    const table = read('README-EMAIL-SERVER.md').split('## Where this differs from the original design document')[1]!.split('\n## ')[0]!;
    const row = table.split('\n').find((line) => line.includes('`kubectl apply -f dist`'));
    expect(row).toBeDefined();
    expect(row).toContain('recognized file extensions are [.json .yaml .yml]');
    expect(row).toContain('`-R -f dist`');
    expect(row).toContain('dist/helm/');
    expect(row).toContain('`kubectl apply -f dist/<env>/`');
  });
});

describe('the cdk8s CLI as the docs show it', () => {
  it('every `cdk8s synth` or `cdk8s import` command turns the upgrade check off', () => {
    const commands = files()
      // PERFORMANCE.md names the bench's command (bench/synth.ts runs it with --no-check-upgrade).
      .filter((f) => f !== 'docs/PERFORMANCE.md')
      .flatMap((file) =>
        read(file)
          .split('\n')
          .filter((line) => /\bcdk8s (synth|import)\b/.test(line) && /(npx\s+|^\s*)cdk8s (synth|import)/.test(line) && !/^\s*(\/\/|\*|#) *`cdk8s synth` runs/.test(line))
          .map((line) => ({ file: relative('.', file), line: line.trim() })),
      );
    expect(commands.length).toBeGreaterThan(0);
    expect(commands.filter((c) => !/CDK8S_CHECK_UPGRADE=false|--no-check-upgrade/.test(c.line))).toEqual([]);
  });

  it('cdk8s.yaml says how (it cannot turn the check off itself)', () => {
    expect(readFileSync(join(ROOT, 'cdk8s.yaml'), 'utf8')).toContain('CDK8S_CHECK_UPGRADE=false npx cdk8s synth');
  });
});
