import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { DRAIN_MIN_SECONDS, DRAIN_REFUSE_RESTRICTION, DRAIN_REFUSE_TABLE } from '../../src/postfix/drain';
import {
  makeTestPki,
  requireTool,
  sendWithNodemailer,
  sleep,
  startPostfix,
  startSink,
  stopAllPostfix,
  tempDir,
  waitFor,
  type PostfixInstance,
  type Sink,
  type TestPki,
} from './harness';
import { runDrain } from './load/drain-runner';
import { ensureRefuseTable, mainCfConsultsRefuseTable, refuseTableOverride } from './load/refuse-table';
import { SmtpSession } from './load/session';

/**
 * The preStop drain (drain.sh) on the real Postfix running prod's rendered files: with the relay
 * up it delivers every queued message before it returns; with the relay down it returns at its
 * deadline (short here) and reports what is left; new sessions get 421 while it runs.
 */

const prod = loadEnvironmentFile('environments/prod.yaml');
const sender = `drain@${prod.mail.allowedSenderDomains[0]}`;
const TEST_HEADER = 'X-Drain-Test';

const ready = requireTool('postfix', 'postfix') && requireTool('openssl', 'openssl');
const busyboxReady = ready && requireTool('busybox', 'busybox');

function withDeadline(seconds: number): EnvironmentConfig {
  return { ...prod, queue: { ...prod.queue, drainDeadlineSeconds: seconds } };
}

const queueIdOf = (response: string) => /queued as ([0-9A-Za-z]+)/.exec(response)?.[1];
const testHeaders = (sink: Sink) =>
  sink.messages.map((m) => m.headers.find(([h]) => h === TEST_HEADER.toLowerCase())?.[1] ?? '').sort();

