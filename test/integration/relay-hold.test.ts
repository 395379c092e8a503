import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import {
  requireTool,
  sendWithNodemailer,
  startSink,
  type PostfixInstance,
  type Sink,
  type TestPki,
} from './harness';
import { useRelay } from './harness/relay-fixture';

// Gmail's refusals that mean a problem on OUR side (an egress IP that is not registered:
// 550 5.7.0 Mail relay denied; a sender's daily quota: 550 5.4.5) must not bounce mail in prod:
// mail.holdRelayRefusals turns them into 4xx so it waits in the queue, and is delivered, exactly
// once, when the cause is fixed. A refusal of the message itself (5.1.1) still bounces.
const ready = requireTool('postfix', 'postfix') && requireTool('openssl', 'openssl');

describe.skipIf(!ready)('Gmail refusals caused by our side (prod)', () => {
  const env = loadEnvironmentFile('environments/prod.yaml');
  let pki: TestPki;
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(
    env,
    {
      sink: {
        recipientReplies: [
          { match: /^denied@/, code: 550, text: '5.7.0 Mail relay denied [203.0.113.7]. Invalid credentials for relay' },
          { match: /^quota@/, code: 550, text: '5.4.5 Daily SMTP relay limit exceeded for user' },
        ],
        rejectRecipients: /^nobody@/,
      },
    },
    (r) => ({ pki, sink, pf } = r),
  );

  it('keeps 5.7.0 and 5.4.5 refusals queued, bounces 5.1.1, and delivers the held mail once the relay accepts', async () => {
    const ids: Record<string, string> = {};
    for (const to of ['denied@example.com', 'quota@example.com', 'nobody@example.com']) {
      const sent = await sendWithNodemailer(pf, { from: 'app@bionicaisolutions.com', to: [to], subject: `to ${to}` });
      ids[to] = /queued as ([0-9A-F]+)/.exec(sent.response)![1]!;
    }
    await pf.waitForLog(new RegExp(`${ids['denied@example.com']}: to=<denied@example.com>.*dsn=4\\.7\\.0, status=deferred`));
    await pf.waitForLog(new RegExp(`${ids['quota@example.com']}: to=<quota@example.com>.*dsn=4\\.4\\.5, status=deferred`));
    await pf.waitForLog(new RegExp(`${ids['nobody@example.com']}: to=<nobody@example.com>.*dsn=5\\.1\\.1, status=bounced`));

    const held = await pf.waitForQueue((q) => q.length === 2, 'the two held messages');
    expect(held.map((e) => e.queue_id).sort()).toEqual([ids['denied@example.com'], ids['quota@example.com']].sort());
    expect(held.every((e) => e.queue_name === 'deferred')).toBe(true);
    expect(held.flatMap((e) => e.recipients.map((r) => r.delay_reason ?? ''))).toEqual(
      expect.arrayContaining([expect.stringContaining('4.7.0 Mail relay denied'), expect.stringContaining('4.4.5 Daily SMTP relay limit')]),
    );
    expect(pf.log()).not.toMatch(/to=<(denied|quota)@example\.com>.*status=bounced/);

    // The egress IP gets registered, the quota resets: the same relay now accepts.
    const port = sink.port;
    await sink.stop();
    sink = await startSink({ pki, mode: 'good', port });
    pf.flush();
    const delivered = await sink.waitForMessages(2, 60_000);
    expect(delivered.flatMap((m) => m.rcptTo).sort()).toEqual(['denied@example.com', 'quota@example.com']);
    await pf.waitForQueue((q) => q.length === 0, 'an empty queue');
    expect(sink.messages).toHaveLength(2);
  });
});
