import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { freePort, type PostfixInstance, type Sink } from './harness';
import { useRelay } from './harness/relay-fixture';
import { requireTool } from './harness/tools';

/**
 * Runs the bats suite of scripts/deploy-email-server.sh (test/deploy) against a fresh synth
 * output. The stub kubectl hands `get` to the real kubectl against a test API server over recorded
 * objects, and runs the script's in-pod SMTP check against the real Postfix started here with the
 * prod configuration (relaying to the STARTTLS sink): what reaches the sink is checked afterwards.
 * bats, shellcheck, python3 and Postfix are the real Debian packages.
 */
const ready = requireTool('bats', 'bats') && requireTool('shellcheck', 'shellcheck') && requireTool('python3', 'python3') && requireTool('postfix', 'postfix');
const suite = 'test/deploy/deploy-email-server.bats';

describe.skipIf(!ready)('scripts/deploy-email-server.sh', () => {
  let work: string;
  let sink: Sink;
  let pf: PostfixInstance;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'deploy-script-'));
    execFileSync('npm', ['run', '--silent', 'synth'], { env: { ...process.env, CDK8S_OUTDIR: join(work, 'dist') }, stdio: 'pipe' });
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });
  useRelay(loadEnvironmentFile('environments/prod.yaml'), {}, (r) => ({ sink, pf } = r));

  it('passes every bats test, none skipped; the test messages reach the relay as sent', async () => {
    const closed = await freePort();
    // Asynchronously: the sink and Postfix's TLS client run in this process' event loop.
    const result = await new Promise<{ status: number | null; tap: string }>((resolve) => {
      const child = spawn('bats', ['--tap', suite], {
        env: { ...process.env, DEPLOY_TEST_DIST: join(work, 'dist'), STUB_SMTP_TARGET: `${pf.host}:${pf.port}`, STUB_CLOSED_PORT: String(closed) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let tap = '';
      child.stdout.on('data', (d: Buffer) => (tap += d.toString()));
      child.stderr.on('data', (d: Buffer) => (tap += d.toString()));
      const timer = setTimeout(() => child.kill('SIGTERM'), 330_000);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, tap });
      });
    });
    expect(result.status, result.tap).toBe(0);
    const declared = (readFileSync(suite, 'utf8').match(/^@test /gm) ?? []).length;
    const passed = result.tap.split('\n').filter((l) => /^ok \d+ /.test(l) && !/# skip/.test(l)).length;
    expect(passed, result.tap).toBe(declared);

    // The in-pod script's messages, as delivered onwards by the real relay: the right envelope,
    // and headers a mail system accepts (Date, Message-ID). Refused ones never arrive.
    await waitFor(() => sink.messages.some((m) => m.rcptTo.includes('you@example.com')));
    const to = (address: string) => sink.messages.filter((m) => m.rcptTo.includes(address));
    const defaults = to('relay-test@bionicaisolutions.com');
    expect(defaults.length, pf.log().slice(-2000)).toBeGreaterThan(0);
    for (const m of defaults) expect(m.mailFrom).toBe('relay-test@bionicaisolutions.com');
    const chosen = to('you@example.com');
    expect(chosen).toHaveLength(1);
    expect(chosen[0]!.mailFrom).toBe('ops@bionicaisolutions.com');
    expect(chosen[0]!.rcptTo).toEqual(['you@example.com']);
    for (const m of [...defaults, ...chosen]) {
      const header = (name: string) => m.headers.find(([n]) => n === name)?.[1];
      expect(header('subject')).toBe('email-server relay test');
      expect(header('message-id')).toMatch(/^<.+@relay-test\.bionicaisolutions\.com>$/);
      expect(header('date')).toBeTruthy();
      expect(m.tls).toBe(true);
    }
    for (const refused of ['outside@example.com', 'refused@example.com', 'unreachable@example.com']) expect(to(refused)).toEqual([]);
  }, 360_000);
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the test message at the sink');
    await new Promise((r) => setTimeout(r, 100));
  }
}
