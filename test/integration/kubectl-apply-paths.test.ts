/**
 * What README-EMAIL-SERVER.md's design-differences table and docs/DELIVERY.md say about the
 * apply command, checked with the real kubectl (from the pinned npm layer, offline): `-f dist`
 * reads nothing, `-R -f dist` stops on the Helm chart files, `-f dist/<env>/` reads exactly that
 * environment's objects. No cluster is needed: the server is a closed port on 127.0.0.1, so
 * kubectl gets as far as reading and decoding the files, and stops at the first API call.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, tempDir } from './harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { toolPath } = require('../../scripts/real-tools.cjs') as { toolPath: (tool: string) => string };

describe('kubectl apply on the synthesized dist/', () => {
  let work: string;
  let kubectl: string;
  let server: string;
  beforeAll(async () => {
    kubectl = toolPath('kubectl');
    work = tempDir('kubectl-apply-paths-');
    execFileSync('npm', ['run', '--silent', 'synth'], { env: { ...process.env, CDK8S_OUTDIR: join(work, 'dist') }, stdio: 'pipe' });
    server = `http://127.0.0.1:${await freePort()}`;
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const apply = (...args: string[]) => {
    const r = spawnSync(kubectl, ['apply', ...args, '--dry-run=client', '--validate=false', `--server=${server}`, '--request-timeout=5s'], {
      cwd: work,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, KUBECONFIG: join(work, 'no-kubeconfig') },
    });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  };

  it('`kubectl apply -f dist` fails: dist/ holds only folders', () => {
    const r = apply('-f', 'dist');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('error reading [dist]: recognized file extensions are [.json .yaml .yml]');
  });

  it('`kubectl apply -R -f dist` trips over the Helm chart files', () => {
    const r = apply('-R', '-f', 'dist');
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/unable to decode "dist\/helm\/email-server-prod\/Chart\.yaml": Object 'Kind' is missing/);
    expect(r.output).toMatch(/unable to decode "dist\/helm\/email-server-prod\/values\.yaml"/);
    expect(r.output).toMatch(/error parsing dist\/helm\/email-server-prod\/templates\/[^:]+: /);
    // ... and reaches for every environment and the Argo CD Applications at once.
    for (const folder of ['dev', 'staging', 'prod', 'argocd']) expect(r.output).toContain(`"dist/${folder}/`);
  });

  it('`kubectl apply -f dist/prod/` reads every object file of prod, and nothing else', () => {
    const r = apply('-f', 'dist/prod/');
    const files = readdirSync(join(work, 'dist', 'prod')).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(files.length).toBeGreaterThan(8);
    // Every file decoded; each stops only at the (closed) API server.
    expect(r.output).not.toMatch(/unable to decode|error parsing/);
    const reached = [...r.output.matchAll(/unable to recognize "dist\/prod\/([^"]+)"/g)].map((m) => m[1]).sort();
    expect(reached).toEqual(files.sort());
    expect(r.output).not.toMatch(/"dist\/(dev|staging|helm|argocd)\//);
  });
});
