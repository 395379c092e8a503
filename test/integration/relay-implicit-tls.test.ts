/**
 * Issue 14, relay.port 465: Postfix speaks TLS from the first byte (smtp_tls_wrappermode) to a
 * TLS-on-connect sink, and still verifies its certificate: a wrong name or a self-signed
 * certificate gets nothing. With relay.auth the login goes over that TLS. TLS connection reuse
 * (tlsproxy, on by default) works in this mode too.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireTool, sendWithNodemailer, tempDir, type PostfixInstance, type Sink } from './harness';
import { useRelay } from './harness/relay-fixture';
import { authTestOverrides, secretVolume } from './support/secret-volume';
import { environmentVariant } from './support/env-variant';

const ready = requireTool('postfix', 'postfix') && requireTool('openssl', 'openssl');

const env = environmentVariant('environments/prod.yaml', 'prod-465', { relay: { port: 465 } });

async function sendOne(pf: PostfixInstance, subject: string): Promise<string> {
  const sent = await sendWithNodemailer(pf, { from: 'a@bionicaisolutions.com', to: ['x@example.com'], subject });
  expect(sent.code, sent.response).toBe(250);
  return /queued as ([0-9A-F]+)/.exec(sent.response)![1]!;
}

describe.skipIf(!ready)('relay.port 465: TLS on connect, verified', () => {
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(env, { sink: { implicitTls: true, mode: 'down' } }, (r) => ({ sink, pf } = r));

  it('renders smtp_tls_wrappermode = yes at level secure', () => {
    expect(pf.files['main.cf']).toMatch(/^smtp_tls_wrappermode = yes$/m);
    expect(pf.files['main.cf']).toMatch(/^smtp_tls_security_level = secure$/m);
  });

  it.each([
    ['wrong-name', /Server certificate not verified/],
    ['self-signed', /Server certificate not verified/],
  ] as const)('a TLS-on-connect relay with a %s certificate gets nothing; the mail waits, then goes to the good one', async (mode, reason) => {
    await sink.setMode(mode);
    sink.clear();
    const id = await sendOne(pf, `465 ${mode}`);
    const [entry] = await pf.waitForQueue((q) => q.some((e) => e.queue_id === id && e.queue_name === 'deferred'), `${id} deferred`);
    expect(entry!.recipients[0]!.delay_reason).toMatch(reason);
    expect(sink.connections).toBeGreaterThan(0);
    expect(sink.mailFroms).toEqual([]);

    await sink.setMode('good');
    pf.flush();
    const [m] = await sink.waitForMessages(1);
    expect(m!.tls).toBe(true);
    await pf.waitForQueue((q) => q.length === 0, 'an empty queue');
    expect(pf.log()).toMatch(/Verified TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:\d+/);
  });

  it('delivers a burst through tlsproxy (smtp_tls_connection_reuse)', async () => {
    await sink.setMode('good');
    sink.clear();
    for (let i = 0; i < 5; i++) await sendOne(pf, `465 burst ${i}`);
    await sink.waitForMessages(5);
    expect(sink.messages.every((m) => m.tls)).toBe(true);
    // smtp_tls_connection_reuse hands the wrapped TLS to tlsproxy, which verifies it too.
    expect(pf.log()).toMatch(/postfix\/tlsproxy\[\d+\]: Verified TLS connection established to 127\.0\.0\.1/);
    await pf.waitForQueue((q) => q.length === 0, 'an empty queue');
  });
});

describe.skipIf(!ready)('relay.port 465: the tests above can tell', () => {
  let sink: Sink;
  let pf: PostfixInstance;
  // Without wrappermode Postfix waits for a greeting the TLS listener never sends.
  useRelay(env, { sink: { implicitTls: true }, postfix: { mainCf: { smtp_tls_wrappermode: 'no', smtp_helo_timeout: '3s' } } }, (r) => ({ sink, pf } = r));

  it('without wrappermode Postfix cannot talk to the TLS-on-connect relay at all', async () => {
    const id = await sendOne(pf, 'no wrappermode');
    const [entry] = await pf.waitForQueue((q) => q.some((e) => e.queue_id === id && e.queue_name === 'deferred'), `${id} deferred`, 30_000);
    expect(entry!.recipients[0]!.delay_reason).toMatch(/timed out while receiving the initial server greeting/);
    expect(sink.messages).toEqual([]);
  });
});

describe.skipIf(!ready)('relay.port 465 with relay.auth', () => {
  const authEnv = environmentVariant('environments/prod.yaml', 'prod-465-auth', { relay: { port: 465, auth: { secretName: 'gmail-relay' } } });
  const dir = tempDir();
  const vol = secretVolume(join(dir, 'secret'), { username: 'relay@bionicaisolutions.com', password: 'app-password' });
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(
    authEnv,
    { sink: { implicitTls: true, auth: { username: 'relay@bionicaisolutions.com', password: 'app-password' } }, postfix: authTestOverrides(authEnv, vol.dir, join(dir, 'sasl')) },
    (r) => ({ sink, pf } = r),
  );

  it('logs in over the TLS of the connection', async () => {
    await sendOne(pf, '465 auth');
    const [m] = await sink.waitForMessages(1);
    expect(m!.authUser).toBe('relay@bionicaisolutions.com');
    expect(sink.authAttempts.length).toBeGreaterThan(0);
    expect(sink.authAttempts.every((a) => a.tls && a.accepted)).toBe(true);
  });
});
