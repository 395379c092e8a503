import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import {
  requireTool,
  sendWithNodemailer,
  smtpConversation,
  startPostfix,
  swaks,
  type PostfixInstance,
  type Sink,
  type TestPki,
} from './harness';
import { useRelay } from './harness/relay-fixture';

// Issue 3, tests 3.2 (sender allowlist, null sender) and 3.6 (size and recipient limits), on
// the rendered prod files; dev where it differs (gmail.com is allowed only in prod).

const ready = requireTool('postfix', 'postfix') && requireTool('swaks', 'swaks') && requireTool('openssl', 'openssl');

describe.skipIf(!ready)('refusals (prod)', () => {
  const env = loadEnvironmentFile('environments/prod.yaml');
  let pki: TestPki;
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(env, { clearSinkEachTest: true }, (r) => ({ pki, sink, pf } = r));

  describe('3.2 sender domains', () => {
    it.each([
      ['a domain that is not allowed', 'someone@example.org'],
      ['a subdomain of an allowed domain', 'someone@sub.bionicaisolutions.com'],
      ['a deeper subdomain', 'a@x.y.bionicaisolutions.com'],
      ['an allowed domain as a prefix', 'a@bionicaisolutions.com.evil.example'],
      ['an allowed domain as a suffix', 'a@evilbionicaisolutions.com'],
      ['a subdomain of gmail.com', 'a@mail.gmail.com'],
    ])('refuses %s with 5xx (%s)', async (_what, from) => {
      const r = await sendWithNodemailer(pf, { from, to: ['x@example.com'] });
      expect(r.ok).toBe(false);
      expect(r.code, r.response).toBe(554);
      expect(r.response).toMatch(/5\.7\.1 .*Sender address rejected: Sender domain not allowed by this relay \(allowed: bionicaisolutions\.com gmail\.com\)/);
    });

    it('refuses the null sender with 5xx', async () => {
      const r = await swaks(pf.port, ['--from', '<>', '--to', 'x@example.com']);
      expect(r.exitCode, r.transcript).toBe(24); // swaks: refused at RCPT
      expect(r.transcript).toMatch(/<\*\* 554 5\.7\.1 <>: Sender address rejected: The null sender is not accepted by this relay/);
    });

    it('refuses an unqualified sender with 5xx', async () => {
      const replies = await smtpConversation(pf.port, ['EHLO client.test.example', 'MAIL FROM:<root>', 'RCPT TO:<x@example.com>', 'QUIT']);
      expect(replies[3]!.code, replies[3]!.text).toBe(504);
    });

    it('accepts an allowed domain in any letter case', async () => {
      const r = await sendWithNodemailer(pf, { from: 'Ops@BionicAISolutions.COM', to: ['x@example.com'] });
      expect(r.code, r.response).toBe(250);
      await sink.waitForMessages(1);
    });

    it('relays nothing that was refused', async () => {
      for (const from of ['a@example.org', 'a@sub.bionicaisolutions.com']) await sendWithNodemailer(pf, { from, to: ['x@example.com'] });
      await pf.waitForLog(/NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 554 5\.7\.1 <a@sub\.bionicaisolutions\.com>/);
      expect(pf.queue()).toEqual([]);
      expect(sink.mailFroms).toEqual([]);
    });
  });

  describe('3.6 size and recipient limits', () => {
    const limit = env.mail.messageSizeLimitBytes;

    it('refuses a message declared larger than message_size_limit at MAIL FROM with 552 5.3.4', async () => {
      const replies = await smtpConversation(pf.port, ['EHLO client.test.example', `MAIL FROM:<big@bionicaisolutions.com> SIZE=${limit + 1}`, 'QUIT']);
      expect(replies[1]!.text).toContain(`SIZE ${limit}`); // advertised in EHLO
      expect(replies[2]!.code).toBe(552);
      expect(replies[2]!.text).toMatch(/^552 5\.3\.4 Message size exceeds fixed limit/);
    });

    it('refuses an undeclared oversize message at end of DATA with 552 5.3.4, and queues nothing', async () => {
      const line = 'x'.repeat(998);
      const lines = Math.ceil((limit + 10_000) / 1000);
      const data = ['Subject: too big', '', ...Array.from({ length: lines }, () => line), '.'].join('\r\n');
      const replies = await smtpConversation(
        pf.port,
        ['EHLO client.test.example', 'MAIL FROM:<big@bionicaisolutions.com>', 'RCPT TO:<x@example.com>', 'DATA', data, 'QUIT'],
        { timeoutMs: 60_000 },
      );
      expect(replies[4]!.code).toBe(354);
      expect(replies[5]!.text).toMatch(/^552 5\.3\.4 Error: message file too big/);
      expect(pf.queue()).toEqual([]);
    });

    it('accepts and relays a message just under the limit', async () => {
      const line = 'y'.repeat(998);
      const lines = Math.floor((limit - 200_000) / 1000);
      const data = ['Subject: large but allowed', '', ...Array.from({ length: lines }, () => line), '.'].join('\r\n');
      const replies = await smtpConversation(
        pf.port,
        ['EHLO client.test.example', 'MAIL FROM:<big@bionicaisolutions.com>', 'RCPT TO:<x@example.com>', 'DATA', data, 'QUIT'],
        { timeoutMs: 60_000 },
      );
      expect(replies[5]!.code, replies[5]!.text).toBe(250);
      const [m] = await sink.waitForMessages(1, 30_000);
      expect(m!.raw.length).toBeGreaterThan(limit - 200_000);
    });

    it(`takes ${env.mail.maxRecipientsPerMessage} recipients per message and answers 452 4.5.3 to the next`, async () => {
      const max = env.mail.maxRecipientsPerMessage;
      const rcpts = Array.from({ length: max + 1 }, (_, i) => `RCPT TO:<r${i}@example.com>`);
      const replies = await smtpConversation(pf.port, ['EHLO client.test.example', 'MAIL FROM:<many@bionicaisolutions.com>', ...rcpts, 'RSET', 'QUIT']);
      const rcptReplies = replies.slice(3, 3 + max + 1);
      expect(rcptReplies.slice(0, max).every((r) => r.code === 250)).toBe(true);
      expect(rcptReplies[max]!.text).toMatch(/^452 4\.5\.3 Error: too many recipients/);
    });
  });

  describe('client rate limits apply to clients inside mynetworks', () => {
    it('answers 450 4.7.1 once a client exceeds its message rate', async () => {
      // Same rendered restrictions (exceptions list empty), with a rate small enough to reach quickly.
      const limited = await startPostfix({
        env,
        relay: { port: sink.port },
        caFile: pki.caFile,
        mainCf: { smtpd_client_message_rate_limit: '3' },
      });
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await sendWithNodemailer(limited, { from: 'rate@bionicaisolutions.com', to: [`r${i}@example.com`] }));
      expect(results.slice(0, 3).map((r) => r.code)).toEqual([250, 250, 250]);
      expect(results[3]!.code).toBe(450);
      expect(results[3]!.response).toMatch(/4\.7\.1 Error: too much mail from 127\.0\.0\.1/);
      await limited.stop();
    });
  });
});

describe.skipIf(!ready)('refusals where environments differ (dev)', () => {
  const env = loadEnvironmentFile('environments/dev.yaml');
  let pf: PostfixInstance;
  useRelay(env, {}, (r) => ({ pf } = r));

  it('refuses gmail.com senders, which only prod allows, with the same 5xx as prod (soft_bounce does not soften refusals)', async () => {
    const refused = await sendWithNodemailer(pf, { from: 'a@gmail.com', to: ['x@example.com'] });
    expect(refused.code).toBe(554);
    expect(refused.response).toContain('(allowed: bionicaisolutions.com)');
    const accepted = await sendWithNodemailer(pf, { from: 'a@bionicaisolutions.com', to: ['x@example.com'] });
    expect(accepted.code).toBe(250);
  });
});
