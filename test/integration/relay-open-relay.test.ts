import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { requireTool, sleep, smtpConversation, type PostfixInstance, type Sink } from './harness';
import { useRelay } from './harness/relay-fixture';

// Issue 3, test 3.3: from a client OUTSIDE mynetworks (source address 127.0.0.2, while
// mynetworks is 127.0.0.1/32), the classic open-relay tricks relay nothing: every recipient is
// refused, nothing is queued and the relay (sink) sees no connection at all.

const ready = requireTool('postfix', 'postfix') && requireTool('openssl', 'openssl');

/** The rendered config minus its first layer (client restrictions): relay restrictions alone must hold too. */
const WITHOUT_CLIENT_LAYER = { smtpd_client_restrictions: '', smtpd_data_restrictions: '' };

const HOST = 'mail.bionicaisolutions.com';

/** [trick, RCPT TO argument]. Each is tried with an allowed sender, the way a spammer would. */
const TRICKS: readonly (readonly [string, string])[] = [
  ['plain foreign recipient', '<victim@example.com>'],
  ['percent hack via our hostname', `<victim%example.com@${HOST}>`],
  ['percent hack via our IP literal', '<victim%example.com@[127.0.0.1]>'],
  ['percent hack via our mail domain', '<victim%example.com@bionicaisolutions.com>'],
  ['quoted local part holding an address', `<"victim@example.com"@${HOST}>`],
  ['quoted local part with percent hack', `<"victim%example.com"@${HOST}>`],
  ['source route through us', `<@${HOST}:victim@example.com>`],
  ['source route with two hops', `<@[127.0.0.1],@${HOST}:victim@example.com>`],
  ['bang path via our hostname', `<example.com!victim@${HOST}>`],
  ['bare bang path', '<example.com!victim>'],
  ['IP literal of a foreign host', '<victim@[192.0.2.10]>'],
  ['IP literal of the relay itself', '<victim@[127.0.0.1]>'],
  ['IPv6 literal', '<victim@[IPv6:::1]>'],
  ['trailing dot on a foreign domain', '<victim@example.com.>'],
  ['trailing dot on our hostname', `<victim@${HOST}.>`],
  ['upper-case foreign domain', '<VICTIM@EXAMPLE.COM>'],
  ['mixed-case own hostname', '<victim@Mail.BionicAISolutions.Com>'],
  ['our own mail domain (not final here either)', '<victim@bionicaisolutions.com>'],
  ['localhost', '<victim@localhost>'],
  ['unqualified local part', '<victim>'],
  ['postmaster without domain', '<postmaster>'],
  ['double @', `<victim@example.com@${HOST}>`],
  ['escaped @ in local part', `<victim\\@example.com@${HOST}>`],
  ['no angle brackets', 'victim@example.com'],
];

const VARIANTS = [
  ['the rendered prod config', {}, /554 5\.7\.1 <unknown\[127\.0\.0\.2\]>: Client host rejected: Relay access denied: client address not in network\.mynetworks/],
  // Defence in depth: take away the client and data layers and the relay restrictions still hold.
  ['relay restrictions alone', WITHOUT_CLIENT_LAYER, /554 5\.7\.1 <victim@example\.com>: Relay access denied/],
] as const;