describe.skipIf(!ready)('preStop drain on real Postfix', () => {
  let pki: TestPki;
  let sink: Sink | undefined;

  beforeAll(() => {
    pki = makeTestPki(tempDir('drain-pki-'));
    if (!mainCfConsultsRefuseTable(prod)) {
      console.warn(`*** drain.test: the rendered main.cf does not consult ${DRAIN_REFUSE_TABLE} yet; the test adds "${DRAIN_REFUSE_RESTRICTION}"`);
    }
  });

  // tempDir() cleans up at process exit, which a vitest worker may never reach.
  afterAll(() => {
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await stopAllPostfix();
    await sink?.stop();
    sink = undefined;
  });

  async function start(relay: Sink, env: EnvironmentConfig): Promise<PostfixInstance> {
    const pf = await startPostfix({ env, relay: { port: relay.port }, caFile: pki.caFile, mainCf: refuseTableOverride(env) });
    await ensureRefuseTable(pf);
    return pf;
  }

  async function queueMessages(pf: PostfixInstance, label: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const r = await sendWithNodemailer(pf, { from: sender, to: ['rcpt@example.net'], headers: { [TEST_HEADER]: `${label}-${i}` } });
      expect(r.code, r.response).toBe(250);
      ids.push(queueIdOf(r.response)!);
    }
    await pf.waitForQueue((q) => q.length === count && q.every((e) => e.queue_name === 'deferred'), `${count} deferred messages`);
    return ids;
  }

  it('with Postfix not running, returns at once and lists the queue files', async () => {
    sink = await startSink({ pki, mode: 'down' });
    const env = withDeadline(20);
    const pf = await start(sink, env);
    const ids = await queueMessages(pf, 'stopped', 3);
    execFileSync('postfix', ['-c', pf.configDir, 'stop'], { stdio: 'ignore' });
    await waitFor('the master to exit', () => pf.process.exitCode !== null, { timeoutMs: 15_000 });

    const drain = await runDrain(pf, env);

    expect(drain.code).toBe(0);
    expect(drain.ms).toBeLessThan((DRAIN_MIN_SECONDS - 1) * 1000); // it skipped the minimum wait
    // Without showq the drain reads the queue directories themselves.
    expect(drain.log).toMatch(/Postfix is not running: 3 message\(s\) remain \(0 on hold\)/);
    for (const id of ids) expect(drain.log).toContain(id);
  });

  it(`with the queue empty, returns after its minimum of ${DRAIN_MIN_SECONDS} s`, async () => {
    sink = await startSink({ pki, mode: 'good' });
    const env = withDeadline(20);
    const pf = await start(sink, env);
    const drain = await runDrain(pf, env);
    expect(drain.code).toBe(0);
    // Whole seconds (date +%s): the minimum ends within the second before it.
    expect(drain.ms).toBeGreaterThanOrEqual((DRAIN_MIN_SECONDS - 1) * 1000);
    // Well short of the 20 s deadline; the slack is for a loaded CI machine.
    expect(drain.ms).toBeLessThan((DRAIN_MIN_SECONDS + 8) * 1000);
    expect(drain.log).toMatch(/done after \d+ s: the queue is empty/);
    expect(drain.log).not.toMatch(/warning/);
  });

  it('with the relay up, delivers every queued message before it returns', async () => {
    sink = await startSink({ pki, mode: 'down' });
    const env = withDeadline(30);
    const pf = await start(sink, env);
    await queueMessages(pf, 'up', 20);
    await sink.setMode('good');
    // Deferred mail waits minutes for its next retry: only the drain's flush delivers it now.
    await sleep(500);
    expect(sink.messages).toHaveLength(0);

    const drain = await runDrain(pf, env);

    expect(drain.code).toBe(0);
    expect(drain.ms).toBeLessThan(30_000);
    expect(drain.log).toMatch(/done after \d+ s: the queue is empty, every accepted message was handed to the relay/);
    expect(pf.queue()).toEqual([]);
    expect(testHeaders(sink)).toEqual(Array.from({ length: 20 }, (_, i) => `up-${i}`).sort());
    expect(sink.messages.every((m) => m.tls)).toBe(true);
  });

  it('with the relay down, refuses new and open sessions, completes transactions in flight, returns at its deadline and lists what is left', async () => {
    sink = await startSink({ pki, mode: 'down' });
    const deadline = 8;
    const env = withDeadline(deadline);
    const pf = await start(sink, env);
    const ids = await queueMessages(pf, 'down', 5);
    // Two sessions opened before the pod starts terminating: an idle pooled one, and one in the
    // middle of a transaction (past RCPT, sending DATA).
    const pooled = await SmtpSession.open(pf.port);
    const inFlight = await SmtpSession.open(pf.port);
    for (const [command, code] of [[`MAIL FROM:<${sender}>`, 250], ['RCPT TO:<rcpt@example.net>', 250], ['DATA', 354]] as const) {
      expect((await inFlight.command(command))?.code).toBe(code);
    }

    const running = runDrain(pf, env);
    // The drain refuses mail through a table that smtpd reads after the reload: wait for the
    // reload itself (a loaded machine can take seconds), then for the old processes to cycle.
    await pf.waitForLog(/reload -- version/, 30_000);
    await sleep(2_000);
    // The transaction past RCPT completes: its message is accepted and queued, not lost...
    const completed = await inFlight.command(`${TEST_HEADER}: in-flight\r\nSubject: in flight\r\n\r\nhello\r\n.`);
    expect(completed?.code, completed?.text).toBe(250);
    ids.push(queueIdOf(completed!.text)!);
    // ...the open session's next message is refused with 421 and the session closed...
    const pooledReply = await pooled.send(sender, 'rcpt@example.net', `${TEST_HEADER}: pooled\nSubject: pooled\n\nhello\n`);
    expect(pooledReply?.code, pooledReply?.text).toBe(421);
    expect(pooledReply?.text).toMatch(/shutting down/);
    // ...and so is a new session: the client retries on another pod.
    const fresh = await sendWithNodemailer(pf, { from: sender, to: ['rcpt@example.net'] });
    expect(fresh.code, fresh.response).toBe(421);

    const drain = await running;

    expect(drain.code).toBe(0);
    // The script counts whole seconds (date +%s): it ends within the last second before its deadline.
    expect(drain.ms).toBeGreaterThanOrEqual((deadline - 1) * 1000);
    expect(drain.ms).toBeLessThan((deadline + 8) * 1000); // slack for a loaded CI machine
    expect(drain.log).toMatch(new RegExp(`deadline of ${deadline} s reached: 6 message\\(s\\) remain \\(0 on hold\\)`));
    // prod keeps its queue on a volume: the log says where the mail went.
    expect(drain.log).toMatch(/they stay on this pod's queue volume/);
    for (const id of ids) expect(drain.log).toContain(id);
    // The drain's last flush may still be moving files between active/ and deferred/.
    const left = await pf.waitForQueue((q) => q.length === ids.length && q.every((e) => e.queue_name === 'deferred'), `${ids.length} messages deferred`);
    expect(left.map((e) => e.queue_id).sort()).toEqual([...ids].sort());
    expect(sink.messages).toHaveLength(0);
    expect(pf.log()).not.toMatch(/throttling/);
    pooled.close();
    inFlight.close();
  });

  it.skipIf(!busyboxReady)('runs under BusyBox ash and applets, as on the Alpine image', async () => {
    sink = await startSink({ pki, mode: 'down' });
    const deadline = 6;
    const env = withDeadline(deadline);
    const pf = await start(sink, env);
    const ids = await queueMessages(pf, 'busybox', 2);

    const drain = await runDrain(pf, env, { busybox: true });

    expect(drain.code).toBe(0);
    expect(drain.ms).toBeGreaterThanOrEqual((deadline - 1) * 1000);
    expect(drain.log).toMatch(new RegExp(`deadline of ${deadline} s reached: 2 message\\(s\\) remain`));
    for (const id of ids) expect(drain.log).toContain(id);
    expect((await sendWithNodemailer(pf, { from: sender, to: ['rcpt@example.net'] })).code).toBe(421);
  });
});
