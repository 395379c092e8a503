/**
 * Issue 14, relay.auth: SMTP AUTH to the relay with credentials from a Secret volume, on real
 * Postfix against the STARTTLS sink requiring AUTH (as smtp-relay.gmail.com does with "Require
 * SMTP Authentication"). Proven here: the credentials go only after verified TLS and are right;
 * only PLAIN/LOGIN are used; a relay without STARTTLS or with a wrong certificate never sees AUTH;
 * a refused login (535 5.7.8) keeps the mail queued with the reason in the log and the DSN the
 * alert counts; a rotated Secret is picked up by the running pod (table rebuilt, reload, flush)
 * and the held mail goes; the password never reaches the log, the container output or the
 * ConfigMap files. The entrypoint runs under exactly the pod's capabilities.
 */
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { POSTFIX_CAPABILITIES } from '../../src/postfix';
import { requireTool, sendWithNodemailer, startPostfix, tempDir, waitFor, type PostfixInstance, type Sink } from './harness';
import { useRelay, type RelayFixture } from './harness/relay-fixture';
import type { SinkAuth } from './harness/sink';
import { authTestOverrides, secretVolume } from './support/secret-volume';
import { environmentVariant } from './support/env-variant';
import { hsn723Counts } from '../monitoring/support/hsn723-log';

const ready = requireTool('postfix', 'postfix') && requireTool('openssl', 'openssl') && requireTool('capsh', 'libcap2-bin');

const USER = 'relay@bionicaisolutions.com';
// Spaces and a colon inside: the table format (`host user:password`) must carry them.
const PASSWORD = 'app pass:W0rd-with spaces';
const CAPS = POSTFIX_CAPABILITIES.map((c) => c.name);

const env = environmentVariant('environments/prod.yaml', 'prod-auth', { relay: { auth: { secretName: 'gmail-relay' } } });

/** Every form in which the password could leak: as is, and inside AUTH PLAIN / LOGIN payloads. */
function secretForms(user: string, password: string): string[] {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [password, b64(password), b64(`\0${user}\0${password}`), b64(`${user}\0${user}\0${password}`)];
}

function expectNoSecret(where: string, text: string, password = PASSWORD): void {
  for (const form of secretForms(USER, password)) expect(text.includes(form), `${where} holds the password (as ${JSON.stringify(form)})`).toBe(false);
}

/** A relay fixture whose Postfix reads the credentials from a fresh Secret volume. */
function useAuthRelay(
  sinkOptions: { mode?: Sink['mode']; auth?: SinkAuth },
  secret: Readonly<Record<string, string>>,
  onReady: (r: RelayFixture & { secret: ReturnType<typeof secretVolume> }) => void,
  mainCf: Readonly<Record<string, string>> = {},
) {
  const dir = tempDir();
  const vol = secretVolume(join(dir, 'secret'), secret);
  const overrides = authTestOverrides(env, vol.dir, join(dir, 'sasl'));
  useRelay(
    env,
    { sink: { auth: { username: USER, password: PASSWORD }, ...sinkOptions }, postfix: { ...overrides, mainCf: { ...overrides.mainCf, ...mainCf }, capabilities: CAPS }, clearSinkEachTest: true },
    (r) => onReady({ ...r, secret: vol }),
  );
}

async function sendOne(pf: PostfixInstance, subject: string): Promise<string> {
  const sent = await sendWithNodemailer(pf, { from: 'app@bionicaisolutions.com', to: ['x@example.com'], subject });
  expect(sent.code, sent.response).toBe(250);
  return /queued as ([0-9A-F]+)/.exec(sent.response)![1]!;
}

describe.skipIf(!ready)('relay.auth: the right credentials, only after verified TLS', () => {
  let sink: Sink;
  let pf: PostfixInstance;
  useAuthRelay({}, { username: USER, password: PASSWORD }, (r) => ({ sink, pf } = r));

  it('logs in after STARTTLS with the Secret\'s user and password, and the relay accepts the mail', async () => {
    await sendOne(pf, 'auth ok');
    const [m] = await sink.waitForMessages(1);
    expect(m!.tls).toBe(true);
    expect(m!.authUser).toBe(USER);
    expect(sink.authAttempts.length).toBeGreaterThan(0);
    for (const a of sink.authAttempts) {
      expect(a).toMatchObject({ username: USER, password: PASSWORD, tls: true, accepted: true });
      expect(['PLAIN', 'LOGIN']).toContain(a.method);
    }
    expect(sink.mailFroms.every((f) => f.tls)).toBe(true);
  });

  it('keeps the SASL table root-only (0600) and out of the ConfigMap, the log and the container output', async () => {
    const table = pf.files['main.cf'].match(/^smtp_sasl_password_maps = texthash:(\S+)$/m)![1]!;
    const st = statSync(table);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(0);
    expect(statSync(join(table, '..')).mode & 0o777).toBe(0o700);
    expect(readFileSync(table, 'utf8')).toBe(`[127.0.0.1]:${sink.port} ${USER}:${PASSWORD}\n`);
    for (const [name, text] of Object.entries(pf.files)) expectNoSecret(`ConfigMap key ${name}`, text);
    expectNoSecret('the Postfix log', pf.log());
    expectNoSecret('the container stdout', pf.output.stdout);
    expectNoSecret('the container stderr', pf.output.stderr);
    expect(pf.files['main.cf']).not.toContain(USER);
  });
});

