/**
 * Issue 14, mail.rewrite and mail.stripReceivedHeaders on real Postfix, judged by what the
 * STARTTLS sink receives: envelope sender and header From: rewritten to the registered address
 * (exact address before its domain), subdomains masqueraded, recipients untouched; a refused
 * sender stays refused even when a rewrite rule would turn it into an allowed one (the allowlist
 * judges what the client sent); Received: headers removed as configured.
 */
import { describe, expect, it } from 'vitest';
import { requireTool, sendWithNodemailer, type PostfixInstance, type Sink } from './harness';
import type { ReceivedMessage } from './harness/sink';
import { useRelay } from './harness/relay-fixture';
import { environmentVariant } from './support/env-variant';

const ready = requireTool('postfix', 'postfix') && requireTool('openssl', 'openssl');

const REGISTERED = 'relay@bionicaisolutions.com';
const env = environmentVariant('environments/prod.yaml', 'prod-rewrite', {
  mail: {
    allowedSenderDomains: ['bionicaisolutions.com', 'gmail.com', 'apps.bionicaisolutions.com'],
    rewrite: {
      senders: [
        { from: 'noreply@bionicaisolutions.com', to: REGISTERED },
        { from: '@gmail.com', to: REGISTERED },
        { from: 'billing@gmail.com', to: 'billing@bionicaisolutions.com' },
      ],
      masqueradeDomains: ['bionicaisolutions.com'],
    },
    // Shares smtp_header_checks with the Reply-To restore: both rules must work together.
    stripReceivedHeaders: 'relay',
  },
});

// Clients send from 127.0.0.2, inside mynetworks but not an address Postfix listens on: like a
// pod, not "local" by Postfix' default (permit_inet_interfaces), which would hide whether
// local_header_rewrite_clients does its job.
const CLIENT = '127.0.0.2';
const MYNETWORKS = { mynetworks: '127.0.0.0/29' };

const header = (m: ReceivedMessage, name: string) => m.headers.filter(([n]) => n === name).map(([, v]) => v);

async function relayed(pf: PostfixInstance, sink: Sink, from: string, headers: Record<string, string> = {}, to = ['x@example.com']): Promise<ReceivedMessage> {
  const subject = `rewrite ${from} ${Date.now()}`;
  const sent = await sendWithNodemailer(pf, { from: headers.From ?? from, to, subject, headers }, { envelopeFrom: from, localAddress: CLIENT });
  expect(sent.code, sent.response).toBe(250);
  const messages = await sink.waitForMessages(1);
  return messages.find((m) => header(m, 'subject')[0] === subject)!;
}

describe.skipIf(!ready)('mail.rewrite: what the relay receives', () => {
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(env, { clearSinkEachTest: true, postfix: { mainCf: MYNETWORKS } }, (r) => ({ sink, pf } = r));

  it('rewrites an exact address, in the envelope and in From:, keeping the display name', async () => {
    const m = await relayed(pf, sink, 'noreply@bionicaisolutions.com', { From: 'Alerts <noreply@bionicaisolutions.com>' });
    expect(m.mailFrom).toBe(REGISTERED);
    expect(header(m, 'from')).toEqual([`Alerts <${REGISTERED}>`]);
  });

  it('rewrites every sender of a whole domain, and an exact rule wins over its domain', async () => {
    const any = await relayed(pf, sink, 'someone@gmail.com');
    expect(any.mailFrom).toBe(REGISTERED);
    expect(header(any, 'from')).toEqual([REGISTERED]);
    sink.clear();
    const exact = await relayed(pf, sink, 'billing@gmail.com');
    expect(exact.mailFrom).toBe('billing@bionicaisolutions.com');
    expect(header(exact, 'from')).toEqual(['billing@bionicaisolutions.com']);
  });

  it('rewrites header From: also when the envelope sender needs no rewriting', async () => {
    const m = await relayed(pf, sink, 'a@bionicaisolutions.com', { From: 'noreply@bionicaisolutions.com' });
    expect(m.mailFrom).toBe('a@bionicaisolutions.com');
    expect(header(m, 'from')).toEqual([REGISTERED]);
  });

  it('rewrites Sender: too, but not Reply-To: (replies still reach the address the application chose)', async () => {
    const replyTo = '"Support, Team" <someone@gmail.com>, noreply@bionicaisolutions.com';
    const m = await relayed(pf, sink, 'a@gmail.com', { Sender: 'noreply@bionicaisolutions.com', 'Reply-To': replyTo });
    expect(m.mailFrom).toBe(REGISTERED);
    expect(header(m, 'sender')).toEqual([REGISTERED]);
    expect(header(m, 'reply-to')).toEqual([replyTo]);
    expect(m.raw).not.toMatch(/X-Relay-Original-Reply-To/i);
    expect(header(m, 'received')).toEqual([]); // stripReceivedHeaders: relay, in the same smtp_header_checks
  });

  it('leaves other senders and every recipient (envelope, To:, Cc:) as the client wrote them', async () => {
    const m = await relayed(pf, sink, 'a@bionicaisolutions.com', { Cc: 'friend@gmail.com' }, ['noreply@bionicaisolutions.com', 'friend@gmail.com', 'u@apps.bionicaisolutions.com']);
    expect(m.mailFrom).toBe('a@bionicaisolutions.com');
    expect(header(m, 'from')).toEqual(['a@bionicaisolutions.com']);
    expect([...m.rcptTo].sort()).toEqual(['friend@gmail.com', 'noreply@bionicaisolutions.com', 'u@apps.bionicaisolutions.com']);
    expect(header(m, 'to')[0]).toContain('noreply@bionicaisolutions.com');
    expect(header(m, 'to')[0]).toContain('u@apps.bionicaisolutions.com');
    expect(header(m, 'cc')).toEqual(['friend@gmail.com']);
  });

  it('masquerades a subdomain sender (envelope and From:)', async () => {
    const m = await relayed(pf, sink, 'app@apps.bionicaisolutions.com');
    expect(m.mailFrom).toBe('app@bionicaisolutions.com');
    expect(header(m, 'from')).toEqual(['app@bionicaisolutions.com']);
  });

  it('masquerades a header sender in any subdomain (the envelope sender was allowed as sent)', async () => {
    const m = await relayed(pf, sink, 'a@bionicaisolutions.com', { From: 'x@build.ci.bionicaisolutions.com' });
    expect(m.mailFrom).toBe('a@bionicaisolutions.com');
    expect(header(m, 'from')).toEqual(['x@bionicaisolutions.com']);
  });

  it('refuses a sender outside the allowlist exactly as without rewriting', async () => {
    for (const from of ['someone@example.org', 'someone@mail.gmail.com']) {
      const sent = await sendWithNodemailer(pf, { from, to: ['x@example.com'] }, { localAddress: CLIENT });
      expect(sent.code, sent.response).toBe(554);
      expect(sent.response).toMatch(/Sender domain not allowed by this relay/);
    }
    expect(sink.mailFroms).toEqual([]);
  });
});

