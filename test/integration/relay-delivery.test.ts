import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { requireTool, sendWithNodemailer, swaks, type PostfixInstance, type Sink } from './harness';
import { useRelay } from './harness/relay-fixture';

// Issue 3, test 3.1: mail from an allowed domain reaches the relay over verified TLS, with the
// configured HELO name and its headers intact. Runs the rendered prod files in a real Postfix.

const ready = requireTool('postfix', 'postfix') && requireTool('swaks', 'swaks') && requireTool('openssl', 'openssl');

describe.skipIf(!ready)('delivery through the relay (prod)', () => {
  const env = loadEnvironmentFile('environments/prod.yaml');
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(env, { clearSinkEachTest: true }, (r) => ({ sink, pf } = r));

  it('delivers over verified TLS with the configured HELO name, envelope and headers intact (nodemailer)', async () => {
    const text = 'line one\n.a line that starts with a dot\nlast line: café ✓\n';
    const sent = await sendWithNodemailer(pf, {
      from: 'Alerts <alerts@bionicaisolutions.com>',
      to: ['someone@example.com', 'other@example.net'],
      subject: 'Quarterly report — ünïcödé',
      text,
      headers: { 'X-Trace-Id': 'trace-3.1', 'Reply-To': 'team@bionicaisolutions.com' },
    });
    expect(sent.code, sent.response).toBe(250);

    const [m] = await sink.waitForMessages(1);
    expect(m!.tls).toBe(true);
    expect(m!.helo).toBe('mail.bionicaisolutions.com');
    expect(m!.mailFrom).toBe('alerts@bionicaisolutions.com');
    expect([...m!.rcptTo].sort()).toEqual(['other@example.net', 'someone@example.com']);
    const header = (name: string) => m!.headers.filter(([n]) => n === name).map(([, v]) => v);
    expect(header('x-trace-id')).toEqual(['trace-3.1']);
    expect(header('reply-to')).toEqual(['team@bionicaisolutions.com']);
    expect(header('message-id')).toEqual([sent.messageId]);
    expect(header('from')).toEqual(['Alerts <alerts@bionicaisolutions.com>']);
    expect(header('subject')[0]).toMatch(/^=\?UTF-8\?/i); // encoded by the client, passed through untouched
    expect(header('received')[0]).toMatch(/by mail\.bionicaisolutions\.com \(Postfix\)/);
    expect(m!.body).toContain('.a line that starts with a dot');
    expect(header('content-transfer-encoding')).toEqual(['quoted-printable']);
    expect(m!.body).toContain('last line: caf=C3=A9 =E2=9C=93'); // byte for byte as the client encoded it

    // Postfix verified the relay's certificate (not merely encrypted) and the queue is empty.
    expect(await pf.waitForLog(/Verified TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:\d+/)).toBeTruthy();
    await pf.waitForQueue((q) => q.length === 0, 'an empty queue');
  });

  it('delivers mail sent with swaks, for each allowed sender domain', async () => {
    for (const [i, from] of ['ops@bionicaisolutions.com', 'someone@gmail.com'].entries()) {
      const r = await swaks(pf.port, ['--from', from, '--to', `rcpt${i}@example.org`, '--header', `Subject: swaks ${i}`]);
      expect(r.exitCode, r.transcript).toBe(0);
    }
    const ms = await sink.waitForMessages(2);
    expect(ms.map((m) => m.mailFrom).sort()).toEqual(['ops@bionicaisolutions.com', 'someone@gmail.com']);
    for (const m of ms) {
      expect(m.tls).toBe(true);
      expect(m.helo).toBe('mail.bionicaisolutions.com');
    }
  });

  it('mirrors the Postfix log on the container stdout, as postfix/<service>[pid] lines', async () => {
    const sent = await sendWithNodemailer(pf, { from: 'a@bionicaisolutions.com', to: ['log@example.com'] });
    const id = /queued as ([0-9A-F]+)/.exec(sent.response)![1]!;
    await sink.waitForMessages(1);
    await pf.waitForLog(new RegExp(`${id}: removed`));
    await expect
      .poll(() => pf.output.stdout, { timeout: 5_000 })
      .toMatch(new RegExp(`postfix/smtp\\[\\d+\\]: ${id}: to=<log@example.com>, relay=127\\.0\\.0\\.1.*status=sent`));
  });

  it('reuses TLS connections to the relay through tlsproxy', async () => {
    for (let i = 0; i < 3; i++) await sendWithNodemailer(pf, { from: 'a@bionicaisolutions.com', to: [`reuse${i}@example.com`] });
    await sink.waitForMessages(3);
    expect(pf.log()).toMatch(/postfix\/tlsproxy\[\d+\]: CONNECT to \[127\.0\.0\.1\]:\d+/);
  });
});

describe.skipIf(!ready)('delivery: per-transaction recipient limit of the relay (prod)', () => {
  const env = loadEnvironmentFile('environments/prod.yaml');
  let sink: Sink;
  let pf: PostfixInstance;
  // Let one client message carry 150 recipients; the rendered relay-side limit stays at 100.
  useRelay(env, { postfix: { mainCf: { smtpd_recipient_limit: '250' } } }, (r) => ({ sink, pf } = r));

  it('splits a message into transactions of at most 100 recipients', async () => {
    const to = Array.from({ length: 150 }, (_, i) => `r${i}@example.com`);
    const sent = await sendWithNodemailer(pf, { from: 'bulk@bionicaisolutions.com', to, subject: 'split me' });
    expect(sent.code, sent.response).toBe(250);
    const ms = await sink.waitForMessages(2);
    expect(ms.map((m) => m.rcptTo.length).sort((a, b) => b - a)).toEqual([100, 50]);
    expect(new Set(ms.flatMap((m) => m.rcptTo)).size).toBe(150);
  });
});

describe.skipIf(!ready).each(['dev', 'staging'] as const)('delivery from %s', (name) => {
  const env = loadEnvironmentFile(`environments/${name}.yaml`);
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(env, {}, (r) => ({ sink, pf } = r));

  it(`relays over verified TLS with ${name}'s own HELO name`, async () => {
    const sent = await sendWithNodemailer(pf, { from: 'dev@bionicaisolutions.com', to: ['x@example.com'] });
    expect(sent.code, sent.response).toBe(250);
    const [m] = await sink.waitForMessages(1);
    expect(m!.tls).toBe(true);
    expect(m!.helo).toBe(env.mail.hostname);
    expect(m!.helo).toBe(`mail-${name}.bionicaisolutions.com`);
  });
});