describe.skipIf(!ready)('relay.auth: only PLAIN or LOGIN', () => {
  let sink: Sink;
  let pf: PostfixInstance;
  useAuthRelay({ auth: { username: USER, password: PASSWORD, methods: ['CRAM-MD5', 'PLAIN', 'LOGIN'] } }, { username: USER, password: PASSWORD }, (r) => ({ sink, pf } = r));

  it('uses PLAIN or LOGIN although the relay offers CRAM-MD5 first', async () => {
    await sendOne(pf, 'mechanism');
    await sink.waitForMessages(1);
    expect(sink.authAttempts.map((a) => a.method).every((m) => m === 'PLAIN' || m === 'LOGIN')).toBe(true);
  });
});

describe.skipIf(!ready)('relay.auth: the test above can tell (no mechanism filter)', () => {
  let sink: Sink;
  let pf: PostfixInstance;
  useAuthRelay(
    { auth: { username: USER, password: PASSWORD, methods: ['CRAM-MD5', 'PLAIN', 'LOGIN'] } },
    { username: USER, password: PASSWORD },
    (r) => ({ sink, pf } = r),
    { smtp_sasl_mechanism_filter: '' },
  );

  it('without smtp_sasl_mechanism_filter Postfix WOULD pick CRAM-MD5', async () => {
    await sendOne(pf, 'no filter');
    await sink.waitForMessages(1);
    expect(sink.authAttempts.map((a) => a.method)).toContain('CRAM-MD5');
  });
});

describe.skipIf(!ready)('relay.auth: no AUTH to a relay that is not verified', () => {
  let sink: Sink;
  let pf: PostfixInstance;
  useAuthRelay({ mode: 'down' }, { username: USER, password: PASSWORD }, (r) => ({ sink, pf } = r));

  it.each([
    ['no-starttls', /TLS is required, but was not offered/],
    ['wrong-name', /Server certificate not verified/],
    ['self-signed', /Server certificate not verified/],
  ] as const)('a relay with %s (AUTH offered) never sees AUTH; the mail stays queued, then goes to the good relay', async (mode, reason) => {
    await sink.setMode(mode);
    sink.clear();
    const id = await sendOne(pf, `unverified ${mode}`);
    const [entry] = await pf.waitForQueue((q) => q.some((e) => e.queue_id === id && e.queue_name === 'deferred'), `${id} deferred`);
    expect(entry!.recipients[0]!.delay_reason).toMatch(reason);
    expect(sink.connections).toBeGreaterThan(0);
    expect(sink.authAttempts).toEqual([]);
    expect(sink.mailFroms).toEqual([]);

    await sink.setMode('good');
    pf.flush();
    await sink.waitForMessages(1);
    expect(sink.authAttempts.every((a) => a.tls && a.accepted)).toBe(true);
    await pf.waitForQueue((q) => q.length === 0, 'an empty queue');
  });
});

describe.skipIf(!ready)('relay.auth: no password in clear even if TLS were made optional', () => {
  // smtp_tls_security_level = may is refused by the schema; forced here, smtp_sasl_security_options
  // (noplaintext outside TLS) is what still keeps PLAIN/LOGIN off a clear-text session.
  let sink: Sink;
  let pf: PostfixInstance;
  useAuthRelay({ mode: 'no-starttls' }, { username: USER, password: PASSWORD }, (r) => ({ sink, pf } = r), { smtp_tls_security_level: 'may' });

  it('sends no AUTH to a relay that offers it in clear', async () => {
    const id = await sendOne(pf, 'clear');
    await pf.waitForQueue((q) => q.some((e) => e.queue_id === id && e.queue_name === 'deferred'), `${id} deferred`);
    expect(sink.connections).toBeGreaterThan(0);
    expect(sink.authAttempts).toEqual([]);
    await pf.waitForLog(/SASL authentication failed; cannot authenticate to server 127\.0\.0\.1\[127\.0\.0\.1\]: no mechanism available/);
  });
});

describe.skipIf(!ready)('relay.auth: the test above can tell (plaintext allowed outside TLS)', () => {
  let sink: Sink;
  let pf: PostfixInstance;
  useAuthRelay({ mode: 'no-starttls' }, { username: USER, password: PASSWORD }, (r) => ({ sink, pf } = r), {
    smtp_tls_security_level: 'may',
    smtp_sasl_security_options: 'noanonymous',
  });

  it('with smtp_sasl_security_options = noanonymous the password WOULD go in clear', async () => {
    await sendOne(pf, 'clear, unguarded');
    await sink.waitForMessages(1);
    expect(sink.authAttempts.some((a) => !a.tls && a.password === PASSWORD)).toBe(true);
  });
});