describe.skipIf(!ready)('mail.rewrite: the allowlist judges what the client sent, not the rewritten address', () => {
  // A rule the schema would refuse (its domain is not allowed), forced into main.cf: it maps a
  // refused sender onto an allowed, registered address. The sender must still be refused.
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(
    env,
    { clearSinkEachTest: true, postfix: { mainCf: { ...MYNETWORKS, sender_canonical_maps: `inline:{ @example.org=${REGISTERED}, noreply@bionicaisolutions.com=${REGISTERED} }` } } },
    (r) => ({ sink, pf } = r),
  );

  it('still refuses someone@example.org, whose rewritten address would be allowed', async () => {
    const sent = await sendWithNodemailer(pf, { from: 'someone@example.org', to: ['x@example.com'] }, { localAddress: CLIENT });
    expect(sent.code, sent.response).toBe(554);
    expect(sent.response).toMatch(/Sender domain not allowed by this relay/);
    expect(sink.mailFroms).toEqual([]);
    expect(pf.queue()).toEqual([]);
  });
});

describe.skipIf(!ready)('mail.rewrite: the tests above can tell (Postfix default local_header_rewrite_clients)', () => {
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(env, { clearSinkEachTest: true, postfix: { mainCf: { ...MYNETWORKS, local_header_rewrite_clients: 'permit_inet_interfaces' } } }, (r) => ({ sink, pf } = r));

  it('rewrites the envelope but NOT header From: of mail from a cluster client', async () => {
    const m = await relayed(pf, sink, 'noreply@bionicaisolutions.com');
    expect(m.mailFrom).toBe(REGISTERED);
    expect(header(m, 'from')).toEqual(['noreply@bionicaisolutions.com']);
  });
});

describe.skipIf(!ready)('mail.rewrite: the Reply-To test can tell (no header_checks)', () => {
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(env, { clearSinkEachTest: true, postfix: { mainCf: { ...MYNETWORKS, header_checks: '' } } }, (r) => ({ sink, pf } = r));

  it('without the header_checks pair Postfix WOULD rewrite Reply-To:', async () => {
    const m = await relayed(pf, sink, 'a@bionicaisolutions.com', { 'Reply-To': 'someone@gmail.com' });
    expect(header(m, 'reply-to')).toEqual([REGISTERED]);
  });
});

const CLIENT_RECEIVED = 'from app-7d9f8c6b5d-x2x9q (app-7d9f8c6b5d-x2x9q [10.42.3.17]) by mta.app.svc.cluster.local (Postfix) with ESMTP id ABC123; Sun, 6 Dec 2026 03:00:00 +0000';

describe.skipIf(!ready).each([
  ['none', 2],
  ['relay', 1],
  ['all', 0],
] as const)('mail.stripReceivedHeaders: %s', (strip, count) => {
  const variant = environmentVariant('environments/prod.yaml', `prod-received-${strip}`, { mail: { stripReceivedHeaders: strip } });
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(variant, { clearSinkEachTest: true, postfix: { mainCf: MYNETWORKS } }, (r) => ({ sink, pf } = r));

  it(`leaves ${count} of the 2 Received: headers (the client's and this relay's) in the relayed message`, async () => {
    const m = await relayed(pf, sink, 'a@bionicaisolutions.com', { Received: CLIENT_RECEIVED });
    const received = header(m, 'received');
    expect(received.length, received.join('\n')).toBe(count);
    if (strip === 'none') expect(received[0]).toMatch(/^from client\.test\.example \(unknown \[127\.0\.0\.2\]\) by mail\.bionicaisolutions\.com \(Postfix\)/);
    if (strip === 'relay') expect(received).toEqual([CLIENT_RECEIVED]);
    if (strip !== 'none') expect(m.raw).not.toContain(CLIENT);
    expect(header(m, 'subject')[0]).toMatch(/^rewrite /); // the rest of the message is intact
    expect(m.body).toBe('hello\r\n');
  });
});