describe.skipIf(!ready).each(VARIANTS)('open-relay battery from outside mynetworks: %s', (variant, mainCf, rejectLine) => {
  const env = loadEnvironmentFile('environments/prod.yaml');
  const layered = variant === 'the rendered prod config';
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(env, { postfix: { mainCf } }, (r) => ({ sink, pf } = r));

  it(`has at least 15 tricks (${TRICKS.length})`, () => {
    expect(TRICKS.length).toBeGreaterThanOrEqual(15);
  });

  const tricks = layered ? TRICKS : TRICKS.filter(([, rcpt]) => rcpt !== '<postmaster>');
  it.each(tricks)('refuses the %s trick (RCPT TO:%s)', async (_name, rcpt) => {
    const replies = await smtpConversation(
      pf.port,
      ['EHLO attacker.example', 'MAIL FROM:<ceo@bionicaisolutions.com>', `RCPT TO:${rcpt}`, 'DATA', 'Subject: relay test\r\n\r\nspam\r\n.', 'QUIT'],
      { localAddress: pf.outsideAddress },
    );
    expect(replies[0]!.code).toBe(220);
    expect(replies[2]!.code, replies[2]!.text).toBe(250); // MAIL FROM is not where relaying is decided
    if (rcpt === '<postmaster>') {
      // RFC 5321 makes smtpd accept the bare postmaster before any restriction; DATA refuses it.
      expect(replies[3]!.code).toBe(250);
      expect(replies[4]!.text).toMatch(/^554 5\.7\.1 <unknown\[127\.0\.0\.2\]>: Client host rejected: Relay access denied: client address not in network\.mynetworks/);
    } else {
      expect(replies[3]!.code, `RCPT TO:${rcpt} -> ${replies[3]!.text}`).toBeGreaterThanOrEqual(500);
      expect(replies[4]!.code, `DATA after refused RCPT -> ${replies[4]!.text}`).toBeGreaterThanOrEqual(500);
    }
  });

  it('refuses even with a null sender or an unlisted sender', async () => {
    for (const from of ['<>', '<x@example.org>']) {
      const replies = await smtpConversation(pf.port, ['EHLO attacker.example', `MAIL FROM:${from}`, 'RCPT TO:<victim@example.com>', 'QUIT'], {
        localAddress: pf.outsideAddress,
      });
      expect(replies[3]!.code, replies[3]!.text).toBeGreaterThanOrEqual(500);
    }
  });

  it('relayed nothing: the log shows the outside client refused, the queue is empty and the relay saw no connection', async () => {
    await pf.waitForLog(new RegExp(`reject: RCPT from unknown\\[127\\.0\\.0\\.2\\]: ${rejectLine.source}`));
    await sleep(1_000); // give a wrongly accepted message time to reach the sink
    expect(pf.queue()).toEqual([]);
    expect(sink.connections).toBe(0);
    expect(sink.messages).toEqual([]);
    expect(pf.log()).not.toMatch(/status=sent|queued as|postfix\/qmgr\[\d+\]: [0-9A-F]+: from=/); // nothing reached the queue manager
  });

  if (layered) {
    it('refuses RCPT TO:<postmaster> followed by BDAT (CHUNKING) just like DATA', async () => {
      const data = 'Subject: x\r\n\r\ny';
      const replies = await smtpConversation(
        pf.port,
        ['EHLO attacker.example', 'MAIL FROM:<ceo@bionicaisolutions.com>', 'RCPT TO:<postmaster>', `BDAT ${data.length + 2} LAST\r\n${data}`, 'QUIT'],
        { localAddress: pf.outsideAddress },
      );
      expect(replies[1]!.text).toContain('CHUNKING');
      expect(replies[4]!.text).toMatch(/^554 5\.7\.1 <unknown\[127\.0\.0\.2\]>: Client host rejected: Relay access denied: client address not in network\.mynetworks/);
    });
  }

  if (!layered) {
    it('would take RCPT TO:<postmaster> from outside without the data layer (why smtpd_data_restrictions exists)', async () => {
      const replies = await smtpConversation(
        pf.port,
        ['EHLO attacker.example', 'MAIL FROM:<ceo@bionicaisolutions.com>', 'RCPT TO:<postmaster>', 'DATA', 'Subject: x\r\n\r\ny\r\n.', 'QUIT'],
        { localAddress: pf.outsideAddress },
      );
      expect(replies[3]!.code).toBe(250);
      expect(replies[5]!.code).toBe(250); // queued: it would go out to postmaster@bionicaisolutions.com
      const [m] = await sink.waitForMessages(1);
      expect(m!.rcptTo).toEqual(['postmaster@bionicaisolutions.com']);
    });
  }
});