describe.skipIf(!ready)('relay.auth: a refused login keeps the mail; a rotated Secret releases it', () => {
  const WRONG = 'an old password';
  let sink: Sink;
  let pf: PostfixInstance;
  let secret: ReturnType<typeof secretVolume>;
  useAuthRelay({}, { username: USER, password: WRONG }, (r) => ({ sink, pf, secret } = r));

  it('535 5.7.8: deferred (never bounced), the log says why, the DSN is the one the alert counts', async () => {
    const id = await sendOne(pf, 'wrong password');
    const [entry] = await pf.waitForQueue((q) => q.some((e) => e.queue_id === id && e.queue_name === 'deferred'), `${id} deferred`);
    expect(entry!.recipients[0]!.delay_reason).toMatch(/SASL authentication failed; server 127\.0\.0\.1\[127\.0\.0\.1\] said: 535 5\.7\.8 Username and Password not accepted/);
    expect(sink.authAttempts.length).toBeGreaterThan(0);
    expect(sink.authAttempts.every((a) => a.tls && !a.accepted && a.password === WRONG)).toBe(true);
    expect(sink.messages).toEqual([]);
    const line = await pf.waitForLog(new RegExp(`postfix/smtp\\[\\d+\\]: ${id}: to=<x@example\\.com>.*dsn=4\\.7\\.8, status=deferred \\(SASL authentication failed.*535 5\\.7\\.8.*`));
    expect(line).toContain('status=deferred');
    expect(pf.log()).not.toMatch(/status=bounced/);
    // What Hsn723's exporter counts from that log: the alert's series.
    expect(hsn723Counts(pf.log()).deferredByDsn['4.7.8']).toBeGreaterThan(0);
    expectNoSecret('the Postfix log', pf.log(), WRONG);
  });

  it('a changed Secret is picked up by the running relay: table rebuilt, reload, deferred mail retried at once', async () => {
    expect(pf.queue().length).toBe(1); // the message of the test above, still held
    const before = Date.now();
    secret.update({ username: USER, password: PASSWORD });
    const [m] = await sink.waitForMessages(1, 40_000);
    expect(m!.authUser).toBe(USER);
    expect(Date.now() - before).toBeLessThan(35_000); // the watch runs every 10 s; no 5-minute backoff
    expect(pf.output.stderr).toMatch(/relay\.auth: the credentials in \S+ changed: SASL table rebuilt, reloading Postfix and retrying deferred mail/);
    await pf.waitForQueue((q) => q.length === 0, 'an empty queue');
    expect(pf.masterPid()).toBeDefined(); // the same pod: no restart was needed
    expectNoSecret('the container stderr', pf.output.stderr);
  });

  it('an unusable new Secret keeps the working credentials and says why', async () => {
    secret.update({ username: USER, password: 'two\nlines' });
    await waitFor('the refusal of the new credentials', () => /the changed credentials in \S+ are not usable/.test(pf.output.stderr), { timeoutMs: 30_000 });
    expect(pf.output.stderr).toMatch(/the password \(key "password"\) is empty, spans lines or starts or ends with white space/);
    await sendOne(pf, 'after a bad rotation');
    const [m] = await sink.waitForMessages(1);
    expect(m!.authUser).toBe(USER);
  });
});

describe.skipIf(!ready || !requireTool('busybox', 'busybox'))('relay.auth under BusyBox (the Alpine image\'s shell and applets)', () => {
  let sink: Sink;
  let pf: PostfixInstance;
  const dir = tempDir();
  const secret = secretVolume(join(dir, 'secret'), { username: USER, password: 'stale password' });
  const overrides = authTestOverrides(env, secret.dir, join(dir, 'sasl'));
  useRelay(env, { sink: { auth: { username: USER, password: PASSWORD } }, postfix: { ...overrides, busybox: true, capabilities: CAPS } }, (r) => ({ sink, pf } = r));

  it('builds the table, notices the rotated Secret and delivers with the new credentials', async () => {
    const id = await sendOne(pf, 'busybox');
    await pf.waitForQueue((q) => q.some((e) => e.queue_id === id && e.queue_name === 'deferred'), `${id} deferred`);
    secret.update({ username: USER, password: PASSWORD });
    const [m] = await sink.waitForMessages(1, 40_000);
    expect(m!.authUser).toBe(USER);
    expect(pf.output.stderr).toMatch(/relay\.auth: the credentials in \S+ changed/);
  });
});

describe.skipIf(!ready)('relay.auth: a Secret without the keys stops the container at start', () => {
  it('exits non-zero naming the missing key, before Postfix starts', async () => {
    const dir = tempDir();
    const vol = secretVolume(join(dir, 'secret'), { username: USER });
    const overrides = authTestOverrides(env, vol.dir, join(dir, 'sasl'));
    const pf = await startPostfix({ env, ...overrides, noWait: true, capabilities: CAPS });
    const code = await pf.exited;
    expect(code).toBe(1);
    expect(pf.output.stderr).toMatch(/relay\.auth: \S+\/password is missing: Secret "gmail-relay" needs the keys "username" and "password"/);
    expect(pf.output.stderr).toMatch(/FATAL: relay\.auth: no usable credentials/);
    expect(pf.masterPid()).toBeUndefined();
    await pf.stop(1_000);
  });
});
