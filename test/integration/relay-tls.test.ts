import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { requireTool, sendWithNodemailer, type PostfixInstance, type Sink, type SinkMode } from './harness';
import { useRelay } from './harness/relay-fixture';

// Issue 3, test 3.4: a relay that offers no STARTTLS, or whose certificate does not verify,
// gets nothing in clear text: the mail stays deferred with the reason, and is delivered exactly
// once when a good relay is back. TLS settings are identical in every environment (unit tests).

const ready = requireTool('postfix', 'postfix') && requireTool('openssl', 'openssl');

const BAD_RELAYS: readonly (readonly [SinkMode, RegExp])[] = [
  ['no-starttls', /TLS is required, but was not offered by host 127\.0\.0\.1/],
  ['wrong-name', /Server certificate not verified/],
  ['self-signed', /Server certificate not verified/],
];

describe.skipIf(!ready)('TLS to the relay is verified, never optional (prod)', () => {
  const env = loadEnvironmentFile('environments/prod.yaml');
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(env, { sink: { mode: 'down' } }, (r) => ({ sink, pf } = r));

  it.each(BAD_RELAYS)('keeps mail deferred when the relay is %s, sends nothing in clear, then delivers it once', async (mode, reason) => {
    await sink.setMode(mode);
    sink.clear();
    const subject = `tls ${mode} ${Date.now()}`;
    const sent = await sendWithNodemailer(pf, { from: 'a@bionicaisolutions.com', to: ['x@example.com'], subject });
    expect(sent.code, sent.response).toBe(250);
    const id = /queued as ([0-9A-F]+)/.exec(sent.response)![1]!;

    const [entry] = await pf.waitForQueue(
      (q) => q.some((e) => e.queue_id === id && e.queue_name === 'deferred'),
      `message ${id} deferred`,
    );
    expect(entry!.recipients[0]!.delay_reason).toMatch(reason);
    expect(sink.connections).toBeGreaterThan(0); // Postfix did try this relay...
    expect(sink.mailFroms).toEqual([]); // ...and sent it no MAIL FROM, in clear or otherwise
    expect(sink.messages).toEqual([]);
    expect(pf.log()).not.toMatch(new RegExp(`${id}: .*status=(sent|bounced)`));

    await sink.setMode('good');
    pf.flush();
    const [m] = await sink.waitForMessages(1);
    expect(m!.tls).toBe(true);
    expect(m!.headers.find(([n]) => n === 'subject')?.[1]).toBe(subject);
    await pf.waitForQueue((q) => q.length === 0, 'an empty queue');
    await pf.waitForLog(new RegExp(`${id}: removed`));
    expect(sink.messages.length).toBe(1);
  });
});

describe.skipIf(!ready)('TLS: the tests above can tell secure from merely encrypted', () => {
  const env = loadEnvironmentFile('environments/prod.yaml');
  let sink: Sink;
  let pf: PostfixInstance;
  useRelay(env, { sink: { mode: 'wrong-name' }, postfix: { mainCf: { smtp_tls_security_level: 'encrypt' } } }, (r) => ({ sink, pf } = r));

  it('with smtp_tls_security_level = encrypt the same wrong certificate WOULD get the mail', async () => {
    await sendWithNodemailer(pf, { from: 'a@bionicaisolutions.com', to: ['x@example.com'] });
    const [m] = await sink.waitForMessages(1);
    expect(m!.tls).toBe(true); // encrypted, to a relay nobody authenticated
    expect(pf.log()).toMatch(/Untrusted TLS connection established|Trusted TLS connection established/);
  });
});
